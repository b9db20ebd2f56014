"""CSV exports: files, captures, indicators (spreadsheet formula injection neutralised)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from triage.core.textsafe import csv_cell, csv_writer

from .data import CaseData, yara_hits

FILE_COLUMNS = ("exhibit", "partition", "path", "name", "inode", "size", "deleted", "md5", "sha1", "sha256",
                "mime", "ext_mismatch", "mtime", "atime", "ctime", "crtime", "gps_lat", "gps_lon", "known",
                "yara", "entropy", "tags", "indicators", "carved", "carved_offset", "carved_length")
CAPTURE_COLUMNS = ("exhibit", "url", "captured_at", "status", "sha256", "warc", "warc_record_id",
                   "screenshot_sha256", "title", "kind", "post_id", "tags", "indicators", "text")
INDICATOR_COLUMNS = ("kind", "value", "source", "exhibit", "where", "sha256")
PHONE_CSV = {  # file name: (columns, CaseData attribute); nested values (lists, source) as JSON text
    "messages.csv": (("exhibit", "app", "thread", "thread_name", "time", "direction", "sender", "recipients", "text",
                      "attachments", "location", "recovered", "source"), "messages"),
    "calls.csv": (("exhibit", "app", "time", "direction", "number", "name", "duration", "video", "recovered",
                   "source"), "calls"),
    "contacts.csv": (("exhibit", "app", "name", "phones", "emails", "handles", "recovered", "source"), "contacts"),
    "phone_records.csv": (("exhibit", "app", "kind", "time", "title", "value", "location", "recovered", "source",
                           "data"), "phone_items"),
}


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
    for file_name, (phone_cols, attr) in PHONE_CSV.items():
        records = getattr(data, attr)
        if records:
            _write(out / file_name, phone_cols, [{k: _flat(v) for k, v in r.items()} for r in records])
            written.append(out / file_name)
    return written


def _flat(value: Any) -> Any:
    """Lists and mappings as JSON text in one cell."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value
