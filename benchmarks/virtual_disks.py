#!/usr/bin/env python3
"""dalil parse on a raw image against the same disk in a virtual-disk container, side by side, in one run.

The disk: an ext4 image built with `mke2fs -d` from /usr/share/doc and /usr/lib/python3 (Debian's own
files), converted with qemu-img to VMDK (monolithicSparse, streamOptimized), VHD (dynamic), VHDX
(dynamic) and QCOW2. For each container, alternating runs of
  raw:     dalil parse disk.raw  --no-yara   (a fresh case each run)
  virtual: dalil parse disk.<fmt> --no-yara
then the medians, their ratio, and whether both listed the same (path, size, SHA-256) rows: what the
libyal layer costs over a plain read. Not a test: prints figures measured here.
Usage: python benchmarks/virtual_disks.py [--runs N] [--formats vmdk,qcow2,…] [--keep DIR]

Seen here (341 MiB ext4, 8,750 rows, medians of 3 alternating runs, 2 shared cores, other jobs
running: the raw medians alone moved between 22 and 31 s): vmdk 1.06, vmdk-stream 1.42, vhd 1.70,
vhdx 0.90, qcow2 0.94 (virtual / raw); every container listed the same rows with the same SHA-256.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DALIL = [sys.executable, "-m", "triage.cli.main"]
TREES = ["/usr/share/doc", "/usr/lib/python3"]
FORMATS = {  # name: (qemu-img -O, -o options, file suffix)
    "vmdk": ("vmdk", "subformat=monolithicSparse", "vmdk"),
    "vmdk-stream": ("vmdk", "subformat=streamOptimized", "vmdk"),
    "vhd": ("vpc", "subformat=dynamic", "vhd"),
    "vhdx": ("vhdx", "subformat=dynamic", "vhdx"),
    "qcow2": ("qcow2", "", "qcow2"),
}


def sh(*cmd: str | Path, env: dict[str, str] | None = None) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, env=env).stdout


def build(work: Path) -> Path:
    root = work / "root"
    root.mkdir()
    for tree in TREES:
        shutil.copytree(tree, root / tree.strip("/").replace("/", "_"), symlinks=True, ignore_dangling_symlinks=True)
    used = int(sh("du", "-sm", root).split()[0])
    raw = work / "disk.raw"
    sh("mke2fs", "-q", "-t", "ext4", "-d", root, raw, f"{used * 3 // 2 + 64}M")
    shutil.rmtree(root)
    return raw


def parse(image: Path, work: Path, tag: str, env: dict[str, str]) -> tuple[float, set[tuple[str, int, str]]]:
    case = work / f"case-{tag}"
    shutil.rmtree(case, ignore_errors=True)
    sh(*DALIL, "case", "init", case, "--case-id", "BENCH", "--title", "bench", "--examiner", "Bench",
       "--organisation", "Bench", env=env)
    start = time.perf_counter()
    sh(*DALIL, "parse", image, "--exhibit", "EXH", "--case", case, "--no-yara", env=env)
    took = time.perf_counter() - start
    out = sh(*DALIL, "files", "--case", case, "--format", "jsonl", env=env)
    rows = {(r["path"], r["size"] or 0, r["sha256"] or "") for r in map(json.loads, out.splitlines()) if r}
    shutil.rmtree(case, ignore_errors=True)
    return took, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--keep", type=Path, help="build and keep the images in this folder")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dalil-vdisk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DALIL_EXAMINER": "Bench", "XDG_CONFIG_HOME": str(work / "config")}
    try:
        raw = work / "disk.raw"
        if not raw.exists():
            raw = build(work)
        print(f"disk: ext4 {raw.stat().st_size / 2**20:.0f} MiB from {', '.join(TREES)}; {args.runs} run(s) per side")
        for name in args.formats.split(","):
            fmt, options, suffix = FORMATS[name]
            disk = work / f"disk-{name}.{suffix}"
            if not disk.exists():
                sh("qemu-img", "convert", "-f", "raw", "-O", fmt, *(["-o", options] if options else []), raw, disk)
            raw_times, virt_times = [], []
            same = True
            for _ in range(args.runs):  # alternating: the machine's noise falls on both sides alike
                t_raw, rows_raw = parse(raw, work, "raw", env)
                t_virt, rows_virt = parse(disk, work, name, env)
                raw_times.append(t_raw)
                virt_times.append(t_virt)
                same = same and rows_raw == rows_virt
            m_raw, m_virt = statistics.median(raw_times), statistics.median(virt_times)
            print(f"{name:12s} container {disk.stat().st_size / 2**20:7.0f} MiB  raw {m_raw:6.2f} s  "
                  f"{name} {m_virt:6.2f} s  ratio {m_virt / m_raw:4.2f}  rows {len(rows_raw):,}  "
                  f"same listing and hashes: {same}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
