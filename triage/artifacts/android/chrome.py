"""Chrome, Samsung Internet and other Chromium browsers on Android: the profile's `History` database.

`urls` + `visits` give one `visit` per visit (the URL in `value`, the page title, the visit time),
`downloads` (with `downloads_url_chains` since Chrome 26) one `download` each, and
`keyword_search_terms` one `search` per term typed into the omnibox. Visit and download times are
WebKit microseconds (since 1601) kept to the microsecond; the downloads table of Chrome before 26
(`full_path`, `start_time`) kept Unix seconds. A search term carries no time of its own: the time
given is the last visit of its results page (`urls.last_visit_time`), and `data.time_is` says so.
The browser is named from the app's folder (`com.android.chrome` → chrome, `com.sec.android.app.sbrowser`
→ samsung-internet, …; other Chromium browsers keep their package name).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import unix, webkit
from ..records import Item, Record

BROWSERS = {
    "com.android.chrome": "chrome", "com.chrome.beta": "chrome-beta", "com.chrome.dev": "chrome-dev",
    "com.chrome.canary": "chrome-canary", "org.chromium.chrome": "chromium",
    "com.sec.android.app.sbrowser": "samsung-internet", "com.sec.android.app.sbrowser.beta": "samsung-internet-beta",
    "com.microsoft.emmx": "edge", "com.brave.browser": "brave", "com.kiwibrowser.browser": "kiwi",
    "com.vivaldi.browser": "vivaldi", "com.yandex.browser": "yandex",
}
# ui::PageTransition: the core type is the low byte, qualifiers are the high bits
CORE_TRANSITIONS = ("link", "typed", "auto_bookmark", "auto_subframe", "manual_subframe", "generated",
                    "auto_toplevel", "form_submit", "reload", "keyword", "keyword_generated")
QUALIFIERS = {0x00800000: "blocked", 0x01000000: "forward_back", 0x02000000: "from_address_bar",
              0x04000000: "home_page", 0x08000000: "from_api", 0x10000000: "chain_start",
              0x20000000: "chain_end", 0x40000000: "client_redirect", 0x80000000: "server_redirect"}
DOWNLOAD_STATES = {0: "in_progress", 1: "complete", 2: "cancelled", 3: "interrupted", 4: "interrupted"}


def browser_of(path: str) -> str:
    """The browser a `…/<package>/app_chrome/…/History` belongs to."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.startswith("app_") and i > 0:
            package = parts[i - 1]
            return BROWSERS.get(package, package)
    return "chromium"


def download_state(value: Any) -> Any:
    return DOWNLOAD_STATES.get(value, value) if isinstance(value, int) else value


def transition(value: Any) -> dict[str, Any]:
    if not isinstance(value, int):
        return {"transition": None}
    core = value & 0xFF
    return {"transition": CORE_TRANSITIONS[core] if core < len(CORE_TRANSITIONS) else f"unknown_{core}",
            "transition_qualifiers": [name for bit, name in QUALIFIERS.items() if value & bit],
            "transition_raw": value}


class ChromeHistory(Artifact):
    NAME = "android.chrome_history"
    VERSION = "1.0"
    APP = "chrome"
    DESCRIPTION = "Web visits, downloads and omnibox searches of Chrome, Samsung Internet and Chromium browsers"
    PATTERNS = ("*/app_chrome/Default/History", "*/app_sbrowser/Default/History",
                "*/app_chrome/Profile */History")

    def parse(self, ctx: Context) -> Iterator[Record]:
        app = browser_of(ctx.file.path)
        sections = ((self._visits, "visits"), (self._downloads, "downloads"), (self._searches, "keyword_search_terms"))
        for section, table in sections:
            try:
                yield from section(ctx, app)
            except sqlite3.DatabaseError as exc:  # a damaged page: the other tables are still read
                ctx.warn(f"reading stopped: {exc}", table)

    def _visits(self, ctx: Context, app: str) -> Iterator[Item]:
        if not (ctx.has("urls", "id", "url", "title") and ctx.has("visits", "id", "url", "visit_time")):
            ctx.warn("no urls/visits tables with the expected columns (unknown schema version)", "visits")
            return
        extra = [c for c in ("from_visit", "transition", "visit_duration") if ctx.has("visits", c)]
        counts = [c for c in ("visit_count", "typed_count", "hidden") if ctx.has("urls", c)]
        columns = "".join(f", v.{c}" for c in extra) + "".join(f", u.{c}" for c in counts)
        sql = (f"SELECT v.id AS visit_id, v.visit_time, u.url, u.title{columns} FROM visits v "
               "LEFT JOIN urls u ON u.id = v.url ORDER BY v.id")
        for row in ctx.rows(sql):
            r = dict(row)
            data: dict[str, Any] = transition(r.get("transition")) if "transition" in r else {}
            if r.get("from_visit"):
                data["from_visit"] = r["from_visit"]
            if r.get("visit_duration"):
                data["duration_s"] = round(r["visit_duration"] / 1e6, 3)
            for key in counts:
                data[key] = r[key]
            yield Item(kind="visit", app=app, source=ctx.source("visits", r["visit_id"]), time=webkit(r["visit_time"]),
                       title=r["title"] or None, value=r["url"], data=data)

    def _downloads(self, ctx: Context, app: str) -> Iterator[Item]:
        if "downloads" not in ctx.file.tables():
            return
        if ctx.has("downloads", "id", "target_path", "start_time"):
            yield from self._downloads_modern(ctx, app)
        elif ctx.has("downloads", "id", "full_path", "url", "start_time"):
            yield from self._downloads_old(ctx, app)
        else:
            ctx.warn("downloads table with columns this parser does not know (unknown schema version)", "downloads")

    def _downloads_modern(self, ctx: Context, app: str) -> Iterator[Item]:
        chains: dict[int, list[str]] = {}
        if ctx.has("downloads_url_chains", "id", "chain_index", "url"):
            for c in ctx.rows("SELECT id, url FROM downloads_url_chains ORDER BY id, chain_index"):
                chains.setdefault(c["id"], []).append(c["url"])
        for row in ctx.rows("SELECT * FROM downloads ORDER BY id"):
            r = dict(row)
            chain = chains.get(r["id"], [])
            url = chain[-1] if chain else r.get("url")  # the last link of the chain is what was fetched
            data: dict[str, Any] = {
                "target_path": r.get("target_path"), "current_path": r.get("current_path"), "url": url,
                "url_chain": chain, "size": r.get("total_bytes"), "received_bytes": r.get("received_bytes"),
                "start": webkit(r.get("start_time")), "end": webkit(r.get("end_time")),
                "state": download_state(r.get("state")),
            }
            for key in ("mime_type", "referrer", "tab_url", "site_url", "danger_type", "opened"):
                if r.get(key) not in (None, ""):
                    data[key] = r[key]
            if r.get("last_access_time"):
                data["last_access"] = webkit(r["last_access_time"])
            yield Item(kind="download", app=app, source=ctx.source("downloads", r["id"]), time=data["start"],
                       title=r.get("target_path"), value=url, data=data)

    def _downloads_old(self, ctx: Context, app: str) -> Iterator[Item]:
        for row in ctx.rows("SELECT * FROM downloads ORDER BY id"):
            r = dict(row)
            data = {"target_path": r["full_path"], "url": r["url"], "size": r.get("total_bytes"),
                    "received_bytes": r.get("received_bytes"), "start": unix(r["start_time"]), "end": None,
                    "state": download_state(r.get("state"))}
            yield Item(kind="download", app=app, source=ctx.source("downloads", r["id"]), time=data["start"],
                       title=r["full_path"], value=r["url"], data=data)

    def _searches(self, ctx: Context, app: str) -> Iterator[Item]:
        if "keyword_search_terms" not in ctx.file.tables():
            return
        if not ctx.has("keyword_search_terms", "url_id", "term"):
            ctx.warn("keyword_search_terms without url_id/term (unknown schema version)", "keyword_search_terms")
            return
        has_urls = ctx.has("urls", "id", "url", "last_visit_time")
        sql = ("SELECT k.rowid AS row, k.term, k.keyword_id, u.url, u.last_visit_time FROM keyword_search_terms k "
               "LEFT JOIN urls u ON u.id = k.url_id ORDER BY k.rowid" if has_urls else
               "SELECT rowid AS row, term, keyword_id, NULL AS url, NULL AS last_visit_time FROM keyword_search_terms"
               " ORDER BY rowid")
        for r in ctx.rows(sql):
            yield Item(kind="search", app=app, source=ctx.source("keyword_search_terms", r["row"]),
                       time=webkit(r["last_visit_time"]), value=r["term"],
                       data={"url": r["url"], "keyword_id": r["keyword_id"],
                             "time_is": "last visit of the results page (urls.last_visit_time)"})
