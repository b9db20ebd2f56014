"""LUKS2 volumes opened without device-mapper (libluksde reads LUKS1 only).

What cryptsetup does to open a LUKS2 key slot, read-only and in memory: the passphrase through the
slot's KDF (PBKDF2 or Argon2i/Argon2id), the slot's key material decrypted (AES-XTS), merged by the
anti-forensic splitter (AF, LUKS1 spec §2.4), checked against the digest (PBKDF2); then the data
segment is decrypted sector by sector, in bulk (luks_ciphers: AES-XTS, AES-CBC with plain, plain64 or
ESSIV IVs, AES-ECB); another cipher gets one clear line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Any

from .encryption import Read
from .external import ExternalImg
from .luks_ciphers import SUPPORTED, CipherError, check, decrypt

SECTOR = 512
MAX_JSON = 4 * 1024 * 1024
# a crafted header must not make the examiner's machine hang or run out of memory; cryptsetup's own
# limits are below these (Argon2 memory ≤ 4 GiB, its default 1 GiB; PBKDF2 benchmarked to ~2 s)
MAX_ITERATIONS = 50_000_000
MAX_ARGON2_KIB = 4 * 1024 * 1024
MAX_ARGON2_TIME = 1000
MAX_KEY_MATERIAL = 64 * 1024 * 1024


class Luks2Error(Exception):
    """The header cannot be used (one line for the examiner)."""


@dataclass
class Header:
    meta: dict[str, Any]
    offset: int          # the data segment's byte offset in the volume
    size: int | None     # its size, None: to the end of the volume
    sector_size: int
    iv_tweak: int
    cipher: str


def read_header(read: Read) -> Header:
    head = read(0, 4096)
    if head[:6] != b"LUKS\xba\xbe" or struct.unpack_from(">H", head, 6)[0] != 2:
        raise Luks2Error("not a LUKS2 header")
    size = struct.unpack_from(">Q", head, 8)[0]
    if not 4096 < size <= MAX_JSON + 4096:
        raise Luks2Error(f"implausible LUKS2 header size {size}")
    area = read(4096, size - 4096)
    algo = head[72:104].split(b"\0", 1)[0].decode("ascii", "replace")
    if algo in hashlib.algorithms_available:  # the header's own checksum: a damaged header is named so
        digest = hashlib.new(algo, head[:448] + bytes(64) + head[512:] + area).digest()
        if digest != head[448:448 + len(digest)]:
            raise Luks2Error("the header's checksum does not match: the header is damaged (a backup header "
                             "may exist in the key-slot area; cryptsetup repair works on a copy)")
    meta = json.loads(area.split(b"\0", 1)[0])
    segment = meta["segments"]["0"]
    length = None if segment.get("size") == "dynamic" else int(segment["size"])
    return Header(meta, int(segment["offset"]), length, int(segment.get("sector_size", SECTOR)),
                  int(segment.get("iv_tweak", 0)), str(segment.get("encryption")))


def unlock(read: Read, header: Header, password: bytes) -> bytes | None:
    """The volume key, or None when the passphrase opens no key slot."""
    try:
        check(header.cipher)
    except CipherError as exc:
        raise Luks2Error(str(exc)) from None
    digests = list(header.meta.get("digests", {}).values())
    for slot_id, slot in sorted(header.meta.get("keyslots", {}).items()):
        if slot.get("type") != "luks2" or slot.get("area", {}).get("encryption") not in SUPPORTED:
            continue
        key = _slot_key(read, slot, password)
        for digest in digests:
            if slot_id in digest.get("keyslots", []) and _check(digest, key):
                return key
    return None


def _slot_key(read: Read, slot: dict[str, Any], password: bytes) -> bytes:
    kdf, area, af = slot["kdf"], slot["area"], slot["af"]
    area_key = int(area["key_size"])
    salt = base64.b64decode(kdf["salt"])
    key_size, stripes = int(slot["key_size"]), int(af["stripes"])
    if not (0 < area_key <= 128 and 0 < key_size <= 128 and 0 < key_size * stripes <= MAX_KEY_MATERIAL
            and int(kdf.get("iterations", 1)) <= MAX_ITERATIONS and int(kdf.get("memory", 0)) <= MAX_ARGON2_KIB
            and int(kdf.get("time", 1)) <= MAX_ARGON2_TIME):
        raise Luks2Error("a key slot asks for key sizes or KDF costs beyond what cryptsetup makes: refused")
    if kdf["type"] == "pbkdf2":
        derived = hashlib.pbkdf2_hmac(kdf["hash"], password, salt, int(kdf["iterations"]), area_key)
    elif kdf["type"] in ("argon2id", "argon2i"):
        from cryptography.hazmat.primitives.kdf import argon2

        algo = argon2.Argon2id if kdf["type"] == "argon2id" else getattr(argon2, "Argon2i", None)
        if algo is None:
            raise Luks2Error("argon2i key slots are not supported by this cryptography version")
        derived = algo(salt=salt, length=area_key, iterations=int(kdf["time"]), lanes=int(kdf["cpus"]),
                       memory_cost=int(kdf["memory"])).derive(password)
    else:
        raise Luks2Error(f"key slot KDF {kdf['type']} is not supported")
    length = (key_size * stripes + SECTOR - 1) // SECTOR * SECTOR
    material = decrypt(str(area["encryption"]), derived, read(int(area["offset"]), length), 0, SECTOR)
    return _af_merge(material[:key_size * stripes], key_size, stripes, af.get("hash", "sha256"))


def _check(digest: dict[str, Any], key: bytes) -> bool:
    if digest.get("type") != "pbkdf2":
        return False
    want = base64.b64decode(digest["digest"])
    if int(digest["iterations"]) > MAX_ITERATIONS:
        raise Luks2Error("the key digest asks for more PBKDF2 iterations than cryptsetup makes: refused")
    got = hashlib.pbkdf2_hmac(digest["hash"], key, base64.b64decode(digest["salt"]), int(digest["iterations"]),
                              len(want))
    return got == want


def _af_merge(material: bytes, key_size: int, stripes: int, hash_name: str) -> bytes:
    block = bytes(key_size)
    for i in range(stripes - 1):
        mixed = bytes(a ^ b for a, b in zip(block, material[i * key_size:(i + 1) * key_size]))
        block = _diffuse(mixed, hash_name)
    last = material[(stripes - 1) * key_size:stripes * key_size]
    return bytes(a ^ b for a, b in zip(block, last))


def _diffuse(data: bytes, hash_name: str) -> bytes:
    size = hashlib.new(hash_name).digest_size
    out = b""
    for i in range(0, len(data), size):
        chunk = data[i:i + size]
        out += hashlib.new(hash_name, struct.pack(">I", i // size) + chunk).digest()[:len(chunk)]
    return out


class Luks2Img(ExternalImg):
    """The decrypted data segment as a pytsk3 image (no lock: reads are pure functions of the key)."""

    WHAT = "volume"
    LOCKED = False

    def __init__(self, read: Read, length: int, header: Header, key: bytes) -> None:
        self._read, self._header, self._key = read, header, key
        super().__init__(header.size if header.size is not None else length - header.offset)

    def _read_at(self, offset: int, size: int) -> bytes:
        ss = self._header.sector_size
        first = offset // ss
        end = (offset + size + ss - 1) // ss
        data = self._read(self._header.offset + first * ss, (end - first) * ss)
        # LUKS2's plain64 IV counts 512-byte units whatever the sector size (no iv_large_sectors)
        plain = decrypt(self._header.cipher, self._key, data, first * (ss // SECTOR) + self._header.iv_tweak, ss,
                        ss // SECTOR)
        skip = offset - first * ss
        return plain[skip:skip + size]
