#!/usr/bin/env python3
"""dalil parse against the Sleuth Kit pipeline doing the same work, side by side, in one run.

Builds an ext4 image (mke2fs -d) from Debian's /usr/share/doc, /usr/lib/python3 and
/usr/share/common-licenses, then alternates three times:
  dalil:    dalil parse EXHIBIT --rules each shipped pack   (hashes, MIME, EXIF, YARA, entropy, indicators)
  pipeline: tsk_recover -a; hashdeep -c md5,sha1,sha256 -r; file --mime-type on every file; yara -r
and prints the median ratio, dalil's peak RSS and both file counts (they must agree), then
listing only: the pytsk3 walk of dalil against `fls -r -p`.
Not a test: prints figures measured here. Usage: python benchmarks/parse_vs_tsk.py [--runs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["/usr/share/doc", "/usr/lib/python3", "/usr/share/common-licenses"]
RULES = sorted((ROOT / "rules").glob("*.yar"))  # the shipped packs (smuggling, EICAR)
LISTING = """
import sys, pytsk3
from triage.image.walk import walk_fs
fs = pytsk3.FS_Info(pytsk3.Img_Info(sys.argv[1]))
print(sum(1 for _ in walk_fs(fs, 0, "UTC", lambda a, b: None)))
"""


def _tree_pss_kib(pid: int) -> int:
    """Proportional set size (shared pages split between sharers) of pid and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


CPU: list[float] = []  # CPU seconds (user + system) of each dalil run, its worker processes included


def run_rss(cmd: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """Run cmd; return (seconds, peak RSS of its largest process in MiB (wait4), peak PSS of its whole
    process tree in MiB (sampled every 0.2 s: dalil forks worker processes)). Its CPU time goes to CPU
    (wait4 counts the processes it waited for: dalil waits for its workers)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tree = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        tree = max(tree, _tree_pss_kib(proc.pid))
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    CPU.append(usage.ru_utime + usage.ru_stime)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024, tree // 1024


def build_image(work: Path) -> Path:
    stage = work / "stage"
    stage.mkdir()
    for src in SOURCES:
        if Path(src).is_dir():
            subprocess.run(["cp", "-a", src, str(stage / Path(src).name)], check=True)
    used = int(subprocess.run(["du", "-sb", str(stage)], capture_output=True, text=True).stdout.split()[0])
    image = work / "bench.ext4"
    size_mb = used * 3 // 2 // (1 << 20) + 64
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", str(stage), str(image), f"{size_mb}M"], check=True)
    shutil.rmtree(stage)
    print(f"image: {image.stat().st_size / 1e6:,.0f} MB ext4 holding {used / 1e6:,.0f} MB from {', '.join(SOURCES)}")
    return image


def dalil_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(work / "config"), DALIL_EXAMINER="Bench Examiner",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def dalil(*args: str) -> list[str]:
    return [sys.executable, "-m", "triage.cli.main", *args]


def dalil_run(work: Path, image: Path, n: int) -> tuple[float, int, int, int]:
    env = dalil_env(work)
    case = work / f"case{n}"
    subprocess.run(dalil("case", "init", str(case), "--case-id", f"BENCH-{n}", "--title", "bench",
                         "--examiner", "Bench Examiner"), env=env, check=True, capture_output=True)
    subprocess.run(dalil("evidence", "add", str(image), "--exhibit", "IMG", "--in-place", "--case", str(case)),
                   env=env, check=True, capture_output=True)
    rules = [arg for path in RULES for arg in ("--rules", str(path))]
    os.sync()  # neither side pays for the other's writes still in the page cache
    seconds, rss, tree = run_rss(dalil("parse", "IMG", "--exhibit", "IMG", *rules, "--case", str(case)), env)
    with sqlite3.connect(case / "case.db") as db:
        # what tsk_recover -a writes: allocated non-empty regular files, and symbolic links (as small files)
        count = db.execute("SELECT COUNT(*) FROM files WHERE deleted = 0 AND path NOT LIKE '/$OrphanFiles/%'"
                           " AND ((type = 'r' AND size > 0) OR type = 'l')").fetchone()[0]
    shutil.rmtree(case)
    return seconds, rss, tree, count


STEPS: dict[str, list[float]] = {}  # seconds of each pipeline step, by step


def tsk_run(work: Path, image: Path) -> tuple[float, int]:
    out = work / "recovered"
    shutil.rmtree(out, ignore_errors=True)
    os.sync()
    steps: list[tuple[str, Any]] = [
        ("tsk_recover", lambda: subprocess.run(["tsk_recover", "-a", str(image), str(out)], check=True,
                                               capture_output=True)),
        ("hashdeep", lambda: subprocess.run(["hashdeep", "-c", "md5,sha1,sha256", "-r", str(out)], check=True,
                                            stdout=subprocess.DEVNULL)),
        ("file", lambda: subprocess.run(f"find {out} -type f -print0 | xargs -0 file --mime-type > /dev/null",
                                        shell=True, check=True)),
        ("yara", lambda: subprocess.run(["yara", "-r", *map(str, RULES), str(out)], check=True,
                                        stdout=subprocess.DEVNULL)),
    ]
    seconds = 0.0
    for name, step in steps:
        start = time.perf_counter()
        step()
        took = time.perf_counter() - start
        STEPS.setdefault(name, []).append(took)
        seconds += took
    count = sum(len(files) for _, _, files in os.walk(out))
    return seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    for tool in ("mke2fs", "tsk_recover", "hashdeep", "file", "yara", "fls"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    work = Path(args.keep or tempfile.mkdtemp(prefix="dalil-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        image = build_image(work)
        dalil_times, tsk_times, rss, trees, counts = [], [], [], [], set()
        for n in range(args.runs):
            t, r, tree, c = dalil_run(work, image, n)
            dalil_times.append(t)
            rss.append(r)
            trees.append(tree)
            t2, c2 = tsk_run(work, image)
            tsk_times.append(t2)
            counts.add((c, c2))
            print(f"run {n + 1}: dalil {t:6.2f} s (peak RSS {r} MiB, all processes {tree} MiB PSS)   pipeline {t2:6.2f} s   "
                  f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        d, p = statistics.median(dalil_times), statistics.median(tsk_times)
        print(f"files: dalil {sorted(counts)[0][0]} allocated non-empty files and links, tsk_recover {sorted(counts)[0][1]}"
              + ("" if all(a == b for a, b in counts) else "  <-- COUNTS DIFFER"))
        pairs = sorted(b / a for a, b in zip(dalil_times, tsk_times))
        print("per-run ratios: " + ", ".join(f"{r:.2f}x" for r in pairs)
              + f" (median {statistics.median(pairs):.2f}x; the machine is shared and noisy)")
        print("pipeline steps (medians): " + ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in STEPS.items())
              + f"; dalil's CPU time: median {statistics.median(CPU):.2f} s on {os.cpu_count()} cores")
        print(f"full parse: dalil median {d:.2f} s, pipeline median {p:.2f} s, ratio {p / d:.2f}x "
              f"(target >= 2x); dalil peak RSS {max(rss)} MiB, all its processes together {max(trees)} MiB PSS "
              "(target < 500)")
        env = dalil_env(work)
        walk, fls = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            listed = subprocess.run([sys.executable, "-c", LISTING, str(image)], env=env, check=True,
                                    capture_output=True, text=True).stdout.strip()
            walk.append(time.perf_counter() - start)
            start = time.perf_counter()
            lines = subprocess.run(["fls", "-r", "-p", str(image)], check=True, capture_output=True).stdout.count(b"\n")
            fls.append(time.perf_counter() - start)
        print(f"listing only: dalil walk {statistics.median(walk):.2f} s ({listed} entries), fls -r -p "
              f"{statistics.median(fls):.2f} s ({lines} lines), ratio {statistics.median(fls) / statistics.median(walk):.2f}x")
        print(json.dumps({"dalil_s": dalil_times, "pipeline_s": tsk_times, "ratio": round(p / d, 2),
                          "peak_rss_mib": max(rss), "peak_tree_pss_mib": max(trees)}))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
