"""Timeline time arithmetic: body-file seconds round down, the CSV sorts by time, not by its text."""

from __future__ import annotations

from typing import Any

from triage.image.timeline import epoch, macb_rows


def _row(path: str, mtime: str) -> dict[str, Any]:
    return {"path": path, "mtime": mtime, "atime": None, "ctime": None, "crtime": None, "exhibit": "E",
            "partition": 0, "inode": 1, "size": 0, "deleted": 0, "mode": "r/r", "sha256": None}


def test_epoch_rounds_down_before_1970_as_tsk_does() -> None:
    assert epoch("1969-12-31T23:59:59.5Z") == -1
    assert epoch("1970-01-01T00:00:00.5Z") == 0
    assert epoch("1601-01-01T00:00:00Z") == -11644473600
    assert epoch(None) == 0


def test_csv_rows_sort_by_time_not_by_text() -> None:
    rows = macb_rows([_row("/later", "2020-01-01T00:00:00.5Z"), _row("/earlier", "2020-01-01T00:00:00Z")])
    assert [r["path"] for r in rows] == ["/earlier", "/later"]
