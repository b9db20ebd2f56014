#!/usr/bin/env python3
"""Benchmark: Dalil's carver against PhotoRec (`photorec /d OUT /cmd IMAGE options,…,freespace,search`)
on the same images: recall of the files known to be there, false positives, time.

Builds two images with the file-system tools: an ext4 volume (files deleted with debugfs, whose block
pointers ext4 clears, and files written straight into free blocks) and a FAT32 volume (files deleted
with mdel, whose cluster chains are gone). Each also holds allocated files of the same kinds, which
neither tool should give back (both carve free space only). The planted files are built by
tests/image/carve_fixtures.py (JPEG with GPS, PNG, GIF, WebP, PDF, DOCX, SQLite, MP4, 3GP, Opus, TGS),
plus JPEGs cut short. A tool *finds* a planted file when one of its outputs has that file's SHA-256;
an output matching no planted file is a *false positive* (a cut JPEG carved to another length counts
there too). Both sides run on each image `--runs` times, alternating; the table gives each side's
recall, false positives and median seconds, and the time ratio. Dalil's side is the carving stage of
`dalil parse --carve` (free space from the allocation map, scan, read and SHA-256 of each carved
file), without the listing and the analysers; PhotoRec's writes its files into a temporary folder.

    .venv/bin/python benchmarks/carve_vs_photorec.py [--copies 6] [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "image"))
sys.path.insert(0, str(ROOT))

import pytsk3  # noqa: E402

import carve_fixtures as fx  # type: ignore[import-not-found]  # noqa: E402
from triage.image.carve import Carver, ImageReader  # noqa: E402
from triage.image.container import open_image  # noqa: E402
from triage.image.walk import volumes  # noqa: E402

MiB = 1024 * 1024


def sh(*cmd: str | Path, cwd: Path | None = None) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, cwd=cwd)


def kinds(seed: int, tmp: Path) -> dict[str, bytes]:
    """One file of each kind, different for each seed."""
    return {"jpg": fx.jpeg(seed, (320 + seed % 7 * 16, 240), gps=fx.GPS if seed % 2 else None),
            "png": fx.png(seed), "gif": fx.gif(seed), "webp": fx.webp(seed), "pdf": fx.pdf(f"invoice {seed}"),
            "docx": fx.docx(f"route {seed}"), "sqlite": _db(tmp, seed), "mp4": fx.mp4(b"isom", 20 + seed),
            "3gp": fx.mp4(b"3gp5", 10 + seed), "opus": fx.opus(2 + seed % 5), "tgs": fx.tgs(seed),
            "cut.jpg": fx.cut_jpeg(seed + 100)}


def _db(tmp: Path, seed: int) -> bytes:
    import sqlite3

    path = tmp / f"db{seed}.sqlite"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size = 1024")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"row {i} of {seed} " * 8) for i in range(40 + seed * 10)])
    conn.commit()
    conn.close()
    data = path.read_bytes()
    path.unlink()
    return data


def ext4_image(work: Path, copies: int) -> tuple[Path, dict[str, str]]:
    """64 MiB ext4: `copies` sets deleted with debugfs, `copies` sets written into free blocks, one set kept."""
    root = work / "ext-root"
    root.mkdir()
    deleted: list[str] = []
    planted_sets = []
    for c in range(copies):
        for ext, data in kinds(c, work).items():
            name = f"d{c}.{ext}"
            (root / name).write_bytes(data)
            deleted.append(name)
        planted_sets.append(kinds(1000 + c, work))
    for ext, data in kinds(500, work).items():  # allocated: not to be carved
        (root / f"keep.{ext}").write_bytes(data)
    image = work / "ext4.img"
    sh("mke2fs", "-q", "-t", "ext4", "-b", "4096", "-d", root, image, "64M")
    for name in deleted:
        sh("debugfs", "-w", "-R", f"rm /{name}", image)
    raw = image.read_bytes()
    # ext4 leaves holes for all-zero blocks of a file (mke2fs -d writes sparse): those are not whole in free space
    known = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name.split(".", 1)[1] for p in root.iterdir()
             if p.name.startswith("d") and raw.find(p.read_bytes()) >= 0}
    planted = [(ext, d) for s in planted_sets for ext, d in s.items()]
    at = (64 * MiB) // 4096 - sum(-(-len(d) // 4096) + 1 for _, d in planted) - 8
    with open(image, "r+b") as fh:  # the end of the volume is free after mke2fs
        for ext, data in planted:
            fh.seek(at * 4096)
            fh.write(data)
            at += -(-len(data) // 4096) + 1
            known[hashlib.sha256(data).hexdigest()] = ext
    return image, known


def fat_image(work: Path, copies: int) -> tuple[Path, dict[str, str]]:
    """128 MiB FAT32: `copies` sets copied then deleted with mdel, one set kept."""
    image = work / "fat32.img"
    with open(image, "wb") as fh:
        fh.truncate(128 * MiB)
    sh("mkfs.vfat", "-F", "32", image)
    known: dict[str, str] = {}
    src = work / "src.bin"
    for c in range(copies):
        for ext, data in kinds(2000 + c, work).items():
            src.write_bytes(data)
            sh("mcopy", "-i", image, src, f"::/D{c}.{ext.replace('.', '')}")
            known[hashlib.sha256(data).hexdigest()] = ext
    for ext, data in kinds(2500, work).items():
        src.write_bytes(data)
        sh("mcopy", "-i", image, src, f"::/KEEP.{ext.replace('.', '')}")
    for c in range(copies):
        for ext in kinds(0, work):
            sh("mdel", "-i", image, f"::/D{c}.{ext.replace('.', '')}")
    return image, known


def dalil(image: Path) -> list[str]:
    source = open_image(image)
    img, size = source.img, source.size
    carver = Carver(ImageReader(source), size, lambda where, msg: None, "BENCH")
    vs_type, found = volumes(img, size)
    out = []
    for vol in found:
        fs = pytsk3.FS_Info(img, offset=vol.offset)
        for entry in carver.filesystem(vol, fs):
            digest = hashlib.sha256()
            for at in range(0, entry.size, 4 * MiB):
                digest.update(entry.read(at, min(4 * MiB, entry.size - at)))
            out.append(digest.hexdigest())
    for entry in carver.unpartitioned(found, vs_type):
        out.append(hashlib.sha256(entry.read(0, entry.size)).hexdigest())
    carver.close()
    img.close()
    return out


def photorec(image: Path, work: Path) -> list[str]:
    out = work / "photorec"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    sh("photorec", "/log", "/d", out / "recup", "/cmd", image, "options,keep_corrupted_file_no,freespace,search",
       cwd=out)
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*")
            if p.is_file() and p.parent.name.startswith("recup") and p.name != "report.xml"]


def timed(fn: Callable[[], list[str]]) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    found = fn()
    return time.perf_counter() - t0, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=6, help="sets of the twelve kinds per image (default 6)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each tool per image (default 5)")
    args = parser.parse_args()
    for tool in ("photorec", "mke2fs", "debugfs", "mkfs.vfat", "mcopy", "mdel"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: testdisk, e2fsprogs, dosfstools, mtools)")
    with tempfile.TemporaryDirectory(prefix="carve-bench-") as tmp:
        work = Path(tmp)
        rows = []
        for label, build in (("ext4 64 MiB", ext4_image), ("FAT32 128 MiB", fat_image)):
            sub = work / label.split()[0]
            sub.mkdir()
            image, known = build(sub, args.copies)
            times: dict[str, list[float]] = {"dalil": [], "photorec": []}
            results: dict[str, list[str]] = {}
            for _ in range(args.runs):
                for side, fn in (("dalil", lambda: dalil(image)), ("photorec", lambda: photorec(image, sub))):
                    seconds, found = timed(fn)
                    times[side].append(seconds)
                    results[side] = found
            for side in ("dalil", "photorec"):
                found = results[side]
                hit = set(known) & set(found)
                missed: dict[str, int] = {}
                for digest, kind in known.items():
                    if digest not in hit:
                        missed[kind] = missed.get(kind, 0) + 1
                rows.append((label, side, len(known), len(hit), sum(1 for h in found if h not in known),
                             statistics.median(times[side]),
                             " ".join(f"{k}:{n}" for k, n in sorted(missed.items())) or "-"))
            ratio = statistics.median(times["photorec"]) / statistics.median(times["dalil"])
            rows.append((label, "ratio", 0, 0, 0, ratio, ""))
        print(f"{'image':<15} {'tool':<9} {'planted':>7} {'found':>6} {'recall':>7} {'false+':>7} {'median s':>9}"
              "  missed (kind:count)")
        for label, side, planted, found_count, false_pos, seconds, missing in rows:
            if side == "ratio":
                print(f"{label:<15} {'photorec/dalil time':<31} {seconds:>25.2f}x")
                continue
            print(f"{label:<15} {side:<9} {planted:>7} {found_count:>6} {found_count / planted:>7.1%} {false_pos:>7} "
                  f"{seconds:>9.3f}  {missing}")


if __name__ == "__main__":
    main()
