"""Monitoring: re-capture URLs on a schedule and record changes and disappearances.

Each re-capture is a full, new collection (its own WARC and `captured` ledger entry). Compared with
the monitor's previous capture, a run records one event: `baseline`, `unchanged`, `changed` (a
unified diff of the text, kept as an object), `disappeared` (404/410 or a failed fetch after a
capture), `reappeared`; for channel previews also `post-gone` and `post-edited`. Every event names
the capture before and after, so both states are evidence.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from triage.core.case import Case, check_exhibit_id
from triage.core.clock import parse_rfc3339, rfc3339
from triage.core.errors import DalilError, NotFound
from triage.core.ledger import subject
from triage.core.store import dumps

from . import schema  # noqa: F401 - registers the tables
from .job import Job, redact_proxy

GONE = (404, 410, 451)


def add(case: Case, url: str, every: int, exhibit: str | None, options: dict[str, Any],
        reason: str | None = None) -> dict[str, Any]:
    from .runner import check_exhibit

    with case.locked():
        case.ensure_examiner_registered()
        with case.store.transaction() as conn:
            cur = conn.execute("INSERT INTO monitors (url, exhibit, every_seconds, options, added_at, next_due)"
                               " VALUES (?,?,?,?,?,?)", (url, exhibit or "", every, dumps(options), rfc3339(), rfc3339()))
            mid = cur.lastrowid
            exhibit = exhibit or f"MON-{mid:03d}"
            check_exhibit_id(exhibit)
            conn.execute("UPDATE monitors SET exhibit = ? WHERE id = ?", (exhibit, mid))
            check_exhibit(case, exhibit)
            shown = {**options, "proxy": redact_proxy(options.get("proxy"))}
            case.record("monitor-added", subject(exhibit), details={"monitor": mid, "url": url, "every_seconds": every,
                                                                     "options": shown}, reason=reason, conn=conn)
    return {"id": mid, "url": url, "exhibit": exhibit, "every_seconds": every}


def list_all(case: Case) -> list[dict[str, Any]]:
    out = []
    for row in case.store.query("SELECT m.*, (SELECT COUNT(*) FROM monitor_events e WHERE e.monitor = m.id) AS events,"
                                " (SELECT kind FROM monitor_events e WHERE e.monitor = m.id ORDER BY e.id DESC LIMIT 1)"
                                " AS last_event FROM monitors m ORDER BY m.id"):
        data = dict(row)
        data["options"] = json.loads(data["options"])
        data["active"] = bool(data["active"])
        out.append(data)
    return out


def events(case: Case, monitor: int | None = None) -> list[dict[str, Any]]:
    sql = "SELECT e.*, m.url, m.exhibit FROM monitor_events e JOIN monitors m ON m.id = e.monitor"
    rows = case.store.query(sql + (" WHERE e.monitor = ?" if monitor else "") + " ORDER BY e.id",
                            (monitor,) if monitor else ())
    return [{**dict(r), "details": json.loads(r["details"])} for r in rows]


def due(case: Case, force: bool = False, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(timezone.utc)
    return [m for m in list_all(case) if m["active"] and (force or parse_rfc3339(m["next_due"]) <= now)]


def run(case: Case, force: bool = False, reason: str | None = None,
        progress: Callable[[str], Any] | None = None) -> list[dict[str, Any]]:
    """Re-capture every due monitor; returns the events recorded."""
    from .runner import collect

    recorded = []
    for mon in due(case, force):
        opts = mon["options"]
        job = Job(urls=[mon["url"]], exhibit=mon["exhibit"], **{k: v for k, v in opts.items() if k != "tsa"}).check()
        if job.config_path:
            from pathlib import Path

            from .job import load_config

            job.config = load_config(Path(job.config_path))
        previous = _last_capture(case, mon["id"])
        if progress:
            progress(mon["url"])
        try:
            done = collect(case, job, tsa=opts.get("tsa"), reason=reason)
        except DalilError as exc:
            with case.locked():
                case.store.add_warning(f"monitor {mon['id']} {mon['url']}", f"re-capture failed: {exc}",
                                       exhibit=mon["exhibit"])
            recorded.append({"monitor": mon["id"], "url": mon["url"], "kind": "failed", "details": {"error": str(exc)}})
            continue
        current = _capture_of(case, done.collection, mon["url"])
        found = _compare(case, mon, previous, current, done.collection)
        now = datetime.now(timezone.utc)
        with case.locked():
            with case.store.transaction() as conn:
                for ev in found:
                    cur = conn.execute("INSERT INTO monitor_events (monitor, time, kind, collection, capture,"
                                       " previous_capture, details) VALUES (?,?,?,?,?,?,?)",
                                       (mon["id"], rfc3339(now), ev["kind"], done.collection,
                                        current["id"] if current else None, previous["id"] if previous else None,
                                        dumps(ev["details"])))
                    ev["id"] = cur.lastrowid
                conn.execute("UPDATE monitors SET last_run = ?, next_due = ?, last_status = ? WHERE id = ?",
                             (rfc3339(now), rfc3339(now + timedelta(seconds=mon["every_seconds"])),
                              found[0]["kind"], mon["id"]))
                case.record("monitored", subject(mon["exhibit"], done.warc_sha256), details={
                    "monitor": mon["id"], "url": mon["url"], "collection": done.collection,
                    "capture": current["id"] if current else None,
                    "previous_capture": previous["id"] if previous else None,
                    "events": [{"kind": e["kind"], **{k: v for k, v in e["details"].items() if k != "diff"}}
                               for e in found]}, reason=reason, conn=conn)
        recorded.extend({"monitor": mon["id"], "url": mon["url"], **e} for e in found)
    return recorded


def _last_capture(case: Case, monitor: int) -> dict[str, Any] | None:
    rows = case.store.query("SELECT capture FROM monitor_events WHERE monitor = ? AND capture IS NOT NULL"
                            " ORDER BY id DESC LIMIT 1", (monitor,))
    if not rows:
        return None
    got = case.store.query("SELECT * FROM captures WHERE id = ?", (rows[0]["capture"],))
    return dict(got[0]) if got else None


def _capture_of(case: Case, collection: int, url: str) -> dict[str, Any] | None:
    rows = case.store.query("SELECT * FROM captures WHERE collection = ? AND kind = 'page' ORDER BY"
                            " (url = ?) DESC, id LIMIT 1", (collection, url))
    return dict(rows[0]) if rows else None


def _posts(case: Case, collection: int | None) -> dict[str, dict[str, Any]]:
    if collection is None:
        return {}
    rows = case.store.query("SELECT id, post_id, text FROM captures WHERE collection = ? AND kind = 'post'", (collection,))
    return {r["post_id"]: dict(r) for r in rows if r["post_id"]}


def _present(cap: dict[str, Any] | None) -> bool:
    return cap is not None and cap["status"] is not None and cap["status"] not in GONE


def _compare(case: Case, mon: dict[str, Any], prev: dict[str, Any] | None, cur: dict[str, Any] | None,
             collection: int) -> list[dict[str, Any]]:
    state = {"status": cur["status"] if cur else None, "sha256": cur["sha256"] if cur else None}
    if prev is None:
        return [{"kind": "baseline", "details": state}]
    before = {"previous_status": prev["status"], "previous_sha256": prev["sha256"],
              "previous_collection": prev["collection"]}
    if _present(prev) and not _present(cur):
        return [{"kind": "disappeared", "details": {**state, **before}}]
    if not _present(prev) and _present(cur):
        return [{"kind": "reappeared", "details": {**state, **before}}]
    if cur is None or not _present(cur):  # _present(None) is False: the check only informs the type
        return [{"kind": "unchanged", "details": {**state, **before}}]
    found = []
    if (prev["text"] or "") != (cur["text"] or ""):
        diff = "\n".join(difflib.unified_diff((prev["text"] or "").splitlines(), (cur["text"] or "").splitlines(),
                                              f"capture {prev['id']}", f"capture {cur['id']}", lineterm=""))
        diff_sha = case.put_object(diff.encode(), origin=f"monitor {mon['id']} text diff").sha256
        found.append({"kind": "changed", "details": {**state, **before, "diff_sha256": diff_sha, "diff": diff[:4000]}})
    old_posts, new_posts = _posts(case, prev["collection"]), _posts(case, collection)
    if new_posts:
        ids = sorted(int(p) for p in new_posts if p.isdigit())
        for pid, post in old_posts.items():
            if pid not in new_posts and pid.isdigit() and ids and ids[0] <= int(pid) <= ids[-1]:
                found.append({"kind": "post-gone", "details": {"post_id": pid, "previous_capture": post["id"]}})
            elif pid in new_posts and (post["text"] or "") != (new_posts[pid]["text"] or ""):
                found.append({"kind": "post-edited", "details": {"post_id": pid, "previous_capture": post["id"],
                                                                 "capture": new_posts[pid]["id"]}})
    return found or [{"kind": "unchanged", "details": {**state, **before}}]


def options_record(job: Job, tsa: str | None) -> dict[str, Any]:
    data = asdict(job)
    for key in ("urls", "exhibit", "config", "extra", "operator", "case_id"):
        data.pop(key, None)
    data["tsa"] = tsa
    return data


def get(case: Case, monitor: int) -> dict[str, Any]:
    for mon in list_all(case):
        if mon["id"] == monitor:
            return mon
    raise NotFound(f"no monitor {monitor}")
