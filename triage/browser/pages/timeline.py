"""Timeline of dated events (file times, phone records, captures) with zoom (year → month → day →
hour: a bar opens its own period) and filters (exhibit, kind of event)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage.artifacts.events import events as phone_events
from triage.image.timeline import BUCKETS, file_events, file_histogram

from .common import has_table, text_param

ORDER = ["year", "month", "day", "hour"]
MAX_EVENTS = 300
KINDS = ("files", "phone", "captures")


def next_period(bucket: str) -> str:
    """The start of the period after `bucket` (a year, month, day or hour prefix of RFC 3339)."""
    if len(bucket) == 4:
        return f"{int(bucket) + 1:04d}"
    if len(bucket) == 7:
        y, m = int(bucket[:4]), int(bucket[5:7])
        return f"{y + (m == 12):04d}-{1 if m == 12 else m + 1:02d}"
    if len(bucket) == 10:
        return (datetime.strptime(bucket, "%Y-%m-%d") + timedelta(days=1)).strftime("%Y-%m-%d")
    return (datetime.strptime(bucket, "%Y-%m-%dT%H") + timedelta(hours=1)).strftime("%Y-%m-%dT%H")


def unit_for(start: str) -> str:
    """The bars' unit inside a period starting at `start`: one step finer than the period."""
    for unit, width in BUCKETS.items():
        if len(start) < width:
            return unit
    return "hour"


def routes(ctx: Any) -> list[Route]:
    def page(request: Request) -> Response:
        case = ctx.access.read()
        start = text_param(request, "from") or "0000"
        end = text_param(request, "to") or "9999"
        exhibit = text_param(request, "exhibit")
        kinds = [k for k in request.query_params.getlist("kind") if k in KINDS] or list(KINDS)
        unit = request.query_params.get("unit") or unit_for(start if start != "0000" else "")
        unit = unit if unit in BUCKETS else "year"
        width = BUCKETS[unit]
        counts: dict[str, int] = {}
        rows: list[dict[str, Any]] = []
        if "files" in kinds and has_table(case, "files"):
            for bucket, n in file_histogram(case, start, end, unit, exhibit):
                counts[bucket] = counts.get(bucket, 0) + n
            for e in file_events(case, start, end, exhibit, MAX_EVENTS):
                rows.append({"time": e["time"], "kind": f"file {e['macb']}", "exhibit": e["exhibit"],
                             "what": e["path"], "href": f"/files/{e['id']}", "deleted": e["deleted"]})
        others: list[dict[str, Any]] = []
        if "phone" in kinds:
            for e in phone_events(case, exhibit):
                others.append({"time": e["time"], "kind": e["source"], "exhibit": e["exhibit"],
                               "what": e["description"], "href": None, "deleted": e["recovered"]})
        if "captures" in kinds and has_table(case, "captures"):
            sql = "SELECT id, exhibit, url, captured_at FROM captures" + (" WHERE exhibit = ?" if exhibit else "")
            for r in case.store.query(sql, (exhibit,) if exhibit else ()):
                others.append({"time": r["captured_at"], "kind": "web capture", "exhibit": r["exhibit"],
                               "what": r["url"], "href": f"/captures/{r['id']}", "deleted": False})
        for e in others:
            t = e["time"] or ""
            if t and start <= t < end:
                counts[t[:width]] = counts.get(t[:width], 0) + 1
                rows.append(e)
        rows.sort(key=lambda e: (e["time"] or "", e["what"] or ""))
        top = max(counts.values()) if counts else 0
        bars = [{"bucket": b, "n": n, "pct": max(2, round(100 * n / top)) if top else 0, "to": next_period(b)}
                for b, n in sorted(counts.items())]
        return ctx.render.page(request, "timeline.html", nav="timeline", bars=bars, rows=rows[:MAX_EVENTS],
                               more=len(rows) > MAX_EVENTS, start=start, end=end, unit=unit, kinds=kinds,
                               all_kinds=KINDS, exhibit=exhibit or "", finer=ORDER[min(ORDER.index(unit) + 1, 3)],
                               max_events=MAX_EVENTS)

    return [Route("/timeline", page)]
