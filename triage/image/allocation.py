"""What a sparse virtual disk actually stores, so that carving scans the data, not terabytes of
never-written zeros (a 2 TB VMDK holding 100 GB, or a crafted QCOW2 claiming a petabyte).

`qemu-img map` (Debian's qemu-utils) reads the allocation tables of QCOW2, VMDK, VHD and VHDX
read-only (`-U`, no lock) and says which byte ranges hold data. It is asked only about a single
file with no parent (a parent's data would look unallocated here) and never follows a backing
file the header may name (`backing=`). Ranges it reports as not present read as zeros: nothing
can be carved from them. Whatever goes wrong (no qemu-img, a format it refuses, odd output), the
answer is None and the whole area is carved as before.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

Ranges = list[tuple[int, int]]

QEMU_DRIVERS = {"QCOW": "qcow2", "VHD": "vpc", "VHDX": "vhdx", "VMDK": "vmdk"}
SPARSE_TYPES = {"dynamic", "monolithicSparse", "streamOptimized", "v2", "v3", "v1"}
TIMEOUT = 300  # seconds: map reads metadata only, minutes would mean something is wrong
MAX_OUTPUT = 256 * 1024 * 1024


def stored(path: Path, kind: str, disk_type: str | None, files: int, parents: int, size: int) -> Ranges | None:
    """The ranges of the disk that hold data, or None when unknown (then everything is carved)."""
    driver = QEMU_DRIVERS.get(kind)
    qemu = shutil.which("qemu-img")
    if driver is None or qemu is None or parents or files != 1 or disk_type not in SPARSE_TYPES:
        return None
    if driver == "qcow2" and disk_type == "v1":
        driver = "qcow"
    opts = f"driver={driver},file.driver=file,file.filename={str(path).replace(',', ',,')},read-only=on"
    if driver in ("qcow2", "qcow"):
        opts += ",backing="  # never open a backing file the header names (libqcow found none)
    try:
        proc = subprocess.run([qemu, "map", "--output=json", "-U", "--image-opts", opts], capture_output=True,
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0 or len(proc.stdout) > MAX_OUTPUT:
        return None
    return _parse(proc.stdout, size)


def _parse(out: bytes, size: int) -> Ranges | None:
    try:
        extents = json.loads(out)
    except ValueError:
        return None
    if not isinstance(extents, list):
        return None
    ranges: Ranges = []
    cursor = 0
    for ext in extents:
        if not isinstance(ext, dict):
            return None
        start, length = ext.get("start"), ext.get("length")
        if not isinstance(start, int) or not isinstance(length, int) or start != cursor or length <= 0:
            return None  # the map must tile the disk exactly, or it is not trusted
        cursor += length
        if ext.get("data") and not ext.get("zero"):
            if ranges and ranges[-1][1] == start:
                ranges[-1] = (ranges[-1][0], start + length)
            else:
                ranges.append((start, start + length))
    return ranges if cursor == size else None


def intersect(ranges: Ranges, keep: Ranges) -> Ranges:
    """The parts of `ranges` inside `keep` (both sorted, non-overlapping)."""
    out: Ranges = []
    j = 0
    for start, end in ranges:
        while j < len(keep) and keep[j][1] <= start:
            j += 1
        k = j
        while k < len(keep) and keep[k][0] < end:
            lo, hi = max(start, keep[k][0]), min(end, keep[k][1])
            if lo < hi:
                out.append((lo, hi))
            k += 1
    return out
