#!/usr/bin/env python3
"""dalil parse embedded against dalil parse --broker with 1, 2 and 4 worker processes, in one run.

The image: ext4 built with `mke2fs -d` from Debian's /usr/share/doc and /usr/lib/python3 (about
7,400 files, 185 MB). A private redis-server on a free port; workers are `dalil worker
--concurrency 1` processes on this machine (they read the image by reference, as workers on other
machines would from shared storage). Each configuration runs --runs times, alternating; the
medians, the speed-up against the embedded run and against one worker, and whether every listing
equals the embedded one (`dalil files --format jsonl` less id and run_id) are printed. Last, the
per-core rate of the one-worker run and what a lab of 4 worker machines would take from it.
Not a test: prints figures measured here (2 cores: expect the curve to flatten at 2).
Usage: python benchmarks/parse_scaling.py [--runs N] [--keep DIR] [--machines 4] [--cores 8]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

DALIL = str(Path(sys.executable).with_name("dalil"))
TREES = ["/usr/share/doc", "/usr/lib/python3"]
CONFIGS = ["embedded", "1 worker", "2 workers", "4 workers"]


def run(*cmd: Any, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, env=env)


def build_image(work: Path) -> Path:
    root = work / "root"
    for tree in TREES:
        if Path(tree).is_dir():
            shutil.copytree(tree, root / tree.strip("/").replace("/", "_"), symlinks=True, dirs_exist_ok=True)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    image = work / "scaling.img"
    run("mke2fs", "-q", "-t", "ext4", "-d", root, image, f"{max(64, size * 2 // (1 << 20) + 64)}M")
    shutil.rmtree(root)
    return image


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listing(case: Path, exhibit: str, env: dict[str, str]) -> list[dict[str, Any]]:
    out = run(DALIL, "files", "--exhibit", exhibit, "--case", case, "--format", "jsonl", env=env).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    for row in rows:
        row.pop("id", None)
        row.pop("run_id", None)
    return rows


def start_workers(n: int, url: str, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    procs = [subprocess.Popen([DALIL, "worker", "--broker", url, "--concurrency", "1", "--loglevel", "WARNING"],
                              stdout=open(logs / f"worker-{n}-{i}.log", "ab"), stderr=subprocess.STDOUT,
                              env=env, start_new_session=True) for i in range(n)]
    client = redis.Redis.from_url(url)
    while len(list(client.scan_iter(match="dalil:worker:*"))) < n:
        time.sleep(0.1)
    time.sleep(1.0)  # heartbeats come before the pools: let them take their first task at once
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--machines", type=int, default=4, help="worker machines of the lab estimate")
    parser.add_argument("--cores", type=int, default=8, help="cores per worker machine in the estimate")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="dalil-scaling-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, XDG_CONFIG_HOME=str(work / "config"), DALIL_EXAMINER="Benchmark")
    env.pop("DALIL_BROKER", None)
    redis_dir = work / "redis"
    redis_dir.mkdir(exist_ok=True)
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(redis_dir)], stdout=subprocess.DEVNULL)
    try:
        image = work / "scaling.img"
        if not image.exists():
            image = build_image(work)
        size = image.stat().st_size
        print(f"image: {image} ({size / 1e6:,.0f} MB); {len(os.sched_getaffinity(0))} cores here; runs: {args.runs}")
        client = redis.Redis.from_url(url)
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        times: dict[str, list[float]] = {c: [] for c in CONFIGS}
        reference: list[dict[str, Any]] | None = None
        same: dict[str, bool] = {c: True for c in CONFIGS}
        files = content = 0
        for r in range(args.runs):
            for config in CONFIGS:
                case = work / f"case-{r}-{config.replace(' ', '')}"
                shutil.rmtree(case, ignore_errors=True)
                run(DALIL, "case", "init", case, "--case-id", "BENCH", "--title", "scaling", "--examiner", "Benchmark",
                    "--organisation", "Lab", env=env)
                procs: list[subprocess.Popen[bytes]] = []
                extra: list[str] = []
                if config != "embedded":
                    procs = start_workers(int(config.split()[0]), url, env, work)
                    extra = ["--broker", url]
                try:
                    started = time.perf_counter()
                    run(DALIL, "parse", image, "--exhibit", "IMG", "--case", case, *extra, env=env)
                    elapsed = time.perf_counter() - started
                finally:
                    if procs:
                        stop_workers(procs)
                times[config].append(elapsed)
                rows = listing(case, "IMG", env)
                files = len(rows)
                content = sum(row["size"] or 0 for row in rows if row["sha256"] and row["type"] == "r")
                if reference is None:
                    reference = rows
                same[config] = same[config] and rows == reference
                print(f"  run {r + 1} {config:10s} {elapsed:7.2f} s", flush=True)
                if not args.keep:
                    shutil.rmtree(case, ignore_errors=True)
        medians = {c: statistics.median(v) for c, v in times.items()}
        print(f"\n{files:,} entries, {content / 1e6:,.0f} MB of file content, {size / 1e6:,.0f} MB image; "
              f"medians of {args.runs} runs")
        print(f"{'configuration':14s} {'median s':>9s} {'vs embedded':>12s} {'vs 1 worker':>12s}  same listing")
        for config in CONFIGS:
            print(f"{config:14s} {medians[config]:9.2f} {medians['embedded'] / medians[config]:11.2f}x "
                  f"{medians['1 worker'] / medians[config]:11.2f}x  {same[config]}")
        per_core_files = files / medians["1 worker"]
        per_core_mb = content / 1e6 / medians["1 worker"]
        lab_cores = args.machines * args.cores
        print(f"\nper worker process (one core) here: {per_core_files:,.0f} entries/s, {per_core_mb:,.1f} MB/s of file content")
        print(f"a lab of {args.machines} worker machines x {args.cores} cores, if the coordinator and the shared "
              f"storage keep up: about {per_core_files * lab_cores:,.0f} entries/s, "
              f"{per_core_mb * lab_cores * 3600 / 1e3:,.0f} GB of file content an hour")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
