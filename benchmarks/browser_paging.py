"""Benchmark: paging and filtering 1 million file rows through `dalil serve`'s real HTTP endpoints.

A case gets ROWS synthetic `files` rows (one exhibit of many folders; every 97th deleted, every 10th a
picture, every 1000th with GPS; inserted in SQL, as parse would store them), then a real `dalil serve`
process answers, RUNS times each: the first page of /files, a filtered page (deleted pictures whose
name holds "7"), and a deep page (offset ROWS - 100). Medians of the wall time of whole HTTP requests
(rendering included) are printed.

    python benchmarks/browser_paging.py [--rows 1000000] [--runs 5] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))
from conftest import start_server  # type: ignore[import-not-found]  # noqa: E402  (the tests' way of starting `dalil serve`)


def dalil(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "triage.cli.main", *args], env=env, check=True, capture_output=True)


def fill(case: Path, rows: int) -> None:
    """ROWS rows of `files` for exhibit BIG (with its evidence row), in one transaction."""
    conn = sqlite3.connect(case / "case.db")
    conn.execute("INSERT INTO evidence (exhibit, description, kind, path, source_path, in_place, size, md5, sha1, "
                 "sha256, added_at, examiner, details) VALUES ('BIG', 'synthetic rows', 'image', 'images/none.raw', "
                 "'none', 0, 0, '', '', '', '2026-01-01T00:00:00Z', 'bench', '{}')")

    def gen() -> object:
        for i in range(rows):
            folder = f"/dir{i // 1000:04d}"
            name = f"file{i:07d}.{'jpg' if i % 10 == 0 else 'txt'}"
            yield ("BIG", 0, f"{folder}/{name}", name, i + 100, int(i % 97 == 0), i * 13 % 100000,
                   f"{i:064x}", "image/jpeg" if i % 10 == 0 else "text/plain",
                   f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                   32.9 if i % 1000 == 0 else None, 12.1 if i % 1000 == 0 else None)

    conn.executemany("INSERT INTO files (exhibit, partition, path, name, inode, deleted, size, sha256, mime, mtime, "
                     "gps_lat, gps_lon) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", gen())  # type: ignore[arg-type]
    conn.commit()
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dalil-paging-", dir=args.workdir))
    env = dict(os.environ, XDG_CONFIG_HOME=str(work / "config"), DALIL_EXAMINER="Bench Examiner")
    env.pop("DALIL_CASE", None)
    try:
        case = work / "case"
        dalil(env, "case", "init", str(case), "--case-id", "BENCH", "--title", "paging", "--examiner", "Bench Examiner")
        dalil(env, "files", "--case", str(case), "--format", "jsonl")  # tables and browse indexes made (migrations)
        t0 = time.perf_counter()
        fill(case, args.rows)
        print(f"{args.rows} rows inserted in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        server = start_server(case, env)
        print(f"dalil serve ready in {time.perf_counter() - t0:.1f} s")
        try:
            client = httpx.Client(base_url=server.base, timeout=120)
            client.get(f"/?token={server.token}")
            cases = {
                "first page": "/files",
                "filtered page (deleted, image/, name contains 7)": "/files?flag=deleted&mime=image/&name=7",
                "deep page (offset rows-100)": f"/files?offset={args.rows - 100}",
            }
            for label, path in cases.items():
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    r = client.get(path)
                    times.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text[:500]
                count = re.search(r'id="file-count">([0-9]+) file', r.text)
                shown = r.text.count('<td class="path"><a href="/files/')
                print(f"{label:<50} median {statistics.median(times) * 1000:7.1f} ms  "
                      f"(runs {args.runs}, {count.group(1) if count else '?'} matching, {shown} rows on the page)")
        finally:
            server.stop()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    main()
