#!/usr/bin/env python3
"""Benchmark: `dalil evidence add` (copy into the case) against `dc3dd hash=md5 hash=sha1 hash=sha256 of=…`.

Same design and output as image_vs_dc3dd.py (alternating, three runs each, median ratio, temporary
files removed), including the MD5 of the file alone: MD5 cannot be split, so it is the floor for any
tool that computes it.

    .venv/bin/python benchmarks/hash_throughput.py [--size 1GiB] [--runs 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from image_vs_dc3dd import arguments, compare  # noqa: E402


def main() -> None:
    args = arguments("dalil evidence add against dc3dd with three hashes")
    compare("dalil evidence add", ["evidence", "add"], args.size, args.runs, "dalil-bench-hash-")


if __name__ == "__main__":
    main()
