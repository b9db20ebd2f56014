"""Benchmark: what reading through encryption costs `dalil parse`.

One ext4 file system of SIZE MiB (files of deterministic random-looking bytes: nothing compresses or
deduplicates) is parsed as it is, then encrypted the way cryptsetup does it offline (LUKS2, AES-XTS,
PBKDF2 key slot: `luks2.py` decrypts it) and converted to LUKS1 (libluksde decrypts it). Each image
is parsed RUNS times (`--no-yara`, a new case each time); medians of the wall time and the ratio to
the plain parse are printed.

    python benchmarks/luks_layers.py [--size 256] [--runs 3] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "bench-password"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, env=env)


def build(work: Path, size_mb: int) -> dict[str, Path]:
    root = work / "tree"
    root.mkdir()
    for i in range(size_mb * 3 // 4):  # 1 MiB files filling three quarters of the file system
        (root / f"d{i // 50:03d}").mkdir(exist_ok=True)
        (root / f"d{i // 50:03d}" / f"f{i:05d}.bin").write_bytes(hashlib.shake_256(b"%d" % i).digest(1 << 20))
    plain = work / "plain.img"
    run("mke2fs", "-q", "-t", "ext4", "-d", root, plain, f"{size_mb}M")
    luks2 = work / "luks2.img"
    with open(luks2, "wb") as fh:
        fh.truncate((size_mb + 4) << 20)
    with open(plain, "rb") as src, open(luks2, "r+b") as dst:
        shutil.copyfileobj(src, dst, 1 << 22)
    key = work / "key"
    key.write_text(PASSWORD)
    run("cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--reduce-device-size", "4M", "--pbkdf", "pbkdf2",
        "--pbkdf-force-iterations", "1000", "--batch-mode", "--key-file", key, luks2)
    luks1 = work / "luks1.img"
    shutil.copyfile(luks2, luks1)
    run("cryptsetup", "convert", luks1, "--type", "luks1", "--batch-mode")
    return {"plain": plain, "LUKS2 (luks2.py)": luks2, "LUKS1 (libluksde)": luks1}


def parse_once(work: Path, image: Path, n: int) -> float:
    case = work / f"case-{n}"
    env = {**os.environ, "DALIL_EXAMINER": "Bench", "DALIL_VOLUME_PASSWORD": PASSWORD,
           "XDG_CONFIG_HOME": str(work / "config")}
    run(sys.executable, "-m", "triage.cli.main", "case", "init", case, "--case-id", "B", "--title", "b",
        "--examiner", "Bench", "--organisation", "Bench", env=env)
    start = time.monotonic()
    run(sys.executable, "-m", "triage.cli.main", "parse", image, "--exhibit", "E", "--case", case, "--no-yara",
        env=env)
    took = time.monotonic() - start
    shutil.rmtree(case)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=256, help="file system size in MiB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="luks-bench-", dir=args.workdir))
    try:
        images = build(work, args.size)
        times: dict[str, list[float]] = {name: [] for name in images}
        n = 0
        for _ in range(args.runs):  # interleaved: the machine's noise falls on every side alike
            for name, image in images.items():
                n += 1
                times[name].append(parse_once(work, image, n))
        base = statistics.median(times["plain"])
        print(f"ext4 of {args.size} MiB, {args.runs} runs each, medians:")
        for name, seen in times.items():
            med = statistics.median(seen)
            print(f"  {name:20s} {med:7.2f} s  ({args.size / med:6.1f} MiB/s)  ratio to plain {med / base:5.2f}")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
