"""Read what a case holds, for reports and bundles, whatever tables exist yet.

Tables written by other components (`files`, `captures`, `acquisitions`) may be missing or
empty; every reader here returns an empty list then, and JSON columns are decoded leniently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from triage.core.case import LEDGER_NAME, Case
from triage.links import index as links_index
from triage.links import query as links_query

JSON_COLUMNS = ("exif", "yara", "yara_matches", "indicators", "details")
MAX_THREAD_MESSAGES = 200    # per conversation in the HTML/PDF report (all are in messages.csv)
MAX_REPORT_MESSAGES = 3000   # over all conversations
MAX_REPORT_LINKS = 300       # entities linking exhibits, strongest first (all: dalil links, the bundle's graph)
MAX_LINK_PLACES = 25         # places shown per entity


def table_columns(case: Case, table: str) -> list[str]:
    """The columns of `table`, or [] when it does not exist."""
    rows = case.store.query(f"PRAGMA table_info({table})")  # table names are ours, never user input
    return [r["name"] for r in rows]


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for col in JSON_COLUMNS:
        value = row.get(col)
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                row[col] = json.loads(value)
            except ValueError:
                pass
    return row


def rows(case: Case, table: str, exhibits: Iterable[str] | None = None, order: str = "") -> list[dict[str, Any]]:
    """Every row of `table` (JSON columns decoded), limited to `exhibits` when given."""
    cols = table_columns(case, table)
    if not cols:
        return []
    sql = f"SELECT * FROM {table}"
    params: list[Any] = []
    wanted = list(exhibits) if exhibits is not None else None
    if wanted is not None and "exhibit" in cols:
        if not wanted:
            return []
        sql += f" WHERE exhibit IN ({','.join('?' * len(wanted))})"
        params = wanted
    if order and all(c.strip().split()[0] in cols for c in order.split(",")):
        sql += f" ORDER BY {order}"
    return [_decode(dict(r)) for r in case.store.query(sql, params)]


def yara_hits(row: dict[str, Any]) -> list[str]:
    """Rule names a file matched (from `yara_matches` or `yara`, list of names or of dicts)."""
    value = row.get("yara_matches") or row.get("yara") or []
    if isinstance(value, dict):
        value = value.get("matches") or list(value.keys())
    names: list[str] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            names.append(str(item.get("rule") or item.get("name") or item))
        else:
            names.append(str(item))
    return names


def indicator_text(item: Any) -> str:
    """One indicator as text: a price {amount, currency, text} reads "2200 EUR (2200 يورو)"."""
    if not isinstance(item, dict):
        return str(item)
    if "value" in item:
        return str(item["value"])
    if item.get("amount") is not None and item.get("currency"):
        plain = f"{item['amount']} {item['currency']}"
        text = str(item.get("text") or "")
        return plain if not text or text == plain else f"{plain} ({text})"
    if item.get("text"):
        return str(item["text"])
    if item.get("address"):  # a wallet {network, address}
        return f"{item['address']} ({item.get('network') or '?'})"
    return json.dumps(item, ensure_ascii=False, sort_keys=True)


def flat_indicators(value: Any) -> list[tuple[str, str]]:
    """(kind, value) pairs from an indicators column: {"phone": [..]} or [{"kind":..,"value":..}]."""
    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for kind, items in value.items():
            for item in items if isinstance(items, list) else [items]:
                out.append((str(kind), indicator_text(item)))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                out.append((str(item.get("kind") or item.get("type") or "indicator"), indicator_text(item)))
            else:
                out.append(("indicator", str(item)))
    return out


@dataclass
class CaseData:
    """Everything a report shows, already filtered to the selected exhibits."""

    meta: dict[str, str]
    examiners: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    acquisitions: list[dict[str, Any]]
    files: list[dict[str, Any]]
    captures: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    exhibits: list[str] = field(default_factory=list)
    collections: list[dict[str, Any]] = field(default_factory=list)
    partitions: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    phone_items: list[dict[str, Any]] = field(default_factory=list)
    artifact_runs: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    links_stale: list[str] = field(default_factory=list)

    def threads(self, max_messages: int = MAX_THREAD_MESSAGES, max_total: int = MAX_REPORT_MESSAGES
                ) -> list[dict[str, Any]]:
        """Messages grouped into conversations (exhibit, app, thread), busiest first, each with at most
        `max_messages` messages (the last ones) and `max_total` over all; counts say what is left out."""
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        for m in self.messages:
            key = (m["exhibit"], m["app"], m.get("thread") or m.get("sender") or "")
            groups.setdefault(key, []).append(m)
        out, shown = [], 0
        for (exhibit, app, thread), msgs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            room = max(0, min(max_messages, max_total - shown))
            part = msgs[-room:] if room else []
            shown += len(part)
            names = [m.get("thread_name") for m in msgs if m.get("thread_name")]
            out.append({"exhibit": exhibit, "app": app, "thread": thread, "name": names[0] if names else thread,
                        "count": len(msgs), "messages": part, "recovered": sum(1 for m in msgs if m["recovered"]),
                        "first": msgs[0].get("time"), "last": msgs[-1].get("time")})
        return out

    def gaps(self) -> list[dict[str, str]]:
        """What could not be examined, beyond the stored warnings: partitions not parsed, pages that
        failed in a collection, runs that did not finish."""
        out: list[dict[str, str]] = []
        for p in self.partitions:
            if p.get("status") not in (None, "parsed"):
                out.append({"exhibit": str(p.get("exhibit") or ""), "location": f"partition {p.get('partition')}",
                            "message": f"{p.get('status')}: {p.get('description') or ''} {p.get('message') or ''}".strip()})
        for c in self.collections:
            if c.get("failures"):
                out.append({"exhibit": str(c.get("exhibit") or ""), "location": f"collection {c.get('id')}",
                            "message": f"{c['failures']} request(s) failed during the capture"})
        for r in self.runs:
            out.extend(carving_gaps(r))
            if r.get("status") not in (None, "done", "ok", "finished"):
                out.append({"exhibit": str(r.get("exhibit") or ""), "location": f"{r.get('kind')} run {r.get('id')}",
                            "message": f"run status: {r.get('status')}"})
        return out

    def file_tags(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        return [t for t in self.tags if t["kind"] == "file" and t["exhibit"] == row.get("exhibit")
                and t["path"] == row.get("path")]

    def capture_tags(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        return [t for t in self.tags if t["kind"] == "capture" and t["url"] == row.get("url")]

    def of_interest(self, row: dict[str, Any]) -> list[str]:
        """Why a file is of interest: tag labels, YARA rules, known-bad; [] when it is not."""
        reasons = [f"tag: {t['label']}" for t in self.file_tags(row)]
        reasons += [f"yara: {name}" for name in yara_hits(row)]
        if row.get("known") == "bad":
            reasons.append("known-bad hash")
        return reasons

    def findings(self) -> list[dict[str, Any]]:
        """Files worth a finding line: of interest, with GPS, extension mismatch, or deleted-of-interest.

        Each reason is {code, detail}; the report translates the code (labels `r_<code>`)."""
        out = []
        for row in self.files:
            reasons = [{"code": "tag", "detail": t["label"], "note": t.get("note")} for t in self.file_tags(row)]
            reasons += [{"code": "yara", "detail": name} for name in yara_hits(row)]
            if row.get("known") == "bad":
                reasons.append({"code": "known_bad", "detail": ""})
            if row.get("gps_lat") is not None and row.get("gps_lon") is not None:
                reasons.append({"code": "gps", "detail": ""})
            if row.get("ext_mismatch"):
                reasons.append({"code": "ext_mismatch", "detail": str(row.get("mime") or "")})
            if reasons and row.get("carved"):  # where in the image, since there is no name or time
                reasons.append({"code": "carved", "detail": f"offset {row.get('carved_offset')}, "
                                                            f"length {row.get('carved_length')}"})
            found = flat_indicators(row.get("indicators"))
            if row.get("deleted") and found:  # a deleted file whose recovered content names phones, prices...
                reasons.append({"code": "indicators", "detail": "; ".join(f"{k} {v}" for k, v in found[:6])
                                + (f"; +{len(found) - 6}" if len(found) > 6 else "")})
            if reasons:
                if row.get("deleted"):
                    reasons.append({"code": "deleted", "detail": ""})
                out.append({**row, "reasons": reasons, "tagged": bool(self.file_tags(row))})
        return sorted(out, key=lambda r: (not r["tagged"], r.get("exhibit") or "", r.get("path") or ""))

    def captures_sorted(self) -> list[dict[str, Any]]:
        tagged = [dict(c, tagged=True, tag_list=self.capture_tags(c)) for c in self.captures if self.capture_tags(c)]
        rest = [dict(c, tagged=False, tag_list=[]) for c in self.captures if not self.capture_tags(c)]
        return tagged + rest

    def indicators(self) -> list[dict[str, str]]:
        """Every indicator with where it came from (file or capture)."""
        out: list[dict[str, str]] = []
        for row in self.files:
            for kind, value in flat_indicators(row.get("indicators")):
                out.append({"kind": kind, "value": value, "source": "file", "exhibit": row.get("exhibit") or "",
                            "where": row.get("path") or "", "sha256": row.get("sha256") or ""})
        for row in self.captures:
            for kind, value in flat_indicators(row.get("indicators")):
                out.append({"kind": kind, "value": value, "source": "capture", "exhibit": row.get("exhibit") or "",
                            "where": row.get("url") or "", "sha256": row.get("sha256") or ""})
        return out

    def timeline(self) -> list[dict[str, str]]:
        """Dated events: times of the files in the findings (every file's times are in files.csv),
        captures, acquisitions, custody entries; sorted by time."""
        events: list[dict[str, str]] = []
        for row in self.findings():
            for col in ("mtime", "atime", "ctime", "crtime"):
                if row.get(col):
                    events.append({"time": str(row[col]), "event": f"file {col}", "exhibit": row.get("exhibit") or "",
                                   "what": row.get("path") or ""})
        for row in self.captures:
            if row.get("captured_at"):
                events.append({"time": str(row["captured_at"]), "event": "captured", "exhibit": row.get("exhibit") or "",
                               "what": row.get("url") or ""})
        for row in self.acquisitions:
            for col in ("started", "ended"):
                if row.get(col):
                    events.append({"time": str(row[col]), "event": f"acquisition {col}",
                                   "exhibit": row.get("exhibit") or "", "what": str(row.get("source") or "")})
        for entry in (e for e in self.ledger if not e.get("redacted")):
            events.append({"time": str(entry.get("time", "")), "event": f"custody: {entry.get('action')}",
                           "exhibit": str((entry.get("subject") or {}).get("exhibit") or ""),
                           "what": str(entry.get("examiner") or "")})
        return sorted(events, key=lambda e: e["time"])


def carving_gaps(run: dict[str, Any]) -> list[dict[str, str]]:
    """A parse run with --carve: what free space was scanned and what was carved there, per area, and
    the file systems whose free space was not carved."""
    details = run.get("details")
    areas = details.get("carving") if run.get("kind") == "parse" and isinstance(details, dict) else None
    out = []
    for a in areas or []:
        where = (f"carving partition {a.get('partition')} ({a.get('fs_type')})" if a.get("kind") == "unallocated"
                 else "carving outside the partitions")
        carved = ", ".join(f"{n} {ext}" for ext, n in (a.get("carved") or {}).items()) or "nothing"
        if a.get("status") == "not-carved":
            message = f"free space not carved: {a.get('message')}"
        else:
            message = (f"{a.get('bytes_scanned', 0):,} bytes of unallocated space scanned in {a.get('runs', 0)} "
                       f"run(s); carved {carved} ({a.get('carved_bytes', 0):,} bytes): rows flagged carved, "
                       "no names or times" + (f"; {a['message']}" if a.get("message") else ""))
        out.append({"exhibit": str(run.get("exhibit") or ""), "location": where, "message": message})
    return out


def _epoch_to_text(row: dict[str, Any]) -> dict[str, Any]:
    from triage.core.clock import from_timestamp

    for col in ("mtime", "atime", "ctime", "crtime"):
        value = row.get(col)
        if isinstance(value, (int, float)) and value > 0:
            try:
                row[col] = from_timestamp(value)
            except (ValueError, OverflowError, OSError, TypeError):
                pass
    return row


def load(case: Case, exhibits: list[str] | None = None) -> CaseData:
    """Read a case, keeping only `exhibits` when given (None: everything)."""
    evidence = rows(case, "evidence", exhibits, "exhibit")
    wanted = exhibits if exhibits is not None else [e["exhibit"] for e in evidence]
    captures = rows(case, "captures", exhibits, "captured_at")
    tags = rows(case, "tags", None, "id")
    if exhibits is not None:
        urls = {c.get("url") for c in captures}
        tags = [t for t in tags if (t["kind"] == "file" and t["exhibit"] in exhibits)
                or (t["kind"] == "capture" and t["url"] in urls)]
    ledger_path = Path(case.root) / LEDGER_NAME
    links, links_stale = _links(case, exhibits)
    from .redact import withheld

    ledger = []
    for line in ledger_path.read_bytes().splitlines():
        if line.strip():
            entry = json.loads(line)
            ledger.append({"seq": entry["seq"], "hash": entry["hash"], "action": "(withheld)", "redacted": True}
                          if withheld(entry, exhibits) else entry)
    return CaseData(
        meta=case.meta(),
        examiners=rows(case, "examiners"),
        evidence=evidence,
        acquisitions=rows(case, "acquisitions", exhibits, "started"),
        files=[_epoch_to_text(r) for r in rows(case, "files", exhibits, "exhibit, path")],
        captures=captures,
        tags=tags,
        runs=rows(case, "runs", exhibits, "started"),
        warnings=rows(case, "warnings", exhibits, "id") + (
            [] if exhibits is None else [w for w in rows(case, "warnings", None, "id") if not w.get("exhibit")]),
        ledger=ledger,
        exhibits=list(wanted),
        collections=[_collection(r) for r in rows(case, "collections", exhibits, "id")],
        partitions=rows(case, "partitions", exhibits, "exhibit, partition"),
        **_phone(case, wanted),
        links=links,
        links_stale=links_stale,
    )


def _links(case: Case, exhibits: list[str] | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Entities linking two or more of the selected exhibits, strongest first, with their places;
    and the exhibits the index has not seen."""
    if not table_columns(case, "entities") or not table_columns(case, "links_exhibits"):
        return [], []
    rows = links_query.links(case, links_query.LinkFilter(min_exhibits=2, limit=MAX_REPORT_LINKS,
                                                          max_occurrences=MAX_LINK_PLACES, only=exhibits))
    stale = [e for e in links_index.stale(case) if exhibits is None or e in exhibits]
    return rows, stale


def _phone(case: Case, exhibits: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Phone records of the selected exhibits, through the one query layer the commands use."""
    from triage.artifacts import query

    out: dict[str, list[dict[str, Any]]] = {"messages": [], "calls": [], "contacts": [], "phone_items": [],
                                            "artifact_runs": []}
    for exhibit in exhibits:
        f = query.Filters(exhibit=exhibit)
        out["messages"] += query.messages(case, f)
        out["calls"] += query.calls(case, f)
        out["contacts"] += query.contacts(case, f)
        out["phone_items"] += query.items(case, f)
        out["artifact_runs"] += query.artifact_runs(case, exhibit)
    return out


def _collection(row: dict[str, Any]) -> dict[str, Any]:
    """A web collection's provenance, flattened for the report (who, with what, from where)."""
    for col in ("settings", "urls"):
        if isinstance(row.get(col), str) and row[col][:1] in ("{", "["):
            try:
                row[col] = json.loads(row[col])
            except ValueError:
                pass
    raw_settings = row.get("settings")
    settings: dict[str, Any] = raw_settings if isinstance(raw_settings, dict) else {}
    raw_details = row.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    raw_spider = details.get("spider")
    spider: dict[str, Any] = raw_spider if isinstance(raw_spider, dict) else {}
    row["operator"] = settings.get("operator")
    row["user_agent"] = settings.get("user_agent")
    row["robots"] = settings.get("robots")
    row["browser"] = details.get("browser")
    row["spider_text"] = " ".join(str(x) for x in (spider.get("module") or row.get("spider"), spider.get("version")) if x)
    row["spider_sha256"] = spider.get("sha256")
    return row
