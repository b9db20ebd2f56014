"""Encrypted volumes: recognised on every volume (whether a file system opens or not), described
with their type and key protectors, and opened when the examiner gives a key.

Signatures (checked before any file system is opened, so a BitLocker To Go stick is not taken for
the FAT32 "discovery volume" Windows puts in front of its encrypted data):

- BitLocker: `-FVE-FS-` at byte 3 (Vista and Windows 7+ volumes); BitLocker To Go: `MSWIN4.1` at
  byte 3 and, at the FVE metadata offset stored at byte 440, a `-FVE-FS-` metadata block;
- LUKS 1 and 2: `LUKS\\xba\\xbe` at byte 0 (the 16-bit version after it); cipher and key slots read
  from the header; LUKS1 opened through libluksde, LUKS2 through luks2.py;
- FileVault 2 / Core Storage: `CS` at byte 88 of a Core Storage physical volume (version 1);
- APFS encrypted volumes: found by `apfs.py` when it opens the container;
- `unknown-high-entropy`: a volume with no file system and no header whose sampled blocks all look
  random (VeraCrypt/TrueCrypt, or a volume wiped with random data): `looks_random()`.

Keys come from `--password` (or `DALIL_VOLUME_PASSWORD`), `--recovery-key` (BitLocker's 48-digit
recovery password, FileVault/APFS recovery key; or `DALIL_VOLUME_RECOVERY_KEY`) and `--key-file`
(a BitLocker startup key `.BEK`, a FileVault `EncryptedRoot.plist.wipekey`, or a LUKS key file).
They are never written anywhere: the ledger records only which kinds were given and, per volume,
which kind opened it.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytsk3

from ..core.errors import UsageError
from .external import ExternalImg

Read = Callable[[int, int], bytes]

PASSWORD_ENV = "DALIL_VOLUME_PASSWORD"
RECOVERY_ENV = "DALIL_VOLUME_RECOVERY_KEY"
BDE_SIGNATURE = b"-FVE-FS-"
LUKS_MAGIC = b"LUKS\xba\xbe"
ENTROPY_SAMPLES = 16
ENTROPY_BLOCK = 4096
ENTROPY_MIN_BITS = 7.9  # bits per byte: random 4 KiB blocks measure 7.94-7.96; text, code, zeros far less

# pybde key protector types (libbde's key_protector_types)
BDE_PROTECTORS = {0x0000: "clear key", 0x0100: "TPM", 0x0200: "startup key", 0x0500: "TPM and PIN",
                  0x0800: "recovery password", 0x2000: "password"}
NAMES = {"bitlocker": "BitLocker", "luks": "LUKS", "filevault": "FileVault 2 (Core Storage)", "apfs": "APFS"}


@dataclass
class VolumeKeys:
    """What the examiner gave to open encrypted volumes (held in memory only)."""

    password: str | None = field(default=None, repr=False)
    recovery_key: str | None = field(default=None, repr=False)
    key_file: Path | None = None

    @classmethod
    def build(cls, password: str | None = None, recovery_key: str | None = None,
              key_file: Path | None = None) -> "VolumeKeys":
        """The keys given, the environment filling in what the command line did not."""
        password = password or os.environ.get(PASSWORD_ENV) or None
        recovery_key = recovery_key or os.environ.get(RECOVERY_ENV) or None
        if key_file is not None and not key_file.is_file():
            raise UsageError(f"--key-file: no such file: {key_file}")
        return cls(password, recovery_key, key_file)

    @property
    def given(self) -> bool:
        return bool(self.password or self.recovery_key or self.key_file)

    def describe(self) -> list[str]:
        """The kinds of key given, for the ledger (never the keys)."""
        return [kind for kind, value in (("password", self.password), ("recovery-key", self.recovery_key),
                                         ("key-file", self.key_file)) if value]


@dataclass
class Found:
    """An encrypted volume recognised by its header."""

    kind: str                       # bitlocker, luks, filevault
    variant: str                    # e.g. "BitLocker To Go", "LUKS2"
    discovery: bool = False         # a readable stub file system precedes the data (BitLocker To Go)
    protectors: list[str] = field(default_factory=list)
    method: str | None = None       # cipher, as the library names it

    def describe(self) -> str:
        out = self.variant
        if self.method:
            out += f", {self.method}"
        if self.protectors:
            out += ", protectors: " + ", ".join(self.protectors)
        return out


def detect(read: Read) -> Found | None:
    """The encryption a volume's first bytes announce (`read(offset, size)` relative to the volume)."""
    try:
        head = read(0, 512)
    except (IOError, OSError, RuntimeError):
        return None
    if head[3:11] == BDE_SIGNATURE:
        return Found("bitlocker", "BitLocker" + (" (Windows Vista)" if head[:3] == b"\xeb\x52\x90" else ""))
    if head[3:11] == b"MSWIN4.1" and len(head) >= 448:
        meta = struct.unpack_from("<Q", head, 440)[0]
        try:
            if meta and read(meta, 8) == BDE_SIGNATURE:
                return Found("bitlocker", "BitLocker To Go", discovery=True)
        except (IOError, OSError, RuntimeError):
            pass
    if head[:6] == LUKS_MAGIC:
        return _luks_header(read, head)
    if head[88:90] == b"CS" and struct.unpack_from("<H", head, 90)[0] == 1:
        return Found("filevault", "FileVault 2 (Core Storage)")
    return None


def _luks_header(read: Read, head: bytes) -> Found:
    """LUKS1/2: the cipher and the key slots in use, from the header (no key needed)."""
    version = struct.unpack_from(">H", head, 6)[0]
    found = Found("luks", f"LUKS{version}" if version in (1, 2) else "LUKS")
    try:
        if version == 1:
            head = read(0, 592)
            text = [head[o:o + 32].rstrip(b"\0").decode("ascii", "replace") for o in (8, 40)]
            found.method = "-".join(t for t in text if t)
            slots = [i for i in range(8) if struct.unpack_from(">I", head, 208 + 48 * i)[0] == 0x00AC71F3]
        elif version == 2:
            size = struct.unpack_from(">Q", head, 8)[0]
            meta = json.loads(read(4096, min(max(size - 4096, 0), 4 * 1024 * 1024)).split(b"\0", 1)[0])
            segment: dict[str, Any] = next(iter(meta.get("segments", {}).values()), {})
            found.method = str(segment.get("encryption") or "") or None
            slots = sorted(int(k) for k in meta.get("keyslots", {}))
        else:
            return found
    except (IOError, OSError, RuntimeError, ValueError, struct.error, AttributeError):
        return found
    found.protectors = [f"key slot {i}" for i in slots]
    return found


def looks_random(read: Read, length: int) -> bool:
    """Do all of a few blocks spread over the volume look like random bytes? (cheap: 64 KiB read)"""
    if length < ENTROPY_BLOCK * ENTROPY_SAMPLES:
        return False
    step = (length - ENTROPY_BLOCK) // (ENTROPY_SAMPLES - 1)
    for i in range(ENTROPY_SAMPLES):
        try:
            block = read(i * step // 512 * 512, ENTROPY_BLOCK)
        except (IOError, OSError, RuntimeError):
            return False
        if _entropy(block) < ENTROPY_MIN_BITS:
            return False
    return True


def _entropy(data: bytes) -> float:
    if not data:
        return 0.0
    total = len(data)
    return -sum(n / total * math.log2(n / total) for n in Counter(data).values())


class Slice:
    """A byte range of a pytsk3 image as a read-only file object, for the libyal libraries."""

    def __init__(self, read: Read, length: int) -> None:
        self._read, self._length, self._pos = read, length, 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._length - self._pos
        size = max(0, min(size, self._length - self._pos))
        if not size:
            return b""
        data = self._read(self._pos, size)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def get_size(self) -> int:
        return self._length

    def close(self) -> None:
        pass


def image_reader(img: pytsk3.Img_Info, start: int) -> Read:
    """`read(offset, size)` relative to `start` in a pytsk3 image."""
    return lambda offset, size: img.read(start + offset, size)


class LayerImg(ExternalImg):
    """A libyal volume object (decrypted BitLocker/LUKS/FileVault, an LVM logical volume, a shadow
    copy store) as a pytsk3 image."""

    WHAT = "volume"

    def __init__(self, obj: Any, size: int, keep: Any = None) -> None:
        self._obj, self._keep = obj, keep  # keep: the file objects it reads through
        super().__init__(size)

    def _read_at(self, offset: int, size: int) -> bytes:
        return bytes(self._obj.read_buffer_at_offset(size, offset))


@dataclass
class Unlocked:
    """The outcome of trying the keys on an encrypted volume."""

    img: pytsk3.Img_Info | None     # the decrypted volume, or None
    message: str                    # one line: what it is and what opened it, or what is needed
    key_kind: str | None = None     # which key opened it


def open_encrypted(found: Found, read: Read, length: int, keys: VolumeKeys) -> Unlocked:
    """Describe the volume (protectors, cipher) and open it with the keys given, if any."""
    opener = {"bitlocker": _bitlocker, "luks": _luks, "filevault": _filevault}.get(found.kind)
    if opener is None:
        return Unlocked(None, f"{found.describe()}: cannot be opened by Dalil")
    fh = Slice(read, length)
    try:
        return opener(found, fh, length, keys)
    except (IOError, OSError, RuntimeError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            struct.error) as exc:  # a crafted LUKS2 header (its checksum is anyone's to set) is any JSON
        return Unlocked(None, f"{found.describe()}: its encryption header cannot be read ({_gist(exc)})")


def _needs(found: Found, what: str) -> str:
    return f"{found.describe()}: locked; to read it give {what}"


def _wrong(found: Found, keys: VolumeKeys) -> str:
    return (f"{found.describe()}: the key given ({', '.join(keys.describe())}) does not open it")


def _bitlocker(found: Found, fh: Slice, length: int, keys: VolumeKeys) -> Unlocked:
    import pybde

    vol = pybde.volume()
    vol.open_file_object(fh)  # first without any key: does the volume need one at all?
    found.protectors = [BDE_PROTECTORS.get(int(p.type), f"type 0x{int(p.type):04x}") for p in vol.key_protectors]
    method = getattr(vol, "encryption_method", None)
    found.method = f"method 0x{int(method):04x}" if method is not None else None
    if not vol.is_locked():
        # a clear key (BitLocker suspended) or a decrypted volume keeping its metadata: no key is needed,
        # and a court should know the volume was readable by anyone who held the disk
        why = "its key is stored in clear (BitLocker suspended)" if "clear key" in found.protectors \
            else "it is not encrypted (decrypted, BitLocker metadata kept)"
        return Unlocked(LayerImg(vol, int(vol.get_size()), fh), f"{found.describe()}: opened without a key: {why}",
                        "clear-key")
    kind = None
    if keys.key_file:  # libbde takes a startup key only before the volume is opened
        vol.close()
        vol = pybde.volume()
        try:
            vol.read_startup_key(str(keys.key_file))
            vol.open_file_object(fh)
        except (IOError, OSError):  # another volume's .BEK, or no .BEK at all
            return Unlocked(None, f"{_wrong(found, keys)}: not a startup key (.BEK) of this volume")
        kind = "key-file"
    kind = _set_secrets(vol, keys, kind)
    if not keys.given:
        return Unlocked(None, _needs(found, "--password, --recovery-key (the 48-digit recovery password) "
                                            "or --key-file (the .BEK startup key)"))
    return _unlocked(vol, fh, found, keys, kind)


def _set_secrets(vol: Any, keys: VolumeKeys, kind: str | None) -> str | None:
    """The recovery key and password given, set on a libyal volume (libbde, libfvde); the key kind named."""
    if keys.recovery_key:
        vol.set_recovery_password(keys.recovery_key)
        kind = kind or "recovery-key"
    if keys.password:
        vol.set_password(keys.password)
        kind = kind or "password"
    return kind


def _unlocked(vol: Any, fh: Slice, found: Found, keys: VolumeKeys, kind: str | None) -> Unlocked:
    """A libyal volume unlocked with the secrets set on it (opened already if a key file did it)."""
    try:
        ok = vol.unlock() if vol.is_locked() else True
    except (IOError, OSError, RuntimeError):
        ok = False
    if not ok or vol.is_locked():
        return Unlocked(None, _wrong(found, keys))
    return Unlocked(LayerImg(vol, int(vol.get_size()), fh), f"{found.describe()}: opened", kind)


def _luks(found: Found, fh: Slice, length: int, keys: VolumeKeys) -> Unlocked:
    import pyluksde

    secret: bytes | None = None
    kind = None
    if keys.password:
        secret, kind = keys.password.encode("utf-8"), "password"
    elif keys.key_file:
        from ..core.hashing import open_file_or_device

        with open_file_or_device(keys.key_file, devices=False) as key_fh:  # a FIFO or /dev/zero never read
            secret, kind = key_fh.read(LUKS_MAX_KEY_FILE + 1), "key-file"
        if len(secret) > LUKS_MAX_KEY_FILE:
            return Unlocked(None, f"{found.describe()}: the key file is larger than cryptsetup's 8 MiB limit: "
                                  "not a LUKS key file")
    if secret is None:
        return Unlocked(None, _needs(found, "--password (a passphrase of one of its key slots) or --key-file"))
    if found.variant == "LUKS2":
        return _luks2(found, fh._read, length, secret, keys, kind)
    refused = _luks1_costs(fh._read)
    if refused:
        return Unlocked(None, f"{found.describe()}: cannot be opened ({refused})")
    vol = pyluksde.volume()
    vol.open_file_object(fh)
    try:
        vol.set_password(secret.decode("utf-8"))
    except ValueError:  # not UTF-8, or a NUL byte (which libluksde's password string cannot hold)
        return Unlocked(None, f"{found.describe()}: the key file is not text, which the LUKS1 reader needs")
    try:
        ok = vol.unlock()
    except (IOError, OSError, RuntimeError):
        ok = False
    if not ok or vol.is_locked():
        return Unlocked(None, _wrong(found, keys))
    return Unlocked(LayerImg(vol, int(vol.get_size()), fh), f"{found.describe()}: opened", kind)


LUKS_MAX_KEY_FILE = 8 * 1024 * 1024  # cryptsetup's keyfile-size maximum
LUKS1_MAX_ITERATIONS = 50_000_000  # as luks2.MAX_ITERATIONS: cryptsetup's own benchmark never asks this many
LUKS1_MAX_STRIPES = 65536  # cryptsetup writes 4000


def _luks1_costs(read: Read) -> str | None:
    """Why a LUKS1 header is refused before libluksde derives keys from it, or None. Its 32-bit
    iteration counts are the attacker's to set (no checksum): 4 billion PBKDF2 rounds per key slot
    (eight slots, and the master-key digest) would hold the parse for hours."""
    head = read(0, 592)
    if len(head) < 592:
        return "its header is cut short"
    if struct.unpack_from(">I", head, 164)[0] > LUKS1_MAX_ITERATIONS:
        return "the master-key digest asks for more PBKDF2 iterations than cryptsetup makes: refused"
    for slot in range(8):
        active, iterations = struct.unpack_from(">II", head, 208 + 48 * slot)
        stripes = struct.unpack_from(">I", head, 208 + 48 * slot + 44)[0]
        if active == 0x00AC71F3 and (iterations > LUKS1_MAX_ITERATIONS or not 0 < stripes <= LUKS1_MAX_STRIPES):
            return (f"key slot {slot} asks for PBKDF2 iterations or anti-forensic stripes beyond what cryptsetup "
                    "makes: refused")
    return None


def _luks2(found: Found, read: Read, length: int, secret: bytes, keys: VolumeKeys, kind: str | None) -> Unlocked:
    from . import luks2

    try:
        header = luks2.read_header(read)
        key = luks2.unlock(read, header, secret)
    except (luks2.Luks2Error, KeyError, ValueError) as exc:
        return Unlocked(None, f"{found.describe()}: cannot be opened ({_gist(exc)})")
    if key is None:
        return Unlocked(None, _wrong(found, keys))
    return Unlocked(luks2.Luks2Img(read, length, header, key), f"{found.describe()}: opened", kind)


def _filevault(found: Found, fh: Slice, length: int, keys: VolumeKeys) -> Unlocked:
    import pyfvde

    vol = pyfvde.volume()
    kind = None
    if keys.key_file:
        vol.read_encrypted_root_plist(str(keys.key_file))
        kind = "key-file"
    kind = _set_secrets(vol, keys, kind)  # libfvde takes them before the volume is opened
    vol.open_file_object(fh)
    if not keys.given:
        return Unlocked(None, _needs(found, "--password or --recovery-key, and --key-file "
                                            "(EncryptedRoot.plist.wipekey) when the volume needs it"))
    return _unlocked(vol, fh, found, keys, kind)


def _gist(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
