"""Timelines of parsed files: a TSK body file (for `mactime`) or a MACB CSV."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Iterator

FIELDS = ("mtime", "atime", "ctime", "crtime")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def epoch(text: str | None) -> int:
    """Whole seconds since 1970, rounded down as TSK does (1969-12-31T23:59:59.5Z is -1, not 0)."""
    if not text:
        return 0
    return math.floor(_when(text).timestamp())


def _name(row: dict[str, Any], multi: bool) -> str:
    path = row["path"]
    if multi:
        path = f"/p{row['partition']}{path}"
    path = "".join("?" if ord(c) < 0x20 or c == "|" else c for c in path)  # '|' and newlines break the format
    if row.get("link"):
        path += " -> " + "".join("?" if ord(c) < 0x20 or c == "|" else c for c in row["link"])
    return path + (" (deleted)" if row["deleted"] else "")


def bodyfile(rows: list[dict[str, Any]]) -> Iterator[str]:
    """TSK 3.x body format: MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime."""
    multi = len({r["partition"] for r in rows}) > 1
    for r in rows:
        inode = f"{r['inode']}" + (f"-{r['attr'].split('#')[0]}" if r["attr"] else "") if r["inode"] is not None else "0"
        yield "|".join([
            r["md5"] or "0", _name(r, multi), inode, r["mode"] or "-/----------", str(r["uid"] or 0),
            str(r["gid"] or 0), str(r["size"] or 0), str(epoch(r["atime"])), str(epoch(r["mtime"])),
            str(epoch(r["ctime"])), str(epoch(r["crtime"])),
        ])


def macb_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (time, file) with its MACB letters, sorted by time."""
    out = []
    for r in rows:
        stamps: dict[str, list[str]] = {}
        for letter, key in zip("macb", FIELDS):
            if r[key]:
                stamps.setdefault(r[key], []).append(letter)
        for when, letters in stamps.items():
            macb = "".join(ch if ch in letters else "." for ch in "macb")
            out.append({"time": when, "macb": macb, "exhibit": r["exhibit"], "partition": r["partition"],
                        "path": r["path"], "inode": r["inode"], "size": r["size"], "deleted": bool(r["deleted"]),
                        "mode": r["mode"], "sha256": r["sha256"]})
    out.sort(key=lambda x: (_when(x["time"]), x["path"]))  # as times: "…:00.5Z" after "…:00Z"
    return out
