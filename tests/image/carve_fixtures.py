"""Files to plant in free space for the carving tests and the PhotoRec benchmark, built here, the
same bytes every time: JPEG (with EXIF GPS), PNG, GIF, PDF, DOCX, an SMS database, MP4, 3GP, Opus in
Ogg, WebP, a Telegram sticker (.tgs: gzip'd Lottie), and a JPEG cut short."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import struct
import zipfile
from pathlib import Path

from PIL import Image

GPS = (32.8872, 13.1913)  # Tripoli


def _picture(seed: int, size: tuple[int, int]) -> Image.Image:
    im = Image.new("RGB", size)
    im.putdata([((x * seed) % 256, (y * 7 + seed) % 256, (x * y + seed) % 256)
                for y in range(size[1]) for x in range(size[0])])
    return im


def _dms(value: float) -> tuple[float, float, float]:
    deg = int(value)
    minutes = int((value - deg) * 60)
    return float(deg), float(minutes), round(((value - deg) * 60 - minutes) * 60, 2)


def jpeg(seed: int, size: tuple[int, int] = (320, 240), gps: tuple[float, float] | None = None) -> bytes:
    im = _picture(seed, size)
    out = io.BytesIO()
    if gps is None:
        im.save(out, "JPEG", quality=90)
        return out.getvalue()
    exif = Image.Exif()
    exif[0x010F] = "DalilTest"  # Make
    ifd = exif.get_ifd(0x8825)
    ifd.update({1: "N", 2: _dms(gps[0]), 3: "E", 4: _dms(gps[1])})
    im.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def png(seed: int) -> bytes:
    out = io.BytesIO()
    _picture(seed, (160, 120)).save(out, "PNG")
    return out.getvalue()


def gif(seed: int) -> bytes:
    out = io.BytesIO()
    _picture(seed, (96, 64)).convert("P").save(out, "GIF")
    return out.getvalue()


def webp(seed: int) -> bytes:
    out = io.BytesIO()
    _picture(seed, (128, 128)).save(out, "WEBP", quality=80)
    return out.getvalue()


def pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


def docx(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in (("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<Relationships/>"),
                           ("word/document.xml", f"<w:document><w:body>{text}</w:body></w:document>" * 40)):
            info = zipfile.ZipInfo(name, (2024, 5, 1, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, body)
    return out.getvalue()


SMS_SCHEMA = ("CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,"
              "date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,"
              "type INTEGER,reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,"
              "locked INTEGER DEFAULT 0,error_code INTEGER DEFAULT 0,seen INTEGER DEFAULT 0)")
SMS_TEXTS = ("meet at the port at nine", "the boat leaves from Zuwara")


def sms_db(tmp: Path) -> bytes:
    """An Android mmssms.db (`sms`, `threads`) with two messages, page size 1024, no free pages."""
    path = tmp / "carve-sms.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size = 1024")
    conn.execute(SMS_SCHEMA)
    conn.execute("CREATE TABLE threads (_id INTEGER PRIMARY KEY, date INTEGER, recipient_ids TEXT)")
    conn.execute("INSERT INTO threads VALUES (1, 1717236000000, '1')")
    for i, body in enumerate(SMS_TEXTS, 1):
        conn.execute("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?,?,?,?,?,?)",
                     (i, 1, "+218911234567", 1717236000000 + i * 60000, 1 + i % 2, body))
    conn.commit()
    conn.execute("VACUUM")
    conn.close()
    data = path.read_bytes()
    path.unlink()
    return data


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(brand: bytes, frames: int) -> bytes:
    """ftyp, moov (mvhd) and mdat boxes: what a video file's top level is."""
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x00\x00" + brand + b"isom")
    mvhd = _box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, frames * 40) + bytes(80))
    mdat = _box(b"mdat", b"".join(struct.pack(">I", i) * 64 for i in range(1, frames + 1)))
    return ftyp + _box(b"moov", mvhd) + mdat


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(flags: int, granule: int, seq: int, payload: bytes) -> bytes:
    lacing = bytes([255] * (len(payload) // 255) + [len(payload) % 255])
    head = b"OggS\x00" + bytes([flags]) + struct.pack("<qII", granule, 0x0D411, seq) + bytes(4) + bytes([len(lacing)])
    page = head + lacing + payload
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def opus(seconds: int) -> bytes:
    """An Opus voice note in Ogg, as WhatsApp writes them: OpusHead, OpusTags, audio pages, the last
    with the end-of-stream flag."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 16000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 5) + b"Dalil" + struct.pack("<I", 0)
    pages = [_ogg_page(0x02, 0, 0, head), _ogg_page(0, 0, 1, tags)]
    for n in range(seconds):
        frame = bytes((n * 37 + i) % 251 + 1 for i in range(200))
        pages.append(_ogg_page(0x04 if n == seconds - 1 else 0, (n + 1) * 48000, n + 2, frame))
    return b"".join(pages)


def tgs(seed: int) -> bytes:
    """A Telegram animated sticker: Lottie JSON, gzip'd (no name or time in the gzip header)."""
    layers = [{"ty": 4, "nm": f"shape {i}", "ks": {"o": {"a": 0, "k": (seed * i) % 100}}} for i in range(60)]
    body = json.dumps({"tgs": 1, "v": "5.5.2", "fr": 60, "ip": 0, "op": 180, "w": 512, "h": 512,
                       "layers": layers}).encode()
    return gzip.compress(body, mtime=0)


def cut_jpeg(seed: int) -> bytes:
    """A JPEG whose last part is gone: its first 60 %, ending on a non-zero byte."""
    whole = jpeg(seed, (400, 300))
    end = len(whole) * 6 // 10
    while whole[end - 1] == 0:
        end -= 1
    return whole[:end]
