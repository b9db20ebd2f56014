#!/usr/bin/env python3
"""A phone-sized parse: an ext4 image of 300,000 files, most under 16 KB, some large media.

The files are laid out as an Android user partition is (app databases and caches, WhatsApp media
and chats, DCIM, thumbnails): small ones cut from Debian's own files (text, scripts, compressed and
binary data; one in eight a copy of an earlier one, as forwarded media are), large ones (8-48 MiB)
an MP4 header followed by random bytes. `dalil parse` runs once on it with the shipped packs and
prints the files per second, MB/s and the peak memory: the largest process's RSS and the whole
process tree's PSS (target < 1 GB).

Most of a full 64 GB phone is media, which costs per byte (three hashes, YARA, entropy, a JPEG's
decode for its pHash), not per file. So a second image holds media only (`--media-gb`, default 2):
camera-sized JPEG photos (4032x3024, with EXIF GPS) and videos (an MP4 header, then random bytes),
parsed the same way for its MB/s. The 64 GB estimate is then the first run's time plus the rest of
the 64 GB at the media rate (and, for comparison, 64 GB at the first run's MB/s, which takes every
byte for a small file's). Not a test: prints figures measured here.

With `--image-gb 64` the estimate becomes a measurement: the 300,000-file image is made 64 GB and
filled up with media (written into it by debugfs from a pool of distinct camera photos and videos,
each written under several names, as forwarded media are), then parsed once, whole. It needs the
image's size free on the disk, and a few GB more.

    .venv/bin/python benchmarks/phone_sized.py [--files 300000] [--large 40] [--media-gb 2]
                                               [--image-gb 64] [--keep DIR]
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parse_vs_tsk import dalil, dalil_env, run  # noqa: E402  (a sibling script, not a package)

POOL_TREES = ["/usr/share/doc", "/usr/share/perl5", "/usr/lib/python3", "/usr/share/i18n", "/usr/share/vim",
              "/usr/share/icons", "/usr/share/mime"]
FOLDERS = ["data/data/com.whatsapp/cache", "data/data/com.android.providers.telephony/files",
           "media/0/WhatsApp/Media/WhatsApp Images/Sent", "media/0/WhatsApp/Media/WhatsApp Voice Notes",
           "media/0/DCIM/.thumbnails", "data/data/org.telegram.messenger/files/cache", "media/0/Download",
           "data/data/com.google.android.gms/files", "media/0/Android/data/com.facebook.orca/cache"]
FILL_PHOTOS, FILL_VIDEOS = "media/0/DCIM/Camera", "media/0/WhatsApp/Media/WhatsApp Video"
FILL_POOL = 100  # distinct photos in the pool (about 6 MB each) and as many videos (8-48 MiB)


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


def build(work: Path, files: int, large: int, image_bytes: int = 0) -> tuple[Path, int]:
    """The phone-sized image and the bytes of content in it; `image_bytes`: its size (default: its
    content's, with room for the file system)."""
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
    (stage / FILL_PHOTOS).mkdir(parents=True, exist_ok=True)
    (stage / FILL_VIDEOS).mkdir(parents=True, exist_ok=True)
    image = work / "phone.ext4"
    size_mb = max(total * 5 // 4 // (1 << 20) + files // 1000 * 8 + 256, image_bytes // (1 << 20))
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-m", "0", "-N", str(files + 50_000), "-d", str(stage), str(image),
                    f"{size_mb}M"], check=True)
    shutil.rmtree(stage)
    return image, total


def photo(rnd: random.Random, n: int) -> bytes:
    """A camera-sized JPEG (4032x3024, quality 90, EXIF GPS): a gradient under noise, unique per n."""
    import io

    from PIL import Image

    base = Image.linear_gradient("L").resize((4032, 3024)).convert("RGB")
    noise = Image.effect_noise((4032, 3024), 24 + n % 16).convert("RGB")
    img = Image.blend(base, noise, 0.35 + (n % 7) / 50)
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (32.0, 53.0, float(n % 60)), 3: "E", 4: (13.0, 11.0, 2.5)})  # Tripoli
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def build_media(work: Path, gb: float) -> tuple[Path, int, int]:
    """An ext4 image of about `gb` GB of media: photos and videos, about half the bytes each."""
    stage = work / "media-stage"
    rnd = random.Random(64)
    camera, videos = stage / "media/0/DCIM/Camera", stage / "media/0/WhatsApp/Media/WhatsApp Video"
    camera.mkdir(parents=True)
    videos.mkdir(parents=True)
    total = count = 0
    first = photo(rnd, 0)
    while total < gb * 1e9 / 2:  # photos: one in ten encoded anew, the others a copy with 4 bytes of its own after the end
        data = photo(rnd, count) if count % 10 == 0 else first + count.to_bytes(4, "big")
        (camera / f"IMG_2026{count:05d}.jpg").write_bytes(data)
        total += len(data)
        count += 1
    n = 0
    while total < gb * 1e9:
        size = rnd.randrange(8, 48) << 20
        with open(videos / f"VID-2026{n:04d}-WA0001.mp4", "wb") as fh:
            fh.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
            fh.write(os.urandom(size - 24))
        total += size
        n += 1
    image = work / "media.ext4"
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", str(stage), str(image),
                    f"{total * 5 // 4 // (1 << 20) + 256}M"], check=True)
    shutil.rmtree(stage)
    return image, total, count + n


def fill(work: Path, image: Path, target: int) -> tuple[int, int]:
    """Write media into `image` with debugfs until about `target` bytes of content are in it: photos
    and videos, half the bytes each, from a pool of FILL_POOL distinct ones (each written under
    several names). Returns (bytes, files) written."""
    pool_dir = work / "pool"
    pool_dir.mkdir()
    rnd = random.Random(6464)
    photos, videos = [], []
    for n in range(FILL_POOL):
        photos.append(pool_dir / f"p{n}.jpg")
        photos[-1].write_bytes(photo(rnd, n))
        videos.append(pool_dir / f"v{n}.mp4")
        with open(videos[-1], "wb") as fh:
            fh.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
            fh.write(os.urandom((rnd.randrange(8, 48) << 20) - 24))
    sizes = {p: p.stat().st_size for p in photos + videos}
    free = int(subprocess.run(["dumpe2fs", "-h", str(image)], capture_output=True, text=True, check=True).stdout
               .split("Free blocks:")[1].split()[0]) * 4096
    target = min(target, free - (256 << 20))  # room for the extent trees
    commands: list[str] = []
    written = photo_bytes = video_bytes = n_photo = n_video = 0
    while written < target:
        if photo_bytes <= video_bytes:
            src, name, folder = photos[n_photo % len(photos)], f"IMG_2026{n_photo:06d}.jpg", FILL_PHOTOS
            photo_bytes += sizes[src]
            n_photo += 1
        else:
            src, name, folder = videos[n_video % len(videos)], f"VID-2026{n_video:05d}-WA0001.mp4", FILL_VIDEOS
            video_bytes += sizes[src]
            n_video += 1
        if written + sizes[src] > target:
            break
        commands.append(f'write "{src}" "/{folder}/{name}"')
        written += sizes[src]
    script = work / "fill.debugfs"
    script.write_text("\n".join(commands) + "\n")
    out = subprocess.run(["debugfs", "-w", "-f", str(script), str(image)], capture_output=True, text=True)
    if out.returncode != 0 or "No free space" in out.stderr or "Could not allocate" in out.stderr:
        raise SystemExit(f"debugfs could not fill {image}: {out.stderr[-2000:]}")
    shutil.rmtree(pool_dir)
    return written, len(commands)


def parse_once(work: Path, image: Path, name: str) -> tuple[Any, int, int]:
    """`dalil parse` of `image` in a new case: (its run, rows listed, rows hashed)."""
    env, case = dalil_env(work), work / f"case-{name}"
    subprocess.run(dalil("case", "init", str(case), "--case-id", name.upper(), "--title", name,
                         "--examiner", "Bench Examiner"), env=env, check=True, capture_output=True)
    subprocess.run(dalil("evidence", "add", str(image), "--exhibit", "PHONE", "--in-place", "--case", str(case)),
                   env=env, check=True, capture_output=True)
    os.sync()
    ran = run(dalil("parse", "PHONE", "--exhibit", "PHONE", "--case", str(case)), env, sample=True)
    with sqlite3.connect(case / "case.db") as db:
        rows, with_hash = db.execute("SELECT COUNT(*), COUNT(sha256) FROM files").fetchone()
    return ran, int(rows), int(with_hash)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--files", type=int, default=300_000)
    parser.add_argument("--large", type=int, default=40, help="large media files among them")
    parser.add_argument("--media-gb", type=float, default=2.0, help="GB of the media-only image (0: none)")
    parser.add_argument("--image-gb", type=float, default=0.0,
                        help="make the image this size and fill it up with media: a measured, not estimated, "
                             "full phone (e.g. 64; needs that much free disk and a few GB more)")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="dalil-phone-"))
    work.mkdir(parents=True, exist_ok=True)
    image_bytes = int(args.image_gb * 1e9)
    if image_bytes and shutil.disk_usage(work).free < image_bytes + (8 << 30):
        raise SystemExit(f"--image-gb {args.image_gb:g}: {work} has {shutil.disk_usage(work).free / 1e9:.0f} GB free, "
                         f"{image_bytes / 1e9 + 8.6:.0f} GB needed")
    try:
        image, total = build(work, args.files, args.large, image_bytes)
        image_size = image.stat().st_size
        print(f"image: {image_size / 1e9:.2f} GB ext4, {args.files:,} files ({args.large} of 8-48 MiB), "
              f"{total / 1e9:.2f} GB of content", flush=True)
        if image_bytes:
            added, count = fill(work, image, image_bytes - total)
            total += added
            print(f"filled with {count:,} photos and videos ({added / 1e9:.2f} GB, {FILL_POOL} distinct of each, "
                  f"written by debugfs): {total / 1e9:.2f} GB of content in {args.files + count:,} files", flush=True)
        ran, rows, with_hash = parse_once(work, image, "phone")
        image.unlink()
        print(f"dalil parse: {ran.seconds:.1f} s, {ran.cpu:.1f} s CPU on {os.cpu_count()} cores (load average "
              f"{os.getloadavg()[0]:.1f}); {rows:,} rows ({with_hash:,} hashed): {rows / ran.seconds:,.0f} files/s, "
              f"{total / ran.seconds / 1e6:,.1f} MB/s, {ran.cpu / max(rows, 1) * 1e3:.2f} ms of CPU a file")
        print(f"peak memory: largest process {ran.rss_mib} MiB RSS, all processes together {ran.tree_mib} MiB PSS "
              "(target < 1 GB)", flush=True)
        estimate = f"a 64 GB phone at this rate: {64e9 / (total / ran.seconds) / 60:.0f} min by bytes"
        if image_bytes:
            estimate = (f"a {image_size / 1e9:.0f} GB phone image, measured: {ran.seconds / 60:.1f} min for "
                        f"{total / 1e9:.1f} GB of content in {rows:,} rows (target < 20 min for 64 GB)")
        if args.media_gb > 0 and not image_bytes:
            media, media_total, media_files = build_media(work, args.media_gb)
            mran, mrows, _ = parse_once(work, media, "media")
            rate = media_total / mran.seconds
            print(f"media: {media_files:,} photos and videos, {media_total / 1e9:.2f} GB: {mran.seconds:.1f} s, "
                  f"{mran.cpu:.1f} s CPU, {rate / 1e6:,.1f} MB/s; peak memory {mran.rss_mib} MiB RSS, "
                  f"{mran.tree_mib} MiB PSS")
            composed = ran.seconds + max(0.0, 64e9 - total) / rate
            estimate = (f"a 64 GB phone: {composed / 60:.1f} min ({rows:,} files as above, {ran.seconds:.0f} s, and "
                        f"{max(0.0, 64e9 - total) / 1e9:.1f} GB of media at {rate / 1e6:.0f} MB/s; target < 20); "
                        f"every byte at the first run's MB/s instead: {64e9 / (total / ran.seconds) / 60:.0f} min")
        print(estimate)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
