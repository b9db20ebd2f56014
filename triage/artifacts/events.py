"""Dated phone records as timeline events (messages, calls, visits, and every other dated record)."""

from __future__ import annotations

from typing import Any

from ..core.case import Case
from . import query

DESCRIPTION_MAX = 160


def _short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= DESCRIPTION_MAX else text[:DESCRIPTION_MAX - 1] + "…"


def _event(row: dict[str, Any], source: str, description: str) -> dict[str, Any]:
    src = row["source"]
    return {"time": row["time"], "exhibit": row["exhibit"], "source": source, "description": description,
            "path": src["path"], "partition": src.get("partition", 0), "table": src.get("table"),
            "row": src.get("row"), "recovered": row["recovered"]}


def events(case: Case, exhibit: str | None = None) -> list[dict[str, Any]]:
    """Every dated phone record of `exhibit` (or of all exhibits) as {time, exhibit, source, description,
    path, partition, table, row, recovered}, unsorted."""
    f = query.Filters(exhibit=exhibit)
    out = []
    for m in query.messages(case, f):
        if m["time"]:
            who = (f"from {m['sender']}" if m["direction"] == "incoming" and m["sender"]
                   else f"to {', '.join(m['recipients'])}" if m["recipients"] else (m["sender"] or m["thread"] or ""))
            out.append(_event(m, f"{m['app']} message", _short(f"{m['direction'] or ''} {who}: {m['text'] or ''}")))
    for c in query.calls(case, f):
        if c["time"]:
            out.append(_event(c, f"{c['app']} call", _short(
                f"{c['direction'] or ''} {c['number'] or ''} {c['name'] or ''} {c['duration'] or 0} s")))
    for c in query.contacts(case, f):
        if c["time"]:
            out.append(_event(c, f"{c['app']} contact", _short(f"{c['name'] or ''} {' '.join(c['phones'])}")))
    for i in query.items(case, f):
        if i["time"]:
            out.append(_event(i, f"{i['app']} {i['kind']}", _short(f"{i['title'] or ''} {i['value'] or ''}")))
    return out
