"""Reading phone records back: one place for `dalil messages|calls|contacts|records|artifacts`,
the report and the browser. Rows come out in the JSON shape the commands promise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from ..analyzers.indicators import fold, normalise
from ..core.case import Case
from ..core.errors import NotFound
from . import normalise as norm
from . import schema  # noqa: F401  (registers the tables)

MESSAGE_FIELDS = ["exhibit", "app", "thread", "direction", "sender", "recipients", "text", "time", "attachments",
                  "location", "recovered", "source", "thread_name", "sender_name", "parser", "id", "extra"]
CALL_FIELDS = ["exhibit", "app", "direction", "number", "name", "time", "duration", "recovered", "source",
               "video", "parser", "id", "extra"]
CONTACT_FIELDS = ["exhibit", "app", "name", "phones", "emails", "handles", "recovered", "source", "time",
                  "parser", "id", "extra"]
ITEM_FIELDS = ["exhibit", "app", "kind", "time", "title", "value", "location", "recovered", "source", "parser",
               "id", "data"]
ARTIFACT_FIELDS = ["exhibit", "parser", "version", "sha256", "app", "path", "files", "counts", "warnings", "status"]


@dataclass
class Filters:
    exhibit: str | None = None
    app: str | None = None
    thread: str | None = None
    contains: str | None = None
    recovered: bool = False
    kind: str | None = None
    number: str | None = None
    limit: int | None = None
    offset: int = 0


def _check_exhibit(case: Case, exhibit: str | None) -> None:
    if exhibit and not case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (exhibit,)):
        raise NotFound(f"no exhibit {exhibit!r} in case {case.case_id}")


def exists(case: Case, table: str) -> bool:
    """Whether the case has `table` (a case opened before the phone tables were registered has not)."""
    return bool(case.store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)))


def _where(case: Case, f: Filters, table: str) -> tuple[str, list[Any]]:
    _check_exhibit(case, f.exhibit)
    where, params = [], []
    if f.exhibit:
        where.append("exhibit = ?")
        params.append(f.exhibit)
    if f.app:
        where.append("app = ?")
        params.append(f.app)
    if f.recovered:
        where.append("recovered = 1")
    if f.kind and table == "phone_items":
        where.append("kind = ?")
        params.append(f.kind)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def matcher(text: str | None) -> str:
    """The matching form of a search text: digits made ASCII, accents and Arabic variants folded."""
    return fold(normalise(text or "")).casefold()


def _source(row: dict[str, Any]) -> dict[str, Any]:
    out = {"path": row["source_path"], "table": row["source_table"], "row": row["source_row"]}
    if row.get("source_where"):
        out["where"] = row["source_where"]
    if row.get("source_partition"):
        out["partition"] = row["source_partition"]
    return out


def _json(text: str | None, default: Any) -> Any:
    if text == "[]":  # most records: no recipients, attachments or extra data
        return []
    if text == "{}":
        return {}
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _page(rows: list[dict[str, Any]], f: Filters) -> list[dict[str, Any]]:
    end = None if f.limit is None else f.offset + f.limit
    return rows[f.offset:end]


def _base(row: dict[str, Any]) -> dict[str, Any]:
    return {"exhibit": row["exhibit"], "app": row["app"], "time": row["time"], "recovered": bool(row["recovered"]),
            "source": _source(row), "parser": row["parser"], "id": row["id"]}


def messages(case: Case, f: Filters) -> list[dict[str, Any]]:
    """Messages, oldest first within each exhibit and thread."""
    where, params = _where(case, f, "messages")
    if not exists(case, "messages"):
        return []
    needle = matcher(f.contains) if f.contains else None
    thread = f.thread
    thread_number = norm.phone(thread, case.region) if thread else None
    out = []
    for r in case.store.query(f"SELECT * FROM messages{where} ORDER BY exhibit, time IS NULL, time, id", params):
        row = dict(r)
        recipients = _json(row["recipients"], [])
        if thread and row["thread"] != thread and not (
                norm.is_number(thread_number) and thread_number in [row["sender"], *recipients]):
            continue
        if needle and needle not in matcher(row["text"]):
            continue
        msg = _base(row)
        msg.update(thread=row["thread"], thread_name=row["thread_name"], direction=row["direction"],
                   sender=row["sender"], sender_name=row["sender_name"], recipients=recipients, text=row["text"],
                   attachments=_json(row["attachments"], []),
                   location={"lat": row["lat"], "lon": row["lon"]} if row["lat"] is not None else None,
                   extra=_json(row["extra"], {}))
        out.append({k: msg[k] for k in MESSAGE_FIELDS})
    return _page(out, f)


def calls(case: Case, f: Filters) -> list[dict[str, Any]]:
    where, params = _where(case, f, "calls")
    if not exists(case, "calls"):
        return []
    wanted = norm.phone(f.number, case.region) if f.number else None
    out = []
    for r in case.store.query(f"SELECT * FROM calls{where} ORDER BY exhibit, time IS NULL, time, id", params):
        row = dict(r)
        if wanted and row["number"] != wanted:
            continue
        call = _base(row)
        call.update(direction=row["direction"], number=row["number"], name=row["name"], duration=row["duration"],
                    video=None if row["video"] is None else bool(row["video"]), extra=_json(row["extra"], {}))
        out.append({k: call[k] for k in CALL_FIELDS})
    return _page(out, f)


def contacts(case: Case, f: Filters) -> list[dict[str, Any]]:
    where, params = _where(case, f, "contacts")
    if not exists(case, "contacts"):
        return []
    needle = matcher(f.contains) if f.contains else None
    wanted = norm.phone(f.number, case.region) if f.number else None
    out = []
    for r in case.store.query(f"SELECT * FROM contacts{where} ORDER BY exhibit, name IS NULL, name, id", params):
        row = dict(r)
        phones = _json(row["phones"], [])
        if wanted and wanted not in phones:
            continue
        contact = _base(row)
        contact.update(name=row["name"], phones=phones, emails=_json(row["emails"], []),
                       handles=_json(row["handles"], []), extra=_json(row["extra"], {}))
        if needle and needle not in matcher(" ".join(str(v) for v in (contact["name"], *phones,
                                                                       *contact["emails"], *contact["handles"]))):
            continue
        out.append({k: contact[k] for k in CONTACT_FIELDS})
    return _page(out, f)


def items(case: Case, f: Filters) -> list[dict[str, Any]]:
    """Other phone records (visits, accounts, Wi-Fi, apps, device facts, locations…)."""
    where, params = _where(case, f, "phone_items")
    if not exists(case, "phone_items"):
        return []
    needle = matcher(f.contains) if f.contains else None
    out = []
    for r in case.store.query(f"SELECT * FROM phone_items{where} ORDER BY exhibit, kind, time IS NULL, time, id",
                              params):
        row = dict(r)
        if needle and needle not in matcher(f"{row['title'] or ''} {row['value'] or ''}"):
            continue
        item = _base(row)
        item.update(kind=row["kind"], title=row["title"], value=row["value"], data=_json(row["extra"], {}),
                    location={"lat": row["lat"], "lon": row["lon"]} if row["lat"] is not None else None)
        out.append({k: item[k] for k in ITEM_FIELDS})
    return _page(out, f)


def artifact_runs(case: Case, exhibit: str | None = None) -> list[dict[str, Any]]:
    """Each parser that ran on each file: version, source hash, files read (SHA-256), counts, warnings."""
    _check_exhibit(case, exhibit)
    if not exists(case, "artifact_runs"):
        return []
    sql = "SELECT * FROM artifact_runs" + (" WHERE exhibit = ?" if exhibit else "") + " ORDER BY exhibit, parser, path"
    out = []
    for r in case.store.query(sql, (exhibit,) if exhibit else ()):
        row = dict(r)
        row["files"] = _json(row["files"], [])
        row["counts"] = _json(row["counts"], {})
        row["warnings"] = _json(row["warnings"], [])
        out.append({k: row[k] for k in ARTIFACT_FIELDS})
    return out


def has_records(case: Case) -> bool:
    return any(exists(case, t) and case.store.query(f"SELECT 1 FROM {t} LIMIT 1") for t in schema.TABLES)


def search(case: Case, phone: str | None, needle: str) -> list[dict[str, Any]]:
    """Phone records naming `phone` (E.164) or containing `needle` (a `matcher` form), as `dalil search`
    rows: source (message, call, contact, record), exhibit, id, kind (the app), location (file, table
    and row), match, snippet."""
    out: list[dict[str, Any]] = []

    def hit(source: str, row: dict[str, Any], match: str, snippet: str = "") -> None:
        src = row["source"]
        out.append({"source": source, "exhibit": row["exhibit"], "id": row["id"], "kind": row["app"],
                    "location": f"{src['path']} {src.get('table') or ''}:{src.get('row')}", "sha256": None,
                    "match": match, "snippet": snippet})

    f = Filters()
    for m in messages(case, f):
        parties = [m["sender"], *m["recipients"]]
        if phone and phone in parties:
            hit("message", m, f"phone {phone}", (m["text"] or "")[:120])
            continue
        text = matcher(m["text"])
        if needle and (needle in text or any(needle == matcher(p) for p in parties if p)):
            at = text.find(needle)
            hit("message", m, "text" if at >= 0 else "party", (m["text"] or "")[max(0, at - 60):at + len(needle) + 60])
            continue
        if phone and phone in (norm.phone(x, case.region) for x in _numbers_in(m["text"], case.region)):
            hit("message", m, f"phone {phone} in text", (m["text"] or "")[:120])
    for c in calls(case, f):
        if (phone and c["number"] == phone) or (needle and needle in matcher(f"{c['number'] or ''} {c['name'] or ''}")):
            hit("call", c, f"phone {phone}" if phone and c["number"] == phone else "call")
    for c in contacts(case, f):
        if phone and phone in c["phones"]:
            hit("contact", c, f"phone {phone}", c["name"] or "")
        elif needle and needle in matcher(" ".join(str(v) for v in (c["name"] or "", *c["emails"], *c["handles"]))):
            hit("contact", c, "contact", c["name"] or "")
    for item in items(case, f):
        if needle and needle in matcher(f"{item['title'] or ''} {item['value'] or ''}"):
            hit("record", item, item["kind"], (item["value"] or "")[:120])
    return out


def _numbers_in(text: str | None, region: str) -> list[str]:
    if not text or sum(c.isdigit() for c in normalise(text)) < 6:
        return []
    from ..analyzers.indicators import extract_indicators

    return list(extract_indicators(text, region)["phones"])


def threads(case: Case, exhibit: str | None = None) -> list[dict[str, Any]]:
    """Conversations (exhibit, app, thread): message count, recovered count, first and last time, a
    name; busiest first. A message without a thread is grouped by its sender."""
    _check_exhibit(case, exhibit)
    if not exists(case, "messages"):
        return []
    where, params = (" WHERE exhibit = ?", [exhibit]) if exhibit else ("", [])
    rows = case.store.query(
        "SELECT exhibit, app, COALESCE(thread, sender, '') AS thread, COUNT(*) AS count, SUM(recovered) AS recovered, "
        f"MIN(time) AS first, MAX(time) AS last, MAX(thread_name) AS name FROM messages{where} "
        "GROUP BY exhibit, app, COALESCE(thread, sender, '') ORDER BY count DESC, exhibit, app, thread", params)
    return [dict(r, name=r["name"] or r["thread"]) for r in rows]


def thread_messages(case: Case, exhibit: str, app: str, thread: str) -> list[dict[str, Any]]:
    """The messages of one conversation as `threads` names it, oldest first, in the `messages` shape."""
    return [m for m in messages(case, Filters(exhibit=exhibit, app=app))
            if (m["thread"] if m["thread"] is not None else (m["sender"] or "")) == thread]


def located(case: Case, limit: int = 5000) -> list[dict[str, Any]]:
    """Phone records with a position (messages and other records), at most `limit` of each."""
    out: list[dict[str, Any]] = []
    for table, what in (("messages", "text"), ("phone_items", "title")):
        if not exists(case, table):
            continue
        kind = "'message'" if table == "messages" else "kind"
        for r in case.store.query(f"SELECT id, exhibit, app, {kind} AS kind, time, {what} AS label, lat, lon "
                                  f"FROM {table} WHERE lat IS NOT NULL AND lon IS NOT NULL ORDER BY id LIMIT ?",
                                  (limit,)):
            out.append(dict(r, source=table))
    return out


PARTY_COLUMNS = ("id", "exhibit", "app", "time", "recovered", "sender", "sender_name", "recipients", "thread",
                 "thread_name", "text", "source_path", "source_partition", "source_table", "source_row",
                 "source_where")  # the columns of a message `message_parties` reads


def message_party(out: dict[str, Any]) -> dict[str, Any]:
    """A message as `message_parties` gives it, from its PARTY_COLUMNS values (changed in place)."""
    out["recipients"] = _json(out["recipients"], [])
    out["source"] = _source(out)
    return out


def message_parties(case: Case, exhibit: str) -> Iterator[dict[str, Any]]:
    """One exhibit's messages with only what the entity index reads (id, app, time, parties, thread,
    text, source), streamed: the full listing decodes attachments and extra data it does not need."""
    if not exists(case, "messages"):
        return
    cur = case.store.conn.cursor()
    cur.row_factory = None  # plain tuples, zipped with the names: cheaper than dict(sqlite3.Row)
    cur.execute(f"SELECT {', '.join(PARTY_COLUMNS)} FROM messages WHERE exhibit = ? ORDER BY id", (exhibit,))
    for row in cur:
        yield message_party(dict(zip(PARTY_COLUMNS, row)))
