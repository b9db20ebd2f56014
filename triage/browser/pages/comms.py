"""Communications: conversations shown as chats (Arabic right to left), calls and contacts, through
the phone records' query module; a search hit on a record opens where it is shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from triage.artifacts import query
from triage.core.errors import NotFound

from .common import PAGE_SIZE, int_param, text_param

TABLES = {"message": "messages", "call": "calls", "contact": "contacts", "record": "phone_items"}


def routes(ctx: Any) -> list[Route]:
    def overview(request: Request) -> Response:
        case = ctx.access.read()
        tab = request.query_params.get("tab") or "threads"
        exhibit = text_param(request, "exhibit")
        offset = int_param(request, "offset")
        f = query.Filters(exhibit=exhibit, limit=PAGE_SIZE + 1, offset=offset, contains=text_param(request, "contains"))
        rows: list[dict[str, Any]] = []
        if tab == "calls":
            rows = query.calls(case, f)
        elif tab == "contacts":
            rows = query.contacts(case, f)
        elif tab == "records":
            rows = query.items(case, f)
        threads = query.threads(case, exhibit) if tab == "threads" else []
        return ctx.render.page(request, "comms.html", nav="comms", tab=tab, threads=threads, rows=rows[:PAGE_SIZE],
                               more=len(rows) > PAGE_SIZE, offset=offset, size=PAGE_SIZE)

    def thread(request: Request) -> Response:
        case = ctx.access.read()
        exhibit, app, thread_id = (request.query_params.get(k) for k in ("exhibit", "app", "thread"))
        if not exhibit or not app or thread_id is None:
            raise NotFound("a conversation is named by exhibit, app and thread")
        messages = query.thread_messages(case, exhibit, app, thread_id)
        if not messages:
            raise NotFound("no such conversation")
        names = [m["thread_name"] for m in messages if m.get("thread_name")]
        return ctx.render.page(request, "thread.html", nav="comms", messages=messages, exhibit=exhibit, app=app,
                               thread=thread_id, name=names[0] if names else thread_id,
                               focus=int_param(request, "focus", -1, -1))

    def record(request: Request) -> Response:
        """Where a phone record is shown: a message in its conversation, others in their tab."""
        case = ctx.access.read()
        source, rid = request.path_params["source"], int(request.path_params["rid"])
        if source not in TABLES:
            raise NotFound(f"no record kind {source!r}")
        if source == "message":
            rows = case.store.query("SELECT exhibit, app, COALESCE(thread, sender, '') AS t FROM messages WHERE id = ?",
                                    (rid,))
            if not rows:
                raise NotFound("no such message")
            qs = urlencode({"exhibit": rows[0]["exhibit"], "app": rows[0]["app"], "thread": rows[0]["t"], "focus": rid})
            return RedirectResponse(f"/comms/thread?{qs}#m{rid}", status_code=303)
        tab = {"call": "calls", "contact": "contacts", "record": "records"}[source]
        return RedirectResponse(f"/comms?tab={tab}#r{rid}", status_code=303)

    return [Route("/comms", overview), Route("/comms/thread", thread),
            Route("/comms/{source}/{rid:int}", record)]
