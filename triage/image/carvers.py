"""Structure-aware carvers: given bytes that start with a known header, how long is the file?

Each carver is registered with its header (`@carver(NAME, EXT, regex)`) and walks the format's own
structure rather than guessing from a size cap: JPEG markers to the end-of-image marker, PNG chunks
(CRC-checked) to IEND, GIF blocks to the trailer, PDF to its last `%%EOF`, ZIP to the end of central
directory whose offsets agree, MP4/3GP boxes, SQLite's page size × page count, Ogg pages (WhatsApp
and Telegram voice notes are Opus in Ogg), RIFF/WebP (stickers) and gzip (Telegram's .tgs stickers),
inflated to its end and checked against its trailer. A carver returns a `Carved` (length, extension,
note) or None when the bytes are not that format after all. A file cut short (its end overwritten or
past the free space) is carved to where its data ends (`Region.boundary`), with a note saying so.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import Callable

SECTOR = 512
CHUNK = 1 << 20
ZERO_SECTOR = bytes(SECTOR)
MAX_LENGTH = 256 * 1024 * 1024  # no carved file longer than this (nor than the free run it starts in)


class Region:
    """Bytes of the image from `start` to `end` (a free run), read through `read(offset, length)`."""

    def __init__(self, read: Callable[[int, int], bytes], start: int, end: int) -> None:
        self._read, self.start = read, start
        self.size = min(end - start, MAX_LENGTH)
        self._cache_at, self._cache = -1, b""

    def read(self, at: int, length: int) -> bytes:
        """Up to `length` bytes at `at` (fewer at the region's end)."""
        length = min(length, self.size - at)
        if length <= 0:
            return b""
        if self._cache_at <= at and at + length <= self._cache_at + len(self._cache):
            return self._cache[at - self._cache_at:at - self._cache_at + length]
        if length <= 64 * 1024:  # small reads (headers, markers) come from a cached 1 MiB window
            self._cache_at, self._cache = at, self._read(self.start + at, min(CHUNK, self.size - at))
            return self._cache[:length]
        return self._read(self.start + at, length)

    def boundary(self, at: int) -> int:
        """The first sector start after `at` (and after the file's own first sector) where another
        file's data begins or none is left: a whole zero sector (never written, or wiped) or a
        registered header (files start on sector boundaries). The region's end when there is none."""
        pos = max(SECTOR, -(-at // SECTOR) * SECTOR)
        while pos < self.size:
            chunk = self.read(pos, CHUNK)
            if not chunk:
                break
            stop = self.stop_in(chunk, pos)
            if stop is not None:
                return stop
            pos += len(chunk)
        return self.size

    @staticmethod
    def stop_in(chunk: bytes, pos: int, first: int = 0) -> int | None:
        """The first boundary (see `boundary`) among the sector starts of `chunk` (read at `pos`, a
        sector start) from its byte `first` on, the file's own first sector excepted; None when there
        is none in it."""
        headers, starts = _headers()
        for i in range(max(SECTOR - pos, -(-first // SECTOR) * SECTOR, 0), len(chunk), SECTOR):
            if chunk[i] == 0 and chunk[i:i + SECTOR] == ZERO_SECTOR[:len(chunk) - i]:
                return pos + i
            if (chunk[i] in starts or chunk[i + 4:i + 8] == b"ftyp") and headers.match(chunk, i):
                return pos + i
        return None

    def data_end(self, at: int) -> int:
        """Where the data from `at` ends: at the next `boundary`, trailing zero bytes before it not
        counted (a file cut short was overwritten or never finished there)."""
        end = self.boundary(at)
        back = self.read(max(at, end - SECTOR), end - max(at, end - SECTOR))
        return max(at, end - (len(back) - len(back.rstrip(b"\0"))))


@dataclass
class Carved:
    length: int
    ext: str
    note: str | None = None


Carver = Callable[[Region], "Carved | None"]


@dataclass
class Format:
    name: str
    ext: str
    header: bytes  # a regular expression (bytes) matching the start of the file
    carve: Carver


FORMATS: dict[str, Format] = {}


def carver(name: str, ext: str, header: bytes) -> Callable[[Carver], Carver]:
    """Register a carver for files starting with `header` (a bytes regex)."""
    def register(fn: Carver) -> Carver:
        FORMATS[name] = Format(name, ext, header, fn)
        return fn
    return register


def truncated(what: str) -> str:
    return f"truncated {what}: carved to the end of its data (the rest is missing or overwritten)"


# --- JPEG -------------------------------------------------------------------------------------------------

@carver("jpeg", "jpg", rb"\xff\xd8\xff[\xc0-\xfe]")
def jpeg(r: Region) -> Carved | None:
    pos, frame, scans = 2, False, 0
    while True:
        head = r.read(pos, 4)
        if len(head) < 2 or head[0] != 0xFF:
            break
        marker = head[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return Carved(pos + 2, "jpg") if frame and scans else None
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if marker < 0xC0 or len(head) < 4:
            break
        length = struct.unpack_from(">H", head, 2)[0]
        if length < 2:
            break
        frame = frame or marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)
        pos += 2 + length
        if marker == 0xDA:
            scans += 1
            found = _entropy_end(r, pos)
            if found is None:  # the scan runs into zeros or the end: the rest of the picture is gone
                end = r.data_end(pos)
                return Carved(end, "jpg", truncated("JPEG (no end-of-image marker)")) if frame else None
            pos = found
    if frame and scans:
        return Carved(r.data_end(pos) if pos >= r.size else pos, "jpg",
                      truncated("JPEG (its markers stop before the end-of-image marker)"))
    return None


def _entropy_end(r: Region, pos: int) -> int | None:
    """The offset of the marker after entropy-coded data (0xFF not followed by 00, a restart marker
    or a fill byte), or None if the data ends first (`Region.boundary`: zeros, another file's header).
    Read a chunk at a time, so a picture followed by other data is not read past its end."""
    sector = pos - pos % SECTOR
    while sector < r.size:
        chunk = r.read(sector, CHUNK + 1)  # one byte more: a 0xFF at the chunk's end is seen with the next
        if not chunk:
            return None
        body = chunk[:CHUNK]
        stop = r.stop_in(body, sector, pos - sector)  # not before `pos`: the sector's start is the header's
        limit = (stop - sector) if stop is not None else len(body)
        at = chunk.find(b"\xff", max(0, pos - sector), limit)
        while at >= 0:
            if at + 1 >= len(chunk):
                break
            nxt = chunk[at + 1]
            if nxt != 0 and not 0xD0 <= nxt <= 0xD7 and nxt != 0xFF:
                return sector + at
            at = chunk.find(b"\xff", at + 1, limit)
        if stop is not None or len(body) < CHUNK:
            return None
        sector += CHUNK
    return None


# --- PNG --------------------------------------------------------------------------------------------------

@carver("png", "png", rb"\x89PNG\r\n\x1a\n")
def png(r: Region) -> Carved | None:
    pos, good = 8, 0
    while True:
        head = r.read(pos, 8)
        if len(head) < 8:
            break
        length, kind = struct.unpack(">I4s", head)
        if not kind.isalpha() or length > r.size or (good == 0 and kind != b"IHDR"):
            break
        crc = zlib.crc32(kind)
        at, left = pos + 8, length
        while left:
            piece = r.read(at, min(CHUNK, left))
            if not piece:
                break
            crc = zlib.crc32(piece, crc)
            at += len(piece)
            left -= len(piece)
        stored = r.read(at, 4)
        if left or len(stored) < 4 or struct.unpack(">I", stored)[0] != crc & 0xFFFFFFFF:
            break
        pos = at + 4
        good += 1
        if kind == b"IEND":
            return Carved(pos, "png")
    if good:  # the header chunk is whole: what follows it, up to where the data stops, is the picture's start
        return Carved(r.data_end(pos), "png", truncated("PNG (no IEND chunk)"))
    return None


# --- GIF --------------------------------------------------------------------------------------------------

@carver("gif", "gif", rb"GIF8[79]a")
def gif(r: Region) -> Carved | None:
    screen = r.read(6, 7)
    if len(screen) < 7:
        return None
    pos = 13 + (3 * 2 ** ((screen[4] & 7) + 1) if screen[4] & 0x80 else 0)
    images = 0
    while True:
        kind = r.read(pos, 1)
        if not kind:
            break
        if kind == b"\x3b":
            return Carved(pos + 1, "gif") if images else None
        if kind == b"\x21":
            end = _sub_blocks(r, pos + 2)
        elif kind == b"\x2c":
            desc = r.read(pos + 1, 9)
            if len(desc) < 9:
                break
            table = 3 * 2 ** ((desc[8] & 7) + 1) if desc[8] & 0x80 else 0
            end = _sub_blocks(r, pos + 10 + table + 1)
            images += end is not None
        else:
            break
        if end is None:
            break
        pos = end
    return Carved(pos, "gif", truncated("GIF (no trailer)")) if images else None


def _sub_blocks(r: Region, pos: int) -> int | None:
    while True:
        size = r.read(pos, 1)
        if not size:
            return None
        pos += 1 + size[0]
        if size[0] == 0:
            return pos
        if pos > r.size:
            return None


# --- PDF --------------------------------------------------------------------------------------------------

@carver("pdf", "pdf", rb"%PDF-1\.[0-9]|%PDF-2\.0")
def pdf(r: Region) -> Carved | None:
    """To the `%%EOF` after which no incremental update follows (an updated PDF has one `%%EOF` per
    revision, each update starting with an object or a cross-reference table right after it)."""
    pos = 0
    while pos < r.size:
        chunk = r.read(pos, CHUNK + 64)  # a little more: `%%EOF` and what follows it across the chunk's end
        if len(chunk) < 5:
            break
        at = chunk.find(b"%%EOF", 0, CHUNK)
        while at >= 0:
            end = at + 5
            end += 2 if chunk[end:end + 2] == b"\r\n" else 1 if chunk[end:end + 1] in (b"\r", b"\n") else 0
            after = chunk[end:end + 40] if end + 40 <= len(chunk) else r.read(pos + end, 40)
            if not UPDATE.match(after):
                return Carved(pos + end, "pdf")
            at = chunk.find(b"%%EOF", at + 5, CHUNK)
        pos += CHUNK
    end = r.data_end(5)
    return Carved(end, "pdf", truncated("PDF (no %%EOF)")) if end > 64 else None


UPDATE = re.compile(rb"[\r\n\t ]*(\d+ \d+ obj|xref)")


# --- ZIP (docx, xlsx, pptx, odt, apk, jar…) -------------------------------------------------------------

@carver("zip", "zip", rb"PK\x03\x04")
def zip_(r: Region) -> Carved | None:
    """To the end-of-central-directory record whose directory offset and size agree with its place."""
    pos = 0
    while pos < r.size:
        chunk = r.read(pos, CHUNK)
        if not chunk:
            break
        at = chunk.find(b"PK\x05\x06")
        while at >= 0:
            eocd = pos + at
            rec = r.read(eocd, 22)
            if len(rec) == 22:
                size, offset, comment = struct.unpack_from("<IIH", rec, 12)
                if offset + size == eocd and offset < eocd:
                    return Carved(eocd + 22 + comment, _zip_kind(r, offset, size))
            at = chunk.find(b"PK\x05\x06", at + 1)
        pos += max(1, len(chunk) - 3)
        if len(chunk) < 4:
            break
    return None


ODF = {b"application/vnd.oasis.opendocument.text": "odt", b"application/vnd.oasis.opendocument.spreadsheet": "ods",
       b"application/vnd.oasis.opendocument.presentation": "odp"}


def _zip_kind(r: Region, cd_offset: int, cd_size: int) -> str:
    """docx, xlsx, pptx, odt/ods/odp, apk, jar, epub or zip, from the member names."""
    first = r.read(0, 30 + 8 + 60)
    name_len, extra_len = struct.unpack_from("<HH", first, 26)
    if first[30:30 + name_len] in (b"mimetype",):
        body = r.read(30 + name_len + extra_len, 60)
        for mime, ext in ODF.items():
            if body.startswith(mime):
                return ext
        if body.startswith(b"application/epub+zip"):
            return "epub"
    directory = r.read(cd_offset, min(cd_size, 1 << 20))
    names, at = [], 0
    while at + 46 <= len(directory) and directory[at:at + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, at + 28)
        names.append(directory[at + 46:at + 46 + name_len])
        at += 46 + name_len + extra_len + comment_len
    listing = b"\n".join(names)
    for prefix, ext in ((b"word/", "docx"), (b"xl/", "xlsx"), (b"ppt/", "pptx"), (b"AndroidManifest.xml", "apk"),
                        (b"classes.dex", "apk"), (b"META-INF/MANIFEST.MF", "jar")):
        if re.search(rb"(^|\n)" + re.escape(prefix), listing):
            return ext
    return "zip"


# --- MP4 / 3GP / MOV --------------------------------------------------------------------------------------

BOX = re.compile(rb"[a-zA-Z0-9 \xa9_-]{4}")


@carver("mp4", "mp4", rb"[\x00-\xff]{4}ftyp")
def mp4(r: Region) -> Carved | None:
    pos, seen = 0, set()
    while pos + 8 <= r.size:
        head = r.read(pos, 16)
        if len(head) < 8:
            break
        size, kind = struct.unpack_from(">I4s", head)
        if not BOX.fullmatch(kind) or (pos == 0 and kind != b"ftyp"):
            break
        if size == 1:
            if len(head) < 16:
                break
            size = struct.unpack_from(">Q", head, 8)[0]
        if size < 8 or pos + size > r.size:
            break
        seen.add(kind)
        pos += size
    if b"ftyp" not in seen or pos <= 8:
        return None
    brand = r.read(8, 4)
    ext = "3gp" if brand.startswith((b"3gp", b"3g2")) else "mov" if brand == b"qt  " else \
        "m4a" if brand == b"M4A " else "mp4"
    if b"moov" not in seen or b"mdat" not in seen:
        return Carved(pos, ext, truncated("MP4 (no moov or mdat box)")) if seen - {b"ftyp", b"free"} else None
    return Carved(pos, ext)


# --- SQLite -----------------------------------------------------------------------------------------------

@carver("sqlite", "sqlite", rb"SQLite format 3\x00")
def sqlite(r: Region) -> Carved | None:
    """Page size × page count from the header (valid since SQLite 3.7.0 when the version-valid-for
    number equals the change counter)."""
    head = r.read(0, 100)
    if len(head) < 100:
        return None
    page = struct.unpack_from(">H", head, 16)[0]
    page = 65536 if page == 1 else page
    counter, pages = struct.unpack_from(">II", head, 24)
    valid_for = struct.unpack_from(">I", head, 92)[0]
    if page < 512 or page & (page - 1) or not pages or counter != valid_for:
        return None
    length = page * pages
    if length > r.size:
        return Carved(r.data_end(100), "sqlite", truncated(f"SQLite database ({pages} pages of {page} bytes "
                                                            "in its header)"))
    return Carved(length, "sqlite")


# --- Ogg (Opus voice notes) -------------------------------------------------------------------------------

@carver("ogg", "ogg", rb"OggS\x00\x02")
def ogg(r: Region) -> Carved | None:
    pos, pages, ended = 0, 0, False
    while True:
        head = r.read(pos, 27)
        if len(head) < 27 or head[:5] != b"OggS\x00":
            break
        table = r.read(pos + 27, head[26])
        if len(table) < head[26]:
            break
        size = 27 + head[26] + sum(table)
        if pos + size > r.size:
            break
        pages += 1
        ended = bool(head[5] & 0x04)
        pos += size
    if not pages:
        return None
    ext = "opus" if r.read(27 + r.read(26, 1)[0], 8) == b"OpusHead" else "ogg"
    return Carved(pos, ext) if ended else Carved(pos, ext, truncated("Ogg stream (no end-of-stream page)"))


# --- RIFF WebP (stickers) ---------------------------------------------------------------------------------

@carver("webp", "webp", rb"RIFF[\x00-\xff]{4}WEBPVP8")
def webp(r: Region) -> Carved | None:
    size = struct.unpack_from("<I", r.read(4, 4))[0]
    length = 8 + size + (size & 1)
    if size < 12 or length > r.size:
        return None
    return Carved(length, "webp")


# --- gzip (Telegram's animated stickers, .tgs, are gzip'd Lottie JSON) -----------------------------------

GZIP_MAX_OUTPUT = 512 * 1024 * 1024  # inflating stops past this (a decompression bomb is not followed)


@carver("gzip", "gz", rb"\x1f\x8b\x08[\x00-\x1f]")
def gzip_(r: Region) -> Carved | None:
    """To the end of the deflate stream and its trailer, whose CRC-32 and length must match what
    was inflated (the stream itself says where it ends)."""
    head = r.read(0, 10)
    if len(head) < 10:
        return None
    flags, pos = head[3], 10
    if flags & 0x04:  # FEXTRA
        pos += 2 + struct.unpack("<H", r.read(pos, 2).ljust(2, b"\0"))[0]
    for flag in (0x08, 0x10):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            end = r.read(pos, 4096).find(b"\0")
            if end < 0:
                return None
            pos += end + 1
    if flags & 0x02:  # FHCRC
        pos += 2
    inflater, crc, produced, start = zlib.decompressobj(-15), 0, 0, b""
    while not inflater.eof:
        feed = r.read(pos, CHUNK)
        if not feed:
            return None
        fed_at = pos
        while feed and not inflater.eof:
            try:
                out = inflater.decompress(feed, CHUNK)
            except zlib.error:
                return None
            crc, produced = zlib.crc32(out, crc), produced + len(out)
            start = start or out[:16]
            if produced > GZIP_MAX_OUTPUT:
                return None
            consumed = len(feed) - len(inflater.unconsumed_tail)
            fed_at, feed = fed_at + consumed, inflater.unconsumed_tail
        pos = fed_at - len(inflater.unused_data) if inflater.eof else fed_at
    trailer = r.read(pos, 8)
    if len(trailer) < 8 or struct.unpack("<II", trailer) != (crc & 0xFFFFFFFF, produced & 0xFFFFFFFF):
        return None
    return Carved(pos + 8, "tgs" if start.startswith(b'{"tgs"') else "gz")


def header_regex() -> re.Pattern[bytes]:
    """One expression finding every registered header (zero-width, so overlapping starts are all seen)."""
    return re.compile(b"(?=" + b"|".join(b"(?P<" + name.encode() + b">" + f.header + b")"
                                         for name, f in FORMATS.items()) + b")", re.S)


def first_bytes() -> frozenset[int]:
    """The first byte of every header that has a fixed one (MP4's `ftyp` is its 5th to 8th bytes)."""
    out = set()
    for fmt in FORMATS.values():
        first = re.match(rb"\\x([0-9a-f]{2})|([A-Za-z%])", fmt.header)
        if first is not None:
            out.add(int(first.group(1), 16) if first.group(1) else first.group(2)[0])
    return frozenset(out)


_HEADERS: tuple[re.Pattern[bytes], frozenset[int], int] | None = None


def _headers() -> tuple[re.Pattern[bytes], frozenset[int]]:
    """header_regex() and first_bytes(), built again only when a carver was registered since."""
    global _HEADERS
    if _HEADERS is None or _HEADERS[2] != len(FORMATS):
        _HEADERS = (header_regex(), first_bytes(), len(FORMATS))
    return _HEADERS[0], _HEADERS[1]
