"""Timelines of parsed files: a TSK body file (for `mactime`) or a MACB CSV."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Iterator

from .schema import REALLOC_NOTE

FIELDS = ("mtime", "atime", "ctime", "crtime")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def epoch(text: str | None) -> int:
    """Whole seconds since 1970, rounded down as TSK does (1969-12-31T23:59:59.5Z is -1, not 0)."""
    if not text:
        return 0
    return math.floor(_when(text).timestamp())


def _name(row: dict[str, Any], multi: bool, label: str = "") -> str:
    path = row["path"]
    if label and row.get("stream") and path.endswith(":" + row["stream"]):
        path = path[:-len(row["stream"]) - 1]  # the $FILE_NAME line names the file, not a stream
    if multi:
        path = f"/p{row['partition']}{path}"
    path = "".join("?" if ord(c) < 0x20 or c == "|" else c for c in path)  # '|' and newlines break the format
    if row.get("link"):
        path += " -> " + "".join("?" if ord(c) < 0x20 or c == "|" else c for c in row["link"])
    if not row["deleted"]:
        return path + label
    return path + label + (" (deleted-realloc)" if row.get("recovered_note") == REALLOC_NOTE else " (deleted)")


def file_name_times(row: dict[str, Any]) -> dict[str, Any] | None:
    """The row's NTFS $FILE_NAME times (attr, size, mtime, atime, ctime, crtime), if it has them."""
    fn = row.get("fn_times")
    return json.loads(fn) if isinstance(fn, str) else fn


def bodyfile(rows: list[dict[str, Any]]) -> Iterator[str]:
    """TSK 3.x body format: MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime; an NTFS file
    also gets the `name ($FILE_NAME)` line `fls -m` prints, with that attribute's times."""
    multi = len({r["partition"] for r in rows}) > 1
    for r in rows:
        inode = f"{r['inode']}" + (f"-{r['attr'].split('#')[0]}" if r["attr"] else "") if r["inode"] is not None else "0"
        fields = [r["mode"] or "-/----------", str(r["uid"] or 0), str(r["gid"] or 0)]
        fn = file_name_times(r)
        if fn is not None:
            yield "|".join(["0", _name(r, multi, " ($FILE_NAME)"), f"{r['inode']}-{fn['attr']}", *fields,
                            str(fn["size"]), *(str(epoch(fn[k])) for k in ("atime", "mtime", "ctime", "crtime"))])
        yield "|".join([
            r["md5"] or "0", _name(r, multi), inode, *fields, str(r["size"] or 0), str(epoch(r["atime"])),
            str(epoch(r["mtime"])), str(epoch(r["ctime"])), str(epoch(r["crtime"])),
        ])


def _clean(text: str) -> str:
    return "".join("?" if ord(c) < 0x20 or c == "|" else c for c in text)


def event_lines(events: list[dict[str, Any]], multi: bool = False) -> Iterator[str]:
    """Body-file lines of dated records (phone messages, calls…): the record's file and row, what it
    is, its time as the 'b' field (the record came to be then); other times 0."""
    for e in events:
        where = f"/p{e['partition']}{e['path']}" if multi else e["path"]
        what = f"{where} [{e['source']}{' recovered' if e['recovered'] else ''} {e['table'] or ''}:{e['row']}] " \
               f"{e['description']}"
        yield "|".join(["0", _clean(what), "0", "-/----------", "0", "0", "0", "0", "0", "0", str(epoch(e["time"]))])


def macb_rows(rows: list[dict[str, Any]], events: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One row per (time, file, source of the times) with its MACB letters, sorted by time; `source`
    is `file` (the times a file system keeps, on NTFS $STANDARD_INFORMATION) or `$FILE_NAME`, or for
    a dated record (`events`: a phone message, call, visit…) what it is, with a `description`."""
    out = []
    for e in events or []:
        out.append({"time": e["time"], "macb": "", "exhibit": e["exhibit"], "partition": e["partition"],
                    "path": e["path"], "inode": None, "size": None, "deleted": e["recovered"], "mode": None,
                    "sha256": None, "source": e["source"], "description": e["description"]})
    for r in rows:
        fn = file_name_times(r)
        for source, times in (("file", r), ("$FILE_NAME", fn)):
            if times is None:
                continue
            stamps: dict[str, list[str]] = {}
            for letter, key in zip("macb", FIELDS):
                if times[key]:
                    stamps.setdefault(times[key], []).append(letter)
            for when, letters in stamps.items():
                macb = "".join(ch if ch in letters else "." for ch in "macb")
                out.append({"time": when, "macb": macb, "exhibit": r["exhibit"], "partition": r["partition"],
                            "path": r["path"], "inode": r["inode"], "size": r["size"],
                            "deleted": bool(r["deleted"]), "mode": r["mode"], "sha256": r["sha256"],
                            "source": source})
    out.sort(key=lambda x: (_when(x["time"]), x["path"]))  # as times: "…:00.5Z" after "…:00Z"
    return out


# --- the browser's timeline: file times selected and counted in SQL (a big case never loads whole) ---

BUCKETS = {"year": 4, "month": 7, "day": 10, "hour": 13}


def _time_union(exhibit: str | None) -> tuple[str, list[Any]]:
    """One row (time, letter, id) per set file time, as an SQL sub-select."""
    cond = " AND exhibit = ?" if exhibit else ""
    parts = [f"SELECT {col} AS time, '{col[0] if col != 'crtime' else 'b'}' AS letter, id FROM files "
             f"WHERE {col} IS NOT NULL{cond}" for col in FIELDS]
    return " UNION ALL ".join(parts), [exhibit] * len(FIELDS) if exhibit else []


def file_histogram(case: Any, start: str, end: str, unit: str, exhibit: str | None = None) -> list[tuple[str, int]]:
    """(bucket, count) of file times in [start, end), a bucket being a year, month, day or hour."""
    width = BUCKETS[unit]
    union, params = _time_union(exhibit)
    rows = case.store.query(f"SELECT substr(time, 1, {width}) AS b, COUNT(*) AS n FROM ({union}) "
                            "WHERE time >= ? AND time < ? GROUP BY b ORDER BY b", [*params, start, end])
    return [(r["b"], r["n"]) for r in rows]


def file_events(case: Any, start: str, end: str, exhibit: str | None = None, limit: int = 200
                ) -> list[dict[str, Any]]:
    """File times in [start, end), oldest first, each time once per file with its MACB letters."""
    union, params = _time_union(exhibit)
    rows = case.store.query(
        f"SELECT t.time, group_concat(t.letter, '') AS letters, f.id, f.exhibit, f.partition, f.path, f.deleted, "
        f"f.sha256 FROM ({union}) t JOIN files f ON f.id = t.id WHERE t.time >= ? AND t.time < ? "
        "GROUP BY t.time, f.id ORDER BY t.time, f.path LIMIT ?", [*params, start, end, limit])
    out = []
    for r in rows:
        letters = r["letters"] or ""
        out.append({"time": r["time"], "macb": "".join(ch if ch in letters else "." for ch in "macb"),
                    "id": r["id"], "exhibit": r["exhibit"], "partition": r["partition"], "path": r["path"],
                    "deleted": bool(r["deleted"]), "sha256": r["sha256"]})
    return out
