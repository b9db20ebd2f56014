"""Keccak-256 (the pre-standard SHA-3 padding Ethereum uses), for EIP-55 address checksums.

hashlib's sha3_256 pads differently (0x06, not 0x01), so it cannot serve; `permute` is the shared
Keccak-f[1600] and `sha3_256` (same permutation, FIPS 202 padding) lets tests check it against hashlib.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_RC = (0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B,
       0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088,
       0x0000000080008009, 0x000000008000000A, 0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
       0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
       0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008)
# rotation offsets r[x][y]
_ROT = ((0, 36, 3, 41, 18), (1, 44, 10, 45, 2), (62, 6, 43, 15, 61), (28, 55, 25, 21, 56), (27, 20, 39, 8, 14))
_RATE = 136  # bytes, for a 256-bit output


def _rol(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def permute(state: list[int]) -> None:
    """Keccak-f[1600] on 25 lanes, lane (x, y) at index x + 5y, in place."""
    for rc in _RC:
        c = [state[x] ^ state[x + 5] ^ state[x + 10] ^ state[x + 15] ^ state[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [state[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rol(a[x + 5 * y], _ROT[x][y])
        for y in range(0, 25, 5):
            row = b[y:y + 5]
            for x in range(5):
                state[y + x] = row[x] ^ (~row[(x + 1) % 5] & _MASK & row[(x + 2) % 5])
        state[0] ^= rc


def _sponge(data: bytes, pad: int) -> bytes:
    msg = bytearray(data)
    msg.append(pad)
    while len(msg) % _RATE:
        msg.append(0)
    msg[-1] |= 0x80
    state = [0] * 25
    for start in range(0, len(msg), _RATE):
        for i in range(_RATE // 8):
            state[i] ^= int.from_bytes(msg[start + 8 * i:start + 8 * i + 8], "little")
        permute(state)
    return b"".join(state[i].to_bytes(8, "little") for i in range(4))


def keccak256(data: bytes) -> bytes:
    return _sponge(data, 0x01)


def sha3_256(data: bytes) -> bytes:
    """FIPS 202 SHA3-256 with the same permutation (a check against hashlib)."""
    return _sponge(data, 0x06)
