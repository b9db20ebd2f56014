"""Android `adb backup` files (`.ab`): header, decryption and inflation into a tar.

The format, as Android writes it (and android-backup-extractor reads it):

    ANDROID BACKUP\\n <version>\\n <compressed: 0|1>\\n <encryption: none|AES-256>\\n
    AES-256 only: <user salt>\\n <checksum salt>\\n <PBKDF2 rounds>\\n <user IV>\\n <master key blob>\\n
    (salts, IV and blob in hex), then the payload: AES-256-CBC under the master key (if encrypted),
    zlib (if compressed), and a tar stream (`apps/<package>/{_manifest,db,f,sp,r,ef,…}`).

The user key is PBKDF2-HMAC-SHA1(password, user salt, rounds, 256 bits); it decrypts the blob
(AES-256-CBC, user IV), which holds the payload's IV, the master key and the master key's checksum:
PBKDF2-HMAC-SHA1(master key as Java chars, checksum salt, rounds). Version 1 turns chars into bytes
by keeping their low 8 bits; version 2 and later by UTF-8, where Java has sign-extended each key byte
into a char first (a byte 0x80-0xFF becomes U+FF80-U+FFFF, three UTF-8 bytes).

Versions 1 to 5 (those Android has written) are read; versions differ only in that checksum.
The payload is decoded into a file the caller names (a private temporary folder in the case, never
beside the evidence); damage after the header is a warning and what was decoded before it is kept.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..core.errors import Corrupted, UsageError, WrongPassword
from ..core.hashing import open_readonly

MAGIC = b"ANDROID BACKUP\n"
VERSIONS = range(1, 6)
SALT_BYTES = 64  # PBKDF2_SALT_SIZE (512 bits) in Android's backup code
MAX_ROUNDS = 10_000_000  # Android uses 10,000; far more is a crafted header (PBKDF2 would run for hours)
MAX_LINE = 4096
CHUNK = 1 << 20
PASSWORD_HINT = "give it with --password or the environment variable DALIL_BACKUP_PASSWORD"


@dataclass
class Header:
    """What the header says; `offset` is where the payload starts."""

    version: int
    compressed: bool
    encryption: str
    offset: int
    user_salt: bytes = b""
    checksum_salt: bytes = b""
    rounds: int = 0
    user_iv: bytes = b""
    key_blob: bytes = b""

    @property
    def encrypted(self) -> bool:
        return self.encryption != "none"

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "compressed": self.compressed, "encryption": self.encryption,
                **({"pbkdf2_rounds": self.rounds} if self.encrypted else {})}


@dataclass
class Keys:
    """The payload's AES-256 key and IV (from the master key blob)."""

    key: bytes
    iv: bytes


def is_backup(head: bytes) -> bool:
    return head.startswith(MAGIC)


def read_header(path: Path) -> Header:
    """The header, or one Corrupted/Unsupported message saying what is wrong with it."""
    with open_readonly(path) as fh:
        lines: list[bytes] = []

        def line(what: str) -> str:
            raw = fh.readline(MAX_LINE + 1)
            if not raw.endswith(b"\n"):
                cut = "too long" if len(raw) > MAX_LINE else "the file ends there"
                raise Corrupted(f"Android backup {path.name}: header cut short at its {what} ({cut})")
            lines.append(raw)
            try:
                return raw[:-1].decode("ascii")
            except UnicodeDecodeError:
                raise Corrupted(f"Android backup {path.name}: its {what} is not text") from None

        if fh.read(len(MAGIC)) != MAGIC:
            raise Corrupted(f"{path.name} is not an Android backup (no 'ANDROID BACKUP' header)")
        version = _number(line("version"), "version", path)
        if version not in VERSIONS:
            raise Corrupted(f"Android backup {path.name}: format version {version} is not one Android has written "
                            f"(1 to {VERSIONS[-1]})")
        flag = line("compression flag")
        if flag not in ("0", "1"):
            raise Corrupted(f"Android backup {path.name}: compression flag {flag!r} is neither 0 nor 1")
        encryption = line("encryption")
        if encryption not in ("none", "AES-256"):
            raise Corrupted(f"Android backup {path.name}: unknown encryption {encryption!r} (none or AES-256)")
        header = Header(version, flag == "1", encryption, 0)
        if header.encrypted:
            header.user_salt = _hex(line("user password salt"), "user password salt", path)
            header.checksum_salt = _hex(line("master key checksum salt"), "master key checksum salt", path)
            header.rounds = _number(line("PBKDF2 rounds"), "PBKDF2 round count", path)
            header.user_iv = _hex(line("user key IV"), "user key IV", path)
            header.key_blob = _hex(line("master key blob"), "master key blob", path)
            if len(header.user_salt) != SALT_BYTES:
                raise Corrupted(f"Android backup {path.name}: invalid salt length: the user password salt is "
                                f"{len(header.user_salt)} bytes ({SALT_BYTES} expected)")
            if not 1 <= header.rounds <= MAX_ROUNDS:
                raise Corrupted(f"Android backup {path.name}: implausible PBKDF2 round count {header.rounds}")
            if len(header.user_iv) != 16:
                raise Corrupted(f"Android backup {path.name}: the user key IV is {len(header.user_iv)} bytes (16 expected)")
            if not header.key_blob or len(header.key_blob) % 16:
                raise Corrupted(f"Android backup {path.name}: the master key blob is {len(header.key_blob)} bytes "
                                "(a non-zero multiple of 16 expected)")
        header.offset = len(MAGIC) + sum(len(x) for x in lines)
    return header


def _number(text: str, what: str, path: Path) -> int:
    if not text.isdigit() or len(text) > 9:
        raise Corrupted(f"Android backup {path.name}: {what} {text[:40]!r} is not a number")
    return int(text)


def _hex(text: str, what: str, path: Path) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise Corrupted(f"Android backup {path.name}: the {what} is not hexadecimal") from None


def _cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes | None:
    """AES-CBC with PKCS#7 padding removed; None when the padding is wrong (a wrong key)."""
    plain = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor().update(data)
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        return None


def _java_chars(password: str, version: int) -> bytes:
    """The bytes PBKDF2 gets for a Java char[]: UTF-8 from version 2, the low 8 bits of each UTF-16 unit in 1."""
    if version >= 2:
        return password.encode("utf-8", "surrogatepass")
    units = password.encode("utf-16-be", "surrogatepass")
    return units[1::2]


def _checksum_input(master_key: bytes, version: int) -> bytes:
    """The master key as the checksum's PBKDF2 password: each byte a Java char (sign-extended)."""
    return _java_chars("".join(chr(b) if b < 0x80 else chr(0xFF00 | b) for b in master_key), version)


def unlock(path: Path, header: Header, password: str | None) -> Keys | None:
    """The payload's key for an encrypted backup (None for a plain one).

    A missing password is a usage error; a password that does not decrypt the master key blob is
    WrongPassword; a blob that decrypts but whose checksum does not match is a damaged header.
    """
    if not header.encrypted:
        return None
    if not password:
        raise UsageError(f"Android backup {path.name} is encrypted (AES-256): {PASSWORD_HINT}")
    user_key = hashlib.pbkdf2_hmac("sha1", _java_chars(password, header.version), header.user_salt, header.rounds, 32)
    blob = _cbc_decrypt(user_key, header.user_iv, header.key_blob)
    wrong = WrongPassword(f"wrong password for the Android backup {path.name}: it does not decrypt the backup's "
                          "master key")
    if blob is None:
        raise wrong
    parts, pos = [], 0
    for _ in range(3):
        if pos >= len(blob):
            raise wrong
        n = blob[pos]
        parts.append(blob[pos + 1:pos + 1 + n])
        if len(parts[-1]) != n:
            raise wrong
        pos += 1 + n
    iv, master_key, checksum = parts
    if len(iv) != 16 or len(master_key) != 32:
        raise wrong
    calculated = hashlib.pbkdf2_hmac("sha1", _checksum_input(master_key, header.version), header.checksum_salt,
                                     header.rounds, len(checksum) or 32)
    if calculated != checksum:
        raise Corrupted(f"Android backup {path.name}: invalid password or master key checksum: the master key "
                        "decrypts but does not match its checksum (a damaged header, or a wrong password)")
    return Keys(master_key, iv)


@dataclass
class Decoded:
    """The tar written: its size and SHA-256, and what stopped the decoding early (None if nothing)."""

    size: int
    sha256: str
    problem: str | None


def decode(path: Path, header: Header, keys: Keys | None, out: Path) -> Decoded:
    """Write the payload's tar stream to `out` (created, 0600): decrypted, inflated. A damaged or
    truncated payload keeps what was decoded before the damage and says where it stopped."""
    decryptor = Cipher(algorithms.AES(keys.key), modes.CBC(keys.iv)).decryptor() if keys else None
    unpadder = padding.PKCS7(128).unpadder() if keys else None
    inflater = zlib.decompressobj() if header.compressed else None
    digest = hashlib.sha256()
    size, read, problem, after = 0, header.offset, None, 0
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as dst, open_readonly(path) as src:
        src.seek(header.offset)

        def emit(data: bytes) -> None:
            nonlocal size
            if data:
                dst.write(data)
                digest.update(data)
                size += len(data)

        def inflate(data: bytes) -> None:
            nonlocal after
            if inflater is None:
                emit(data)
            elif inflater.eof:
                after += len(data)
            else:
                emit(inflater.decompress(data))
                after += len(inflater.unused_data) if inflater.eof else 0

        try:
            while chunk := src.read(CHUNK):
                read += len(chunk)
                data = chunk
                if decryptor is not None and unpadder is not None:
                    data = unpadder.update(decryptor.update(chunk))
                inflate(data)
            if decryptor is not None and unpadder is not None:
                try:
                    decryptor.finalize()
                    inflate(unpadder.finalize())
                except ValueError:
                    problem = ("the encrypted data ends inside a block or with bad padding "
                               f"(truncated or damaged, {read - header.offset} bytes after the header)")
            if inflater is not None and problem is None:
                if not inflater.eof:
                    problem = (f"the compressed data ends before its end marker (truncated at byte {read} "
                               "of the file)")
                elif after:
                    problem = f"{after} byte(s) after the end of the compressed data, not read"
        except zlib.error as exc:
            problem = f"the compressed data is damaged at or before byte {read} of the file ({exc})"
    return Decoded(size, digest.hexdigest(), problem)
