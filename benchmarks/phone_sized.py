#!/usr/bin/env python3
"""A phone-sized parse: an ext4 image of 300,000 files, most under 16 KB, some large media.

The files are laid out as an Android user partition is (app databases and caches, WhatsApp media
and chats, DCIM, thumbnails): small ones cut from Debian's own files (text, scripts, compressed and
binary data; one in eight a copy of an earlier one, as forwarded media are), large ones (8-48 MiB)
an MP4 header followed by random bytes. `dalil parse` runs once on it with the shipped packs and
prints the files per second, MB/s and the peak memory: the largest process's RSS and the whole
process tree's PSS (target < 1 GB). Not a test: prints figures measured here.

    .venv/bin/python benchmarks/phone_sized.py [--files 300000] [--large 40] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parse_vs_tsk import dalil, dalil_env, run  # noqa: E402  (a sibling script, not a package)

POOL_TREES = ["/usr/share/doc", "/usr/share/perl5", "/usr/lib/python3", "/usr/share/i18n", "/usr/share/vim",
              "/usr/share/icons", "/usr/share/mime"]
FOLDERS = ["data/data/com.whatsapp/cache", "data/data/com.android.providers.telephony/files",
           "media/0/WhatsApp/Media/WhatsApp Images/Sent", "media/0/WhatsApp/Media/WhatsApp Voice Notes",
           "media/0/DCIM/.thumbnails", "data/data/org.telegram.messenger/files/cache", "media/0/Download",
           "data/data/com.google.android.gms/files", "media/0/Android/data/com.facebook.orca/cache"]


def pool(limit: int = 16 * 1024) -> list[bytes]:
    """Contents of Debian's files under `limit` bytes (text, scripts, icons, compressed data)."""
    out: list[bytes] = []
    for tree in POOL_TREES:
        for folder, _, names in os.walk(tree):
            for name in sorted(names):
                path = os.path.join(folder, name)
                if os.path.isfile(path) and not os.path.islink(path) and 0 < os.path.getsize(path) < limit:
                    out.append(Path(path).read_bytes())
    return out


def build(work: Path, files: int, large: int) -> tuple[Path, int]:
    stage = work / "stage"
    rnd = random.Random(2026)
    contents = pool()
    total = 0
    for n in range(files - large):
        folder = stage / FOLDERS[n // 1000 % len(FOLDERS)] / f"{n // 1000:03d}"
        if n % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        data = contents[rnd.randrange(len(contents))] if n % 8 else contents[n % 997]  # one in eight: a copy
        if n % 8:
            data = data + n.to_bytes(4, "little")  # distinct content otherwise
        (folder / f"f{n:06d}.bin").write_bytes(data)
        total += len(data)
    media = stage / "media/0/DCIM/Camera"
    media.mkdir(parents=True, exist_ok=True)
    for n in range(large):
        size = rnd.randrange(8, 48) << 20
        with open(media / f"VID_{n:04d}.mp4", "wb") as fh:
            fh.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
            fh.write(os.urandom(size - 24))
        total += size
    image = work / "phone.ext4"
    size_mb = total * 5 // 4 // (1 << 20) + files // 1000 * 8 + 256
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-N", str(files + 50_000), "-d", str(stage), str(image),
                    f"{size_mb}M"], check=True)
    shutil.rmtree(stage)
    return image, total


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--files", type=int, default=300_000)
    parser.add_argument("--large", type=int, default=40, help="large media files among them")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="dalil-phone-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        image, total = build(work, args.files, args.large)
        print(f"image: {image.stat().st_size / 1e9:.2f} GB ext4, {args.files:,} files ({args.large} of 8-48 MiB), "
              f"{total / 1e9:.2f} GB of content", flush=True)
        env, case = dalil_env(work), work / "case"
        subprocess.run(dalil("case", "init", str(case), "--case-id", "PHONE", "--title", "phone-sized",
                             "--examiner", "Bench Examiner"), env=env, check=True, capture_output=True)
        subprocess.run(dalil("evidence", "add", str(image), "--exhibit", "PHONE", "--in-place", "--case", str(case)),
                       env=env, check=True, capture_output=True)
        os.sync()
        ran = run(dalil("parse", "PHONE", "--exhibit", "PHONE", "--case", str(case)), env, sample=True)
        with sqlite3.connect(case / "case.db") as db:
            rows, with_hash = db.execute("SELECT COUNT(*), COUNT(sha256) FROM files").fetchone()
        print(f"dalil parse: {ran.seconds:.1f} s, {ran.cpu:.1f} s CPU on {os.cpu_count()} cores (load average "
              f"{os.getloadavg()[0]:.1f}); {rows:,} rows ({with_hash:,} hashed): {rows / ran.seconds:,.0f} files/s, "
              f"{total / ran.seconds / 1e6:,.1f} MB/s, {ran.cpu / max(rows, 1) * 1e3:.2f} ms of CPU a file")
        print(f"peak memory: largest process {ran.rss_mib} MiB RSS, all processes together {ran.tree_mib} MiB PSS "
              "(target < 1 GB)")
        print(f"a 64 GB phone at this rate: {64e9 / (total / ran.seconds) / 60:.0f} min by bytes (target < 20)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
