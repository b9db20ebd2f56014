"""Small helpers shared by the page modules."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from triage.core.case import Case
from triage.core.errors import UsageError

PAGE_SIZE = 50


def int_param(request: Request, name: str, default: int = 0, low: int = 0, high: int = 10**12) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return max(low, min(high, int(str(raw))))
    except ValueError:
        raise UsageError(f"{name} must be a whole number") from None


def text_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value.strip() if value and value.strip() else None


def exhibits(case: Case) -> list[str]:
    return [r["exhibit"] for r in case.store.query("SELECT exhibit FROM evidence ORDER BY exhibit")]


def tags_for_file(case: Case, row: dict[str, Any]) -> list[dict[str, Any]]:
    if not has_table(case, "tags"):
        return []
    return [dict(r) for r in case.store.query("SELECT * FROM tags WHERE kind = 'file' AND exhibit = ? AND path = ? "
                                              "ORDER BY id", (row["exhibit"], row["path"]))]


def tags_for_capture(case: Case, url: str) -> list[dict[str, Any]]:
    if not has_table(case, "tags"):
        return []
    return [dict(r) for r in case.store.query("SELECT * FROM tags WHERE kind = 'capture' AND url = ? ORDER BY id",
                                              (url,))]


def has_table(case: Case, name: str) -> bool:
    return bool(case.store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))
