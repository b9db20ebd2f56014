"""Safari history: `History.db` (the schema iOS and macOS Safari share).

`history_items` is one URL (`url`, `visit_count`, `domain_expansion`); `history_visits` one visit
of it (`history_item`, `visit_time` in Cocoa seconds with microseconds, `title` as the page had it
then, `load_successful`, `redirect_source`/`redirect_destination` chaining redirects, `origin`:
0 this device, 1 another device through iCloud). `history_tombstones` records what the user
cleared (a time span from `start_time`, a date before 2001 meaning "all history", to `end_time`;
sometimes one URL): each is an Item of kind `history cleared`. Each visit is an Item of kind `visit`.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Item, Record
from ._common import Row, compact, live_and_recovered, source, text


class IOSSafari(Artifact):
    NAME = "ios.safari"
    VERSION = "1.0"
    APP = "safari"
    DESCRIPTION = "Safari web history: one record per visit (History.db)"
    PATTERNS = ("*/Library/Safari/History.db",)

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not (ctx.has("history_visits", "id", "history_item", "visit_time")
                and ctx.has("history_items", "id", "url")):
            ctx.warn("no history_visits/history_items tables with the expected columns (unknown schema version)",
                     "history_visits")
            return
        items = {r["id"]: dict(r) for r in ctx.rows("SELECT * FROM history_items")}
        for rec in ctx.file.recovered(["history_items", "history_visits"]):
            if rec.table == "history_items" and rec.values.get("url"):
                items.setdefault(rec.values.get("id") or rec.rowid, dict(rec.values))  # URLs of deleted items
        for row, rec in live_and_recovered(ctx, "history_visits", "SELECT * FROM history_visits ORDER BY id", "id",
                                           ["history_items", "history_visits"]):
            yield _visit(ctx, row, rec, items.get(row.get("history_item") or -1, {}))
        if ctx.has("history_tombstones", "start_time", "end_time"):
            for r in ctx.rows("SELECT * FROM history_tombstones ORDER BY id"):
                row = dict(r)
                yield Item(kind="history cleared", app="safari", source=ctx.source("history_tombstones", row["id"]),
                           time=cocoa(row.get("end_time")), title="history cleared", value=text(row.get("url")),
                           data=compact({"from": cocoa(row.get("start_time")), "to": cocoa(row.get("end_time")),
                                         "all_history": True if (row.get("start_time") or 0) < 0 else None,
                                         "generation": row.get("generation")}))


def _visit(ctx: Context, row: Row, rec: Any, item: Row) -> Item:
    origin = row.get("origin")
    data = {"visit_count": item.get("visit_count"), "domain": text(item.get("domain_expansion")),
            "load_successful": None if row.get("load_successful") is None else bool(row["load_successful"]),
            "redirect_source": row.get("redirect_source"), "redirect_destination": row.get("redirect_destination"),
            "origin": {0: "this device", 1: "another device (iCloud)"}.get(origin, origin)
            if origin is not None else None,
            "item": row.get("history_item")}
    return Item(kind="visit", app="safari", source=source(ctx, "history_visits", row.get("id"), rec),
                time=cocoa(row.get("visit_time")), title=text(row.get("title")), value=text(item.get("url")),
                recovered=rec is not None, data=compact(data))
