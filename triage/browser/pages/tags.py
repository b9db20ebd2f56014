"""Tags and notes: listed with their ledger entries, and set from the file and capture pages as the
examiner who started the server (`reports.tags.add_tag`, the function `dalil tag` calls: the same
row and the same signed `tagged` entry). Every write needs the CSRF token; --read-only refuses it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reports.tags import add_tag, list_tags
from triage.core.case import LEDGER_NAME
from triage.core.errors import NotFound, UsageError
from triage.core.ledger import iter_entries

from .common import tags_for_capture, tags_for_file

MAX_LABEL = 200
MAX_NOTE = 4000


def tagged_entries(case: Any) -> dict[int, dict[str, Any]]:
    """`tagged` ledger entries by tag id."""
    out = {}
    for entry in iter_entries(case.root / LEDGER_NAME):
        if entry.get("action") == "tagged" and isinstance(entry.get("details"), dict):
            out[entry["details"].get("tag_id")] = entry
    return out


def routes(ctx: Any) -> list[Route]:
    def listing(request: Request) -> Response:
        case = ctx.access.read()
        tags = list_tags(case)
        entries = tagged_entries(case)
        ids = {}
        for t in tags:
            if t["kind"] == "file":
                found = case.store.query("SELECT id FROM files WHERE exhibit = ? AND path = ? LIMIT 1",
                                         (t["exhibit"], t["path"]))
                ids[t["id"]] = f"/files/{found[0]['id']}" if found else None
            else:
                found = case.store.query("SELECT id FROM captures WHERE url = ? ORDER BY captured_at DESC LIMIT 1",
                                         (t["url"],))
                ids[t["id"]] = f"/captures/{found[0]['id']}" if found else None
        return ctx.render.page(request, "tags.html", nav="tags", tags=tags, entries=entries, hrefs=ids)

    async def add(request: Request) -> Response:
        form = await request.form()
        label = str(form.get("label") or "").strip()
        note = str(form.get("note") or "").strip() or None
        if not label or len(label) > MAX_LABEL or (note and len(note) > MAX_NOTE):
            raise UsageError(f"a tag needs a label (at most {MAX_LABEL} characters; a note at most {MAX_NOTE})")
        kind = str(form.get("kind") or "")
        item = str(form.get("item") or "")
        if not item.isdigit() or kind not in ("file", "capture"):
            raise UsageError("a tag names a file or a capture")
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_write, request, kind, int(item), label, note)

    def _write(request: Request, kind: str, item: int, label: str, note: str | None) -> Response:
        with ctx.access.write() as case:
            if kind == "file":
                rows = case.store.query("SELECT exhibit, path FROM files WHERE id = ?", (item,))
                if not rows:
                    raise NotFound(f"no file {item}")
                add_tag(case, label, note, exhibit=rows[0]["exhibit"], path=rows[0]["path"])
                tags = tags_for_file(case, dict(rows[0]))
            else:
                rows = case.store.query("SELECT url FROM captures WHERE id = ?", (item,))
                if not rows:
                    raise NotFound(f"no capture {item}")
                add_tag(case, label, note, capture=rows[0]["url"])
                tags = tags_for_capture(case, rows[0]["url"])
        return ctx.render.page(request, "tag_list.html", tags=tags)

    return [Route("/tags", listing), Route("/tags", add, methods=["POST"])]
