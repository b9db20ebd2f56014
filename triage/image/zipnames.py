"""Zip names flagged UTF-8 that are not: the zip is read through a view with the flag cleared for
those members (central directory and local header), so zipfile lists them instead of refusing the
whole archive, and their bytes come back (as cp437) for `logical.name_text`."""

from __future__ import annotations

import bisect
import io
import os
import struct
import zipfile
from typing import Any, BinaryIO, Iterator

UTF8_FLAG = 0x800
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")


def unflagged(fh: BinaryIO) -> tuple[zipfile.ZipFile, set[int]]:
    """The zip read through a view in which members whose names are flagged UTF-8 but are not have
    the flag cleared (central directory and local header), so zipfile reads their names as cp437,
    which gives their bytes back; and the indexes of those members."""
    view = _Patched(fh)
    relabelled = set()
    for index, (at, name) in enumerate(_central_entries(fh)):
        flags = int.from_bytes(view.pread(at + 8, 2), "little")
        if flags & UTF8_FLAG and not is_utf8(name):
            view.clear_flag(at + 8)
            relabelled.add(index)
    archive = zipfile.ZipFile(view)
    infos = archive.infolist()
    for index in relabelled:
        if index < len(infos):
            view.clear_flag(infos[index].header_offset + 6)
    return archive, relabelled


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _central_entries(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(file offset, raw name) of each central directory entry, found as zipfile finds them."""
    size = fh.seek(0, os.SEEK_END)
    tail_at = max(0, size - _EOCD.size - 0xFFFF)
    fh.seek(tail_at)
    tail = fh.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + _EOCD.size > len(tail):
        raise zipfile.BadZipFile("no end of central directory")
    _, _, _, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, end)
    end += tail_at
    concat = end - cd_size - cd_offset  # bytes before the zip (a self-extractor's stub)
    locator = _read_at(fh, end - _EOCD64_LOCATOR.size, _EOCD64_LOCATOR.size)
    if locator.startswith(b"PK\x06\x07"):
        record = _read_at(fh, end - _EOCD64_LOCATOR.size - _EOCD64.size, _EOCD64.size)
        if record.startswith(b"PK\x06\x06"):
            _, _, _, _, _, _, _, count, cd_size, cd_offset = _EOCD64.unpack(record)
            concat = end - _EOCD64_LOCATOR.size - _EOCD64.size - cd_size - cd_offset
    at, stop = cd_offset + concat, cd_offset + concat + cd_size
    while at + _CENTRAL.size <= stop:
        header = _CENTRAL.unpack(_read_at(fh, at, _CENTRAL.size))
        if header[0] != b"PK\x01\x02":
            raise zipfile.BadZipFile(f"bad central directory entry at byte {at}")
        name_len, extra_len, comment_len = header[12:15]
        yield at, _read_at(fh, at + _CENTRAL.size, name_len)
        at += _CENTRAL.size + name_len + extra_len + comment_len


def _read_at(fh: BinaryIO, offset: int, length: int) -> bytes:
    if offset < 0:
        return b""
    fh.seek(offset)
    return fh.read(length)


class _Patched(io.RawIOBase):
    """A read-only view of a file with some bytes changed (the UTF-8 flag cleared here and there)."""

    def __init__(self, fh: BinaryIO) -> None:
        super().__init__()
        self.fh, self.pos = fh, 0
        self.patches: dict[int, int] = {}
        self.keys: list[int] = []  # the patched offsets, sorted

    def pread(self, offset: int, length: int) -> bytes:
        data = bytearray(_read_at(self.fh, offset, length))
        keys = self.keys
        for i in range(bisect.bisect_left(keys, offset), bisect.bisect_left(keys, offset + len(data))):
            data[keys[i] - offset] = self.patches[keys[i]]
        return bytes(data)

    def clear_flag(self, flags_at: int) -> None:
        """Clear bit 11 (0x800) of the little-endian flag field at `flags_at`."""
        high = flags_at + 1
        value = self.pread(high, 1)[0] & ~(UTF8_FLAG >> 8) & 0xFF
        if high not in self.patches:
            bisect.insort(self.keys, high)
        self.patches[high] = value

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: os.fstat(self.fh.fileno()).st_size}[whence]
        self.pos = base + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer: Any) -> int:
        data = self.pread(self.pos, len(buffer))
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)
