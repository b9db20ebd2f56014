"""Encrypted iTunes/Finder backups: unlocking the keybag, and reading files without writing them out.

The keybag (`Manifest.plist` BackupKeyBag) is parsed and unlocked by `iphone-backup-decrypt`
(`utils.BackupKeyBag`): PBKDF2-HMAC-SHA256 (DPSL, DPIC rounds) then PBKDF2-HMAC-SHA1 (SALT, ITER
rounds) turn the password into the key that unwraps (RFC 3394) each protection class key; it
refuses iteration counts a crafted backup could use to make it run for days. Backups made before
iOS 10.2 have only the SHA-1 step; it is done here and the key handed to the same keybag.

Each file's own key is its Manifest row's EncryptionKey (4 bytes protection class, little-endian,
then the wrapped key), unwrapped with its class key; the content is AES-256-CBC with a zero IV and
PKCS#7 padding. `EncryptedFile` decrypts any byte range on demand (a CBC block needs only the block
before it), so decrypted content is never written anywhere; the library's own extraction writes
whole files to disk and its Manifest decryption writes to the system temporary folder, so neither
is used. `decrypt_to` writes a decrypted Manifest.db where the caller says (the case's private
work folder).
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..core.errors import Corrupted, WrongPassword
from .logical import MemberError, open_regular

BLOCK = 16
ZERO_IV = b"\0" * BLOCK
CHUNK = 1 << 20
MAX_SHA1_ROUNDS = 1_000_000  # the library's own cap on ITER


class Keys:
    """An unlocked backup keybag: unwraps the keys of files and of Manifest.db."""

    def __init__(self, keybag: Any) -> None:
        self._keybag = keybag

    def unwrap(self, wrapped_with_class: bytes) -> bytes:
        """A key as Manifest stores it (class, little-endian, + wrapped key); ValueError if it does not unwrap."""
        if len(wrapped_with_class) < 4:
            raise ValueError("key shorter than its protection class")
        protection_class = struct.unpack("<l", wrapped_with_class[:4])[0]
        return bytes(self._keybag.unwrap_key_for_class(protection_class, wrapped_with_class[4:]))


def unlock(plist: dict[str, Any], password: str, name: str) -> Keys:
    """The keybag of `Manifest.plist` unlocked with `password` (WrongPassword if it does not open it)."""
    blob = plist.get("BackupKeyBag")
    if not isinstance(blob, bytes):
        raise Corrupted(f"iOS backup {name}: Manifest.plist says it is encrypted but holds no BackupKeyBag")
    from iphone_backup_decrypt import utils as ibd  # 30 ms (PyCryptodome): only for an encrypted backup

    try:
        keybag = ibd.BackupKeyBag(blob)
        secret = password.encode("utf-8")
        if b"DPIC" in keybag.attrs:
            keybag.unlock_with_passphrase(secret)
        else:  # before iOS 10.2: one PBKDF2-HMAC-SHA1 step
            rounds = keybag.attrs[b"ITER"]
            if not isinstance(rounds, int) or not 1 <= rounds <= MAX_SHA1_ROUNDS:
                raise ValueError(f"implausible ITER round count {rounds!r}")
            keybag.unlock_with_key(hashlib.pbkdf2_hmac("sha1", secret, keybag.attrs[b"SALT"], rounds, 32))
    except (ValueError, KeyError, TypeError, struct.error) as exc:  # UnsafeBackupError is a ValueError
        raise Corrupted(f"iOS backup {name}: its keybag (Manifest.plist BackupKeyBag) is not usable: "
                        f"{type(exc).__name__}: {exc}") from exc
    if not keybag.unlocked:
        raise WrongPassword(f"wrong password for the iOS backup {name}: it does not unlock the backup's keybag")
    return Keys(keybag)


def plain_size(path: Path, key: bytes) -> int:
    """The size of the content once decrypted, from the padding of its last block (MemberError if
    the stored file cannot be that content: not whole blocks, or bad padding)."""
    with open_regular(path) as fh:
        total = os.fstat(fh.fileno()).st_size
        if total == 0 or total % BLOCK:
            raise MemberError(f"the stored file is {total} bytes, not whole AES blocks: truncated or not encrypted")
        tail = os.pread(fh.fileno(), 2 * BLOCK, max(0, total - 2 * BLOCK))
    iv = tail[:BLOCK] if len(tail) == 2 * BLOCK else ZERO_IV
    last = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor().update(tail[-BLOCK:])
    n = last[-1]
    if not 1 <= n <= BLOCK or last[-n:] != bytes([n]) * n:
        raise MemberError("the stored file does not decrypt with its key (bad padding): damaged")
    return total - n


class EncryptedFile:
    """A stored file read as its decrypted content, any range on demand (stands in for a pytsk3.File)."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path, self.key = path, key
        self.size = plain_size(path, key)

    def read_random(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        if offset >= end:
            return b""
        first = offset // BLOCK * BLOCK
        last = -(-end // BLOCK) * BLOCK
        start = first - BLOCK if first else 0
        with open_regular(self.path) as fh:
            data = os.pread(fh.fileno(), last - start, start)
        if len(data) != last - start:
            raise MemberError(f"the stored file ends before byte {last}: it changed since it was listed")
        iv, body = (data[:BLOCK], data[BLOCK:]) if first else (ZERO_IV, data)
        plain = Cipher(algorithms.AES(self.key), modes.CBC(iv)).decryptor().update(body)
        return plain[offset - first:end - first]


def decrypt_to(source: Path, key: bytes, out: Path) -> None:
    """Decrypt a whole stored file (Manifest.db) into the new file `out` (0600). ValueError if its
    length or padding is wrong."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(ZERO_IV)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as dst, open_regular(source) as src:
        while chunk := src.read(CHUNK):
            dst.write(unpadder.update(decryptor.update(chunk)))
        decryptor.finalize()
        dst.write(unpadder.finalize())
