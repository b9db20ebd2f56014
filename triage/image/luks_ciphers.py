"""The dm-crypt cipher specs LUKS2 volumes use, decrypted in bulk (one AES pass per read).

`aes-xts-plain64` is cryptsetup's default; `aes-xts-plain`, `aes-cbc-plain`, `aes-cbc-plain64`,
`aes-cbc-essiv:sha256` and `aes-ecb` are what older set-ups and other tools chose. The IV of a
sector is its number (in `iv_step` units from `first_sector`): 32 bits for `plain`, 64 for
`plain64`; ESSIV encrypts that number with SHA-256 of the volume key. CBC is done as
ECB-decrypt-then-XOR with the previous ciphertext block, every sector at once.
"""

from __future__ import annotations

import hashlib

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SUPPORTED = ("aes-xts-plain64", "aes-xts-plain", "aes-cbc-plain", "aes-cbc-plain64", "aes-cbc-essiv:sha256",
             "aes-ecb")


class CipherError(ValueError):
    """A cipher spec Dalil cannot decrypt."""


def check(spec: str) -> None:
    if spec not in SUPPORTED:
        raise CipherError(f"cipher {spec} is not supported (only {', '.join(SUPPORTED)})")


def decrypt(spec: str, key: bytes, data: bytes, first_sector: int, sector_size: int, iv_step: int = 1) -> bytes:
    """Whole sectors of `data` decrypted; `first_sector` is the IV of the first, growing by `iv_step`."""
    check(spec)
    count = len(data) // sector_size
    if not count:
        return b""
    data = data[:count * sector_size]
    if spec == "aes-ecb":
        return Cipher(algorithms.AES(key), modes.ECB()).decryptor().update(data)
    numbers = np.zeros((count, 2), dtype="<u8")
    numbers[:, 0] = np.arange(first_sector, first_sector + count * iv_step, iv_step, dtype=np.uint64)
    if spec.endswith("-plain"):
        numbers[:, 0] &= np.uint64(0xFFFFFFFF)
    if spec.startswith("aes-xts-"):
        return _xts(key, data, numbers, count, sector_size)
    ivs = numbers.tobytes()
    if spec == "aes-cbc-essiv:sha256":
        salt = hashlib.sha256(key).digest()
        ivs = Cipher(algorithms.AES(salt), modes.ECB()).encryptor().update(ivs)
    blocks = np.frombuffer(data, dtype="<u8").reshape(count, sector_size // 8)
    previous = np.empty_like(blocks)  # each block's predecessor: the IV for a sector's first block
    previous[:, 2:] = blocks[:, :-2]
    previous[:, :2] = np.frombuffer(ivs, dtype="<u8").reshape(count, 2)
    plain = np.frombuffer(Cipher(algorithms.AES(key), modes.ECB()).decryptor().update(data), dtype="<u8")
    return (plain ^ previous.reshape(-1)).tobytes()


def _xts(key: bytes, data: bytes, numbers: np.ndarray, count: int, sector_size: int) -> bytes:
    """XTS: the tweak is the IV encrypted with the second half of the key, doubled (×α in GF(2^128))
    from one 16-byte block to the next, vectorised over all sectors."""
    half = len(key) // 2
    tweak_enc = Cipher(algorithms.AES(key[half:]), modes.ECB()).encryptor()
    start = np.frombuffer(tweak_enc.update(numbers.tobytes()), dtype="<u8").reshape(count, 2)
    per = sector_size // 16
    tweaks = np.empty((count, per, 2), dtype="<u8")
    lo, hi = start[:, 0].copy(), start[:, 1].copy()
    for j in range(per):
        tweaks[:, j, 0], tweaks[:, j, 1] = lo, hi
        carry = hi >> np.uint64(63)
        hi = (hi << np.uint64(1)) | (lo >> np.uint64(63))
        lo = (lo << np.uint64(1)) ^ (carry * np.uint64(0x87))
    flat = tweaks.reshape(-1)
    mixed = np.frombuffer(data, dtype="<u8", count=count * sector_size // 8) ^ flat
    dec = Cipher(algorithms.AES(key[:half]), modes.ECB()).decryptor()
    return (np.frombuffer(dec.update(mixed.tobytes()), dtype="<u8") ^ flat).tobytes()
