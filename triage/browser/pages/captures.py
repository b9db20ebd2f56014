"""Web captures: each page with its screenshot, extracted text, indicators and provenance, and the
served page replayed in a sandboxed frame (no script, no request: see security.REPLAY_CSP)."""

from __future__ import annotations

import json
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collectors.queries import CAPTURE_FIELDS
from reports.data import flat_indicators
from triage.core.errors import NotFound

from .common import has_table, tags_for_capture

MAX_REPLAY = 16 * 1024 * 1024
IMAGE_MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def _capture(case: Any, cap_id: int) -> dict[str, Any]:
    if not has_table(case, "captures"):
        raise NotFound("no captures in this case")
    rows = case.store.query(f"SELECT {', '.join(CAPTURE_FIELDS)}, details FROM captures WHERE id = ?", (cap_id,))
    if not rows:
        raise NotFound(f"no capture {cap_id}")
    row = dict(rows[0])
    for col in ("indicators", "details"):
        try:
            row[col] = json.loads(row[col] or "{}")
        except ValueError:
            row[col] = {}
    return row


def decoded_body(data: bytes, encoding: str | None) -> bytes | None:
    """The page as the browser got it: gzip and deflate undone (at most MAX_REPLAY bytes); None for an
    encoding not undone here (the text and screenshot are still shown)."""
    enc = (encoding or "").strip().lower()
    if enc in ("", "identity"):
        return data[:MAX_REPLAY]
    if enc in ("gzip", "x-gzip", "deflate"):
        for wbits in ((16 + 15,) if "gzip" in enc else (15, -15)):
            try:
                return zlib.decompressobj(wbits).decompress(data, MAX_REPLAY)
            except zlib.error:
                continue
    return None


def routes(ctx: Any) -> list[Route]:
    def listing(request: Request) -> Response:
        case = ctx.access.read()
        caps = []
        if has_table(case, "captures"):
            tagged = {r["url"] for r in case.store.query("SELECT url FROM tags WHERE kind = 'capture'")} \
                if has_table(case, "tags") else set()
            for r in case.store.query("SELECT id, exhibit, kind, url, captured_at, status, title, indicators, "
                                      "screenshot_sha256 FROM captures ORDER BY captured_at, id"):
                row = dict(r)
                try:
                    row["indicators"] = json.loads(row["indicators"] or "{}")
                except ValueError:
                    row["indicators"] = {}
                row["pairs"] = flat_indicators(row["indicators"])
                row["tagged"] = row["url"] in tagged
                caps.append(row)
        return ctx.render.page(request, "captures.html", nav="captures", caps=caps)

    def detail(request: Request) -> Response:
        case = ctx.access.read()
        cap = _capture(case, int(request.path_params["cap_id"]))
        collection = case.store.query("SELECT * FROM collections WHERE id = ?", (cap["collection"],))
        coll = dict(collection[0]) if collection else {}
        for col in ("settings", "details", "urls"):
            try:
                coll[col] = json.loads(coll.get(col) or "{}")
            except (ValueError, TypeError):
                pass
        return ctx.render.page(request, "capture.html", nav="captures", cap=cap, coll=coll,
                               pairs=flat_indicators(cap["indicators"]), tags=tags_for_capture(case, cap["url"]))

    def screenshot(request: Request) -> Response:
        case = ctx.access.read()
        cap = _capture(case, int(request.path_params["cap_id"]))
        sha = cap.get("screenshot_sha256")
        if not sha or not case.objects.has(sha):
            raise NotFound("no screenshot of this capture")
        data = case.objects.path_for(sha).read_bytes()
        mime = next((m for magic, m in IMAGE_MAGIC.items() if data.startswith(magic)), None)
        if mime is None:
            raise NotFound("the stored screenshot is not a PNG or JPEG")
        return Response(data, media_type=mime)

    def replay(request: Request) -> Response:
        case = ctx.access.read()
        cap = _capture(case, int(request.path_params["cap_id"]))
        sha = cap.get("sha256")
        if not sha or not case.objects.has(sha):
            raise NotFound("the served page is not in the case store")
        body = decoded_body(case.objects.path_for(sha).read_bytes(), cap["details"].get("content_encoding"))
        if body is None:
            return Response("(this page's content encoding is not replayed here: see its text and screenshot)",
                            media_type="text/plain; charset=utf-8")
        # served as the bytes captured; the CSP sandbox (security.REPLAY_CSP) makes it inert
        return Response(body, media_type="text/html")

    return [Route("/captures", listing), Route("/captures/{cap_id:int}", detail),
            Route("/captures/{cap_id:int}/screenshot", screenshot), Route("/replay/{cap_id:int}", replay)]
