"""Demo stage for disk images: build a small FAT disk image, parse it, list and export what it holds.

The image is made at demo time with mkfs.vfat and mtools (no third-party data shipped): a photo whose
EXIF carries GPS coordinates (written here byte by byte), an advert text with smuggling vocabulary and
phone numbers, the EICAR test string, and a file deleted before the image is "seized".
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

from ..core.errors import DalilError

ZUWARA = (32.9312, 12.0819)  # a departure point on the Libyan coast, for the demo photo
ADVERT = """رحلة مضمونة إلى لامبيدوزا — الحرقة مع شقف جديد، الدفع بعد الوصول
Passeur sérieux: traversée vers Lampedusa, paiement à l'arrivée.
Boat to Italy, pay on arrival. WhatsApp +218 91 234 5678 / +216 20 123 456
Telegram: t.me/demo_crossings_channel
"""
DELETED = "Ledger of passengers (demo): 12 names, 1500 EUR each. Deleted before seizure.\n"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _rational(value: float) -> list[tuple[int, int]]:
    degrees = int(value)
    minutes_f = (value - degrees) * 60
    minutes = int(minutes_f)
    seconds = round((minutes_f - minutes) * 60 * 10000)
    return [(degrees, 1), (minutes, 1), (seconds, 10000)]


def gps_jpeg(lat: float, lon: float, make: str = "DemoCam", model: str = "Demo Phone 1") -> bytes:
    """A tiny JPEG whose EXIF (big-endian TIFF) holds Make, Model and a GPS position."""
    def ascii_entry(tag: int, text: str, data_offset: int) -> tuple[bytes, bytes]:
        raw = text.encode() + b"\x00"
        if len(raw) <= 4:
            return struct.pack(">HHI4s", tag, 2, len(raw), raw.ljust(4, b"\x00")), b""
        return struct.pack(">HHII", tag, 2, len(raw), data_offset), raw

    ifd0_at, n0 = 8, 3
    data0_at = ifd0_at + 2 + n0 * 12 + 4
    e_make, d_make = ascii_entry(0x010F, make, data0_at)
    e_model, d_model = ascii_entry(0x0110, model, data0_at + len(d_make))
    gps_at = data0_at + len(d_make) + len(d_model)
    e_gps = struct.pack(">HHII", 0x8825, 4, 1, gps_at)
    ifd0 = struct.pack(">H", n0) + e_make + e_model + e_gps + b"\x00\x00\x00\x00" + d_make + d_model
    n1 = 4
    gdata_at = gps_at + 2 + n1 * 12 + 4
    lat_r = b"".join(struct.pack(">II", a, b) for a, b in _rational(abs(lat)))
    lon_r = b"".join(struct.pack(">II", a, b) for a, b in _rational(abs(lon)))
    entries = (struct.pack(">HHI4s", 1, 2, 2, (b"N" if lat >= 0 else b"S") + b"\x00\x00\x00")
               + struct.pack(">HHII", 2, 5, 3, gdata_at)
               + struct.pack(">HHI4s", 3, 2, 2, (b"E" if lon >= 0 else b"W") + b"\x00\x00\x00")
               + struct.pack(">HHII", 4, 5, 3, gdata_at + 24))
    gps = struct.pack(">H", n1) + entries + b"\x00\x00\x00\x00" + lat_r + lon_r
    tiff = b"MM\x00\x2a" + struct.pack(">I", ifd0_at) + ifd0 + gps
    app1 = b"Exif\x00\x00" + tiff
    return b"\xff\xd8" + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + b"\xff\xd9"


def build_disk(out: Path) -> Path:
    """A 4 MiB FAT16 image with the demo files; one of them deleted with mdel."""
    for tool in ("mkfs.vfat", "mcopy", "mdel", "mmd"):
        if shutil.which(tool) is None:
            raise DalilError(f"the disk demo needs {tool} (Debian packages dosfstools and mtools)")
    image = out / "seized_sd_card.img"
    stage = out / "demo_disk_files"
    stage.mkdir(exist_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(4 * 1024 * 1024)
    files = {"DCIM/IMG_0001.JPG": gps_jpeg(*ZUWARA), "NOTES/advert.txt": ADVERT.encode(),
             "NOTES/passengers.txt": DELETED.encode(), "eicar.com": EICAR}

    def run(*cmd: Any) -> None:
        subprocess.run([str(c) for c in cmd], check=True, capture_output=True)

    run("mkfs.vfat", "-n", "DEMO_SD", image)
    for folder in ("DCIM", "NOTES"):
        run("mmd", "-i", image, f"::/{folder}")
    for rel, data in files.items():
        src = stage / rel.replace("/", "_")
        src.write_bytes(data)
        run("mcopy", "-i", image, src, f"::/{rel}")
    run("mdel", "-i", image, "::/NOTES/passengers.txt")
    shutil.rmtree(stage)
    return image


def run(ctx: Any) -> None:
    """The stage called by `dalil demo`."""
    case = str(ctx.case)
    image = build_disk(ctx.out)
    # the seized card, imaged as a drive would be: read-only, hashed while copied, re-read to verify
    tsa = getattr(ctx, "tsa", None)
    ctx.dalil("image", str(image), "--exhibit", "EXH-002", "--verify", "--case", case,
              *(["--tsa", tsa.url] if tsa else []),
              "--reason", "Demo warrant 001: SD card seized from the suspect's phone")
    ctx.dalil("parse", "EXH-002", "--exhibit", "EXH-002", "--tz", "Africa/Tripoli", "--case", case,
              "--reason", "Demo warrant 001: SD card seized from the suspect's phone")
    ctx.dalil("volumes", "--exhibit", "EXH-002", "--case", case)  # each layer seen and what became of it
    ctx.dalil("files", "--exhibit", "EXH-002", "--case", case)
    ctx.dalil("files", "--exhibit", "EXH-002", "--has-gps", "--format", "jsonl", "--case", case)
    ctx.dalil("files", "--exhibit", "EXH-002", "--deleted", "--format", "csv", "--case", case)
    ctx.dalil("parse", "EXH-001", "--exhibit", "EXH-001", "--case", case, "--reason", "Demo warrant 001")
    ctx.dalil("files", "--exhibit", "EXH-001", "--case", case)
    # the phone's own records: chats (one deleted, recovered; one only in the WAL), calls, contacts
    ctx.dalil("messages", "--exhibit", "EXH-001", "--case", case)
    ctx.dalil("calls", "--exhibit", "EXH-001", "--case", case)
    ctx.dalil("contacts", "--exhibit", "EXH-001", "--case", case)
    ctx.dalil("artifacts", "--exhibit", "EXH-001", "--case", case)
    export_dir = ctx.out / "export-EXH-002"
    ctx.dalil("export", "--exhibit", "EXH-002", "--out", str(export_dir), "--case", case,
              "--reason", "Copies for the prosecutor")
    timeline = ctx.dalil("timeline", "--exhibit", "EXH-002", "--format", "bodyfile", "--case", case)
    body = ctx.out / "timeline-EXH-002.body"
    body.write_text(timeline.stdout, encoding="utf-8")
    ctx.results.append(f"disk image {image} acquired (dalil image --verify) and parsed as EXH-002; "
                       f"exported files in {export_dir}; timeline (mactime body file) {body}")
