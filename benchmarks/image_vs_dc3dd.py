#!/usr/bin/env python3
"""Benchmark: `dalil image` against `dc3dd hash=md5 hash=sha1 hash=sha256 of=…` on the same file.

Creates a file (1 GiB by default; random 64 MiB blocks repeated), reads it once so both tools start
from the page cache, then alternates the two tools, three runs each, and prints each run, each
side's median MB/s and CPU time and the median ratio (target: dalil at least 2x dc3dd). Both write
their image to the same temporary directory; dalil's time includes fsync-ing its image and recording
the acquisition in the case (dc3dd does neither). For reference it also times dd writing the same
bytes to that disk durably, without hashing: the floor for a tool that waits for its copy to be on
disk. Everything it creates is removed at the end.

    .venv/bin/python benchmarks/image_vs_dc3dd.py [--size 1GiB] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = 64 * 1024 * 1024


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+)\s*([KMG]i?B?)?", text.strip(), re.I)
    if not m:
        raise SystemExit(f"--size: cannot read {text!r} (e.g. 1GiB, 256MiB)")
    unit = (m.group(2) or "").upper().rstrip("B").rstrip("I")
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]


def make_source(path: Path, size: int) -> None:
    block = os.urandom(min(BLOCK, size))
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n


def dalil_cmd() -> list[str]:
    """This checkout's dalil, run by the interpreter running this script."""
    return [sys.executable, "-m", "triage.cli.main"]


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) of each tool's runs, by label


def run(cmd: list[str], env: dict[str, str], label: str | None = None) -> tuple[float, str]:
    """Run cmd; return (seconds, output). With `label`, its CPU time is kept in CPU[label]."""
    t0 = time.perf_counter()
    before = os.times()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if label is not None:
        CPU.setdefault(label, []).append(after.children_user - before.children_user
                                         + after.children_system - before.children_system)
    return elapsed, proc.stdout + proc.stderr


def md5_alone(path: Path) -> float:
    """Seconds this process takes for the MD5 of `path` (in the page cache) alone, with hashlib (OpenSSL):
    the part of any copy that hashes MD5 that no second core can share, one stream being one chain."""
    digest = hashlib.md5()
    with open(path, "rb", buffering=0) as fh:
        buffer = bytearray(BLOCK)
        view = memoryview(buffer)
        t0 = time.perf_counter()
        while n := fh.readinto(buffer):
            digest.update(view[:n])
        return time.perf_counter() - t0


def sha256_in(text: str) -> str | None:
    m = re.search(r"\b([0-9a-f]{64})\b", text)
    return m.group(1) if m else None


def compare(label: str, dalil_args: list[str], size_text: str, runs: int, prefix: str, target: str = "") -> float:
    """Alternate `dalil <dalil_args> SRC --exhibit … --case …` and dc3dd on one file; print (with the
    issue's `target` for the ratio, if any); return the ratio."""
    if not shutil.which("dc3dd"):
        raise SystemExit("dc3dd is not installed (apt-get install dc3dd)")
    size = parse_size(size_text)
    work = Path(tempfile.mkdtemp(prefix=prefix))
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "config"), "DALIL_EXAMINER": "Benchmark",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("DALIL_CASE", None)
    try:
        src = work / "source.bin"
        print(f"creating {size / 1e6:.0f} MB test file in {work} …", flush=True)
        make_source(src, size)
        with open(src, "rb") as fh:  # warm the page cache: both tools read from memory
            while fh.read(BLOCK):
                pass
        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {label: [], "dc3dd": []}
        hashes: dict[str, set[str | None]] = {label: set(), "dc3dd": set()}
        flushed: list[float] = []
        disk: list[float] = []
        md5: list[float] = []
        for i in range(runs):
            case = work / f"case{i}"
            run([*dalil_cmd(), "case", "init", str(case), "--case-id", f"BENCH-{i}", "--title", "benchmark",
                 "--examiner", "Benchmark"], env)
            os.sync()
            t, out = run([*dalil_cmd(), *dalil_args, str(src), "--exhibit", "EXH-1", "--case", str(case)], env, label)
            times[label].append(t)
            hashes[label].add(sha256_in(out))
            shutil.rmtree(case)
            os.sync()
            img = work / "dc3dd.img"
            t, out = run(["dc3dd", f"if={src}", "hash=md5", "hash=sha1", "hash=sha256", f"of={img}"], env, "dc3dd")
            times["dc3dd"].append(t)
            t0 = time.perf_counter()
            os.sync()  # dc3dd leaves its output in the page cache; dalil's time includes fsync-ing its copy
            flushed.append(t + time.perf_counter() - t0)
            m = re.search(r"\b([0-9a-f]{64}) \(sha256\)", out)
            hashes["dc3dd"].add(m.group(1) if m else None)
            img.unlink()
            os.sync()
            # the disk's own speed for the same bytes made durable, without hashing: what dalil waits for
            t, _ = run(["dd", f"if={src}", f"of={img}", f"bs={BLOCK}", "oflag=direct", "conv=fdatasync"], env)
            disk.append(t)
            img.unlink()
            md5.append(md5_alone(src))
            print(f"run {i + 1}: {label} {times[label][-1]:.2f} s, dc3dd {times['dc3dd'][-1]:.2f} s, "
                  f"dd to disk {disk[-1]:.2f} s, MD5 alone {md5[-1]:.2f} s", flush=True)
        print(f"\nfile: {size} bytes ({size / 2**20:.0f} MiB), {runs} alternating runs each, CPUs: {os.cpu_count()}, "
              f"load average before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f} (other work skews the figures)")
        for name, ts in times.items():
            med = statistics.median(ts)
            print(f"  {name:<18} median {med:6.2f} s  {size / med / 1e6:8.1f} MB/s   CPU median "
                  f"{statistics.median(CPU[name]):5.2f} s   runs: " + ", ".join(f"{t:.2f}" for t in ts))
        ratio = statistics.median(times["dc3dd"]) / statistics.median(times[label])
        same = hashes[label] == hashes["dc3dd"] and len(hashes["dc3dd"]) == 1
        print(f"  median ratio (dc3dd time / {label} time): {ratio:.2f}x" + (f"  ({target})" if target else ""))
        print(f"  for reference, dc3dd followed by sync (its output on disk, as dalil's is): median "
              f"{statistics.median(flushed):.2f} s, ratio "
              f"{statistics.median(flushed) / statistics.median(times[label]):.2f}x")
        print(f"  for reference, the disk alone (dd bs=64M oflag=direct conv=fdatasync, no hashing): median "
              f"{statistics.median(disk):.2f} s: {label} cannot finish before its copy is on this disk")
        floor = statistics.median(md5)
        print(f"  for reference, the MD5 of the file alone (hashlib, one stream: no second core can share it): "
              f"median {floor:.2f} s; no tool that computes the MD5 can beat {floor:.2f} s, so the best ratio "
              f"on this machine is {statistics.median(times['dc3dd']) / floor:.2f}x "
              f"({label}'s time is {statistics.median(times[label]) / floor:.2f}x the MD5's)")
        print(f"  SHA-256 agree: {'yes' if same else 'NO'} ({', '.join(sorted(h or '?' for h in hashes['dc3dd']))})")
        return ratio
    finally:
        shutil.rmtree(work, ignore_errors=True)


def arguments(description: str) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--size", default="1GiB", help="size of the test file (default 1GiB)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each tool (default 3)")
    return ap.parse_args()


def main() -> None:
    args = arguments("dalil image against dc3dd with three hashes")
    compare("dalil image", ["image"], args.size, args.runs, "dalil-bench-image-", target="target >= 3x, issue #17")


if __name__ == "__main__":
    main()
