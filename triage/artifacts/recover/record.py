"""SQLite record format: varints, serial types and value decoding (https://sqlite.org/fileformat2.html).

Everything works on a bytes-like buffer with explicit bounds, and never raises on hostile input:
a varint or a value that runs past its bound reports "truncated" instead.
"""

from __future__ import annotations

import struct
from typing import Any

# content size of serial types 0..11; -1 marks the reserved types 10 and 11
_FIXED_SIZES = (0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1)
_DOUBLE = struct.Struct(">d")

ENCODINGS = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}


class Lost:
    """Marker for a value whose bytes are gone (overwritten, or past the end of what is left)."""

    _instance: Lost | None = None

    def __new__(cls) -> Lost:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "LOST"


LOST = Lost()


def read_varint(buf: bytes | memoryview, i: int, end: int) -> tuple[int, int]:
    """(value, index after it); index -1 when the varint runs past `end`."""
    if i >= end:
        return 0, -1
    b = buf[i]
    if b < 0x80:
        return b, i + 1
    value = b & 0x7F
    for k in range(1, 9):
        j = i + k
        if j >= end:
            return 0, -1
        b = buf[j]
        if k == 8:
            value = (value << 8) | b
            if value >= 1 << 63:
                value -= 1 << 64
            return value, j + 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, j + 1
    return 0, -1  # unreachable


def varint_len(value: int) -> int:
    """Bytes a varint takes for a non-negative `value` below 2**56 (9 for anything larger)."""
    n = 1
    while value >= 0x80 and n < 9:
        value >>= 7
        n += 1
    return n


def serial_size(t: int) -> int:
    """Content bytes of serial type `t`; -1 for the reserved types 10 and 11 or a negative type."""
    if t < 12:
        return _FIXED_SIZES[t] if t >= 0 else -1
    return (t - 12) >> 1


def serial_is_text(t: int) -> bool:
    return t >= 13 and t & 1 == 1


def serial_is_blob(t: int) -> bool:
    return t >= 12 and t & 1 == 0


def serial_is_number(t: int) -> bool:
    return 1 <= t <= 9


def read_header(buf: bytes | memoryview, q: int, end: int, max_cols: int = 4096) -> tuple[list[int], int] | None:
    """Serial types of a record header at `q` and the offset of its body, or None when the header is
    not well formed (header size past `end`, a varint crossing the header's end, a reserved type)."""
    h, i = read_varint(buf, q, end)
    if i < 0 or h < 2 or q + h > end:
        return None
    stop = q + h
    raw = bytes(buf[i:stop])
    if raw.isascii():   # every serial type a one-byte varint: the common case, read in one go
        if b"\x0a" in raw or b"\x0b" in raw or len(raw) > max_cols:
            return None
        return list(raw), stop
    types: list[int] = []
    n = len(raw)
    k = 0
    while k < n:   # raw holds the header after its size varint; most types take one or two bytes
        b = raw[k]
        if b < 0x80:
            t = b
            k += 1
        elif k + 1 < n and raw[k + 1] < 0x80:
            t = ((b & 0x7F) << 7) | raw[k + 1]
            k += 2
        else:
            t, j = read_varint(raw, k, n)
            if j < 0:
                return None
            k = j
        if t == 10 or t == 11 or t < 0 or len(types) >= max_cols:
            return None
        types.append(t)
    return types, stop


def read_types(buf: bytes | memoryview, i: int, count: int, end: int) -> tuple[list[int], int] | None:
    """`count` serial types starting at `i` (a header whose size byte is lost); None if malformed."""
    types: list[int] = []
    for _ in range(count):
        t, i = read_varint(buf, i, end)
        if i < 0 or t == 10 or t == 11 or t < 0:
            return None
        types.append(t)
    return types, i


_SIZES = [(_FIXED_SIZES[t] if t < 12 else (t - 12) >> 1) for t in range(16384)]


def body_size(types: list[int]) -> int:
    try:
        return sum(map(_SIZES.__getitem__, types))
    except IndexError:   # a type of three varint bytes or more (a value over 8 KB)
        return sum(_FIXED_SIZES[t] if t < 12 else (t - 12) >> 1 for t in types)


def decode_value(t: int, buf: bytes | memoryview, i: int, encoding: str) -> Any:
    """The value of serial type `t` at `i` (the caller has checked the bytes are there).
    Text that does not decode in `encoding` raises UnicodeDecodeError."""
    if t == 0:
        return None
    if t == 8:
        return 0
    if t == 9:
        return 1
    if t == 7:
        return _DOUBLE.unpack_from(buf, i)[0]
    if t < 7:
        n = _FIXED_SIZES[t]
        return int.from_bytes(buf[i:i + n], "big", signed=True)
    n = (t - 12) >> 1
    if t & 1:
        return str(buf[i:i + n], encoding)
    return bytes(buf[i:i + n])


def decode_body(types: list[int], buf: bytes | memoryview, start: int, end: int, encoding: str,
                lost_ranges: list[tuple[int, int]] | None = None) -> tuple[list[Any], int] | None:
    """Values of a record body at `start`. A value whose bytes pass `end` or touch a lost range
    [a, b) is LOST. Returns (values, offset after the body) or None when a text does not decode."""
    values: list[Any] = []
    append = values.append
    i = start
    for t in types:
        if t >= 12:
            n = (t - 12) >> 1
            if i + n > end or (lost_ranges and n and any(a < i + n and i < b for a, b in lost_ranges)):
                append(LOST)
            elif t & 1:
                try:
                    append(str(buf[i:i + n], encoding))
                except UnicodeDecodeError:
                    return None
            else:
                append(bytes(buf[i:i + n]))
            i += n
            continue
        n = _FIXED_SIZES[t]
        if i + n > end or (lost_ranges and n and any(a < i + n and i < b for a, b in lost_ranges)):
            append(LOST)
        elif t == 0:
            append(None)
        elif t < 7:
            append(int.from_bytes(buf[i:i + n], "big", signed=True))
        elif t == 7:
            append(_DOUBLE.unpack_from(buf, i)[0])
        else:
            append(t - 8)   # 8 -> 0, 9 -> 1
        i += n
    return values, i
