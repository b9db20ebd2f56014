"""CSV exports: files, captures, indicators (spreadsheet formula injection neutralised)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from triage.core.textsafe import csv_cell, csv_writer

from .data import CaseData, yara_hits

FILE_COLUMNS = ("exhibit", "partition", "path", "name", "inode", "size", "deleted", "md5", "sha1", "sha256",
                "mime", "ext_mismatch", "mtime", "atime", "ctime", "crtime", "gps_lat", "gps_lon", "known",
                "yara", "entropy", "tags", "indicators")
CAPTURE_COLUMNS = ("exhibit", "url", "captured_at", "status", "sha256", "warc", "warc_record_id",
                   "screenshot_sha256", "title", "kind", "post_id", "tags", "indicators", "text")
INDICATOR_COLUMNS = ("kind", "value", "source", "exhibit", "where", "sha256")


def _write(path: Path, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])


def write_csv(data: CaseData, out: Path) -> list[Path]:
    """files.csv, captures.csv, indicators.csv in `out`; tagged rows first."""
    files = []
    for row in data.files:
        tags = data.file_tags(row)
        files.append({**row, "yara": ";".join(yara_hits(row)), "tags": ";".join(t["label"] for t in tags),
                      "_tagged": bool(tags)})
    files.sort(key=lambda r: not r["_tagged"])
    captures = [{**c, "tags": ";".join(t["label"] for t in c["tag_list"])} for c in data.captures_sorted()]
    written = []
    for name, cols, rows in (("files.csv", FILE_COLUMNS, files), ("captures.csv", CAPTURE_COLUMNS, captures),
                             ("indicators.csv", INDICATOR_COLUMNS, data.indicators())):
        _write(out / name, cols, rows)
        written.append(out / name)
    return written
