"""Search across files, captures and phone records (`dalil search`'s query), with facets: exhibit,
kind of item, tagged or not, and a date range on the item's own time."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collectors.queries import search
from triage.core.case import Case

from .common import has_table, text_param

MAX_SHOWN = 500
TIME_OF = {"file": ("files", "COALESCE(mtime, crtime, ctime)"), "capture": ("captures", "captured_at"),
           "message": ("messages", "time"), "call": ("calls", "time"), "contact": ("contacts", "time"),
           "record": ("phone_items", "time")}


def _times(case: Case, hits: list[dict[str, Any]]) -> None:
    """Each hit's own time (a file's modification, a capture's, a message's), looked up in batches."""
    by_source: dict[str, list[Any]] = {}
    for h in hits:
        by_source.setdefault(h["source"], []).append(h["id"])
    for source, ids in by_source.items():
        if source not in TIME_OF:
            continue
        table, expr = TIME_OF[source]
        found: dict[Any, Any] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            for r in case.store.query(f"SELECT id, {expr} AS t FROM {table} WHERE id IN ({','.join('?' * len(part))})",
                                      part):
                found[r["id"]] = r["t"]
        for h in hits:
            if h["source"] == source:
                h["time"] = found.get(h["id"])


def _tagged(case: Case, hits: list[dict[str, Any]]) -> None:
    files, urls = set(), set()
    if has_table(case, "tags"):
        for r in case.store.query("SELECT kind, exhibit, path, url FROM tags"):
            (files.add((r["exhibit"], r["path"])) if r["kind"] == "file" else urls.add(r["url"]))
    for h in hits:
        h["tagged"] = (h["exhibit"], h["location"]) in files if h["source"] == "file" else \
            h["location"] in urls if h["source"] == "capture" else False


def facets(hits: list[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, dict[str, int]] = {"source": {}, "exhibit": {}, "tagged": {}}
    for h in hits:
        out["source"][h["source"]] = out["source"].get(h["source"], 0) + 1
        out["exhibit"][h["exhibit"] or ""] = out["exhibit"].get(h["exhibit"] or "", 0) + 1
        key = "tagged" if h["tagged"] else "not tagged"
        out["tagged"][key] = out["tagged"].get(key, 0) + 1
    return {k: sorted(v.items()) for k, v in out.items()}


def routes(ctx: Any) -> list[Route]:
    def page(request: Request) -> Response:
        case = ctx.access.read()
        term = text_param(request, "q")
        hits: list[dict[str, Any]] = []
        if term:
            hits = search(case, term)
            _times(case, hits)
            _tagged(case, hits)
        counts = facets(hits)
        wanted = {k: text_param(request, k) for k in ("source", "exhibit", "tagged", "from", "to")}
        shown = [h for h in hits
                 if (not wanted["source"] or h["source"] == wanted["source"])
                 and (not wanted["exhibit"] or h["exhibit"] == wanted["exhibit"])
                 and (not wanted["tagged"] or (h["tagged"] == (wanted["tagged"] == "tagged")))
                 and (not wanted["from"] or (h.get("time") or "") >= wanted["from"])
                 and (not wanted["to"] or ((h.get("time") or "") and (h.get("time") or "")[:len(wanted["to"])] <= wanted["to"]))]
        return ctx.render.page(request, "search.html", nav="search", term=term or "", hits=shown[:MAX_SHOWN],
                               total=len(hits), matched=len(shown), facets=counts, wanted=wanted, max_shown=MAX_SHOWN)

    return [Route("/search", page)]
