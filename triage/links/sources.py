"""Where entities are seen: every source Dalil stores, read for one exhibit at a time.

Each occurrence is a tuple `(kind, value, source, ref, time, role, label, detail)`:
- files (`source` "file"): the `indicators` of text files (phones, handles, links, e-mails, IBANs,
  wallets), EXIF camera serial numbers, images by pHash (or SHA-256); ref = the listed path;
- captures ("capture"): the indicators of each page or post, the author's profile links, the
  site and the sites it links to, and the images served with the pages (pHash computed from the
  stored objects); ref = URL and WARC record id;
- phone records, through the one query layer (`triage.artifacts.query`): message parties and text,
  call numbers, contacts (labelled with the contact's name), accounts and visited URLs; ref =
  record file, table and row (and thread).
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from typing import Any, Iterable, Iterator

from ..analyzers.indicators import extract_indicators, normalise
from ..artifacts import query as records
from ..core.case import Case
from ..core.store import dumps
from . import entities, finance, images

Occ = tuple[str, str, str, str, str | None, str | None, str | None, str | None]
_E164 = re.compile(r"\+[1-9]\d{6,14}")  # as the extractor and the parsers write numbers: taken as they are
IMAGE_MIN_BYTES = 32 * 1024  # an image without a pHash (undecodable here, e.g. HEIC) is linked by SHA-256 above this
_MARKERS = ("@", "t.me", "wa.me", "http", "www.", "whatsapp", "telegram", "facebook", "instagram", "tiktok",
            "0x", "bc1", "iban")


def _detail(**items: Any) -> str | None:
    kept = {k: v for k, v in items.items() if v is not None}
    return dumps(kept) if kept else None


@functools.lru_cache(maxsize=4096)
def _app_detail(app: str | None) -> str | None:
    """`_detail(app=app)`, once per app (every message, call and contact of an app has the same)."""
    return _detail(app=app)


def _tagged(found: Iterable[Occ], **ids: Any) -> Iterator[Occ]:
    """The occurrences with the id of the row they come from added to their detail (`file`,
    `capture`, `record`): what the browser links an occurrence to."""
    extra = {k: v for k, v in ids.items() if v is not None}
    done: dict[str | None, str | None] = {}  # one record's occurrences mostly share their detail
    for occ in found:
        if occ[7] not in done:
            done[occ[7]] = _with_ids(occ[7], extra)
        yield (*occ[:7], done[occ[7]])


def _with_ids(detail: str | None, extra: dict[str, Any]) -> str | None:
    """`detail` (compact JSON with sorted keys, as `dumps` writes it) with the keys of `extra` added:
    written as `dumps` would, by hand when that is plain (one int id whose key sorts after every key
    of the detail — the usual case), else through `dumps`."""
    if len(extra) == 1:
        ((key, value),) = extra.items()
        if type(value) is int and key.isalpha() and key.isascii():
            if not detail:
                return f'{{"{key}":{value}}}'
            if detail[0] == "{" and detail[-1] == "}" and all(k < key for k in _loads(detail)) and _loads(detail):
                return f'{detail[:-1]},"{key}":{value}}}'
    merged = dict(_loads(detail)) if detail else {}
    merged.update(extra)
    return dumps(merged) if merged else None


@functools.lru_cache(maxsize=4096)
def _loads(text: str) -> dict[str, Any]:
    """A detail's JSON (few distinct ones: {"app": …}); callers copy before changing it."""
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _json(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def from_indicators(found: Any, region: str, source: str, ref: str, time: str | None, text: str | None = None,
                    label: str | None = None) -> Iterator[Occ]:
    """Entities of an `indicators` object (as `extract_indicators` makes them); IBANs and wallets
    are looked for in `text` when the object predates them."""
    if not isinstance(found, dict):
        return
    for raw in found.get("phones") or []:
        if isinstance(raw, str) and (number := raw if _E164.fullmatch(raw) else entities.phone(raw, region)):
            yield "phone", number, source, ref, time, "text", label, None
    for raw in found.get("handles") or []:
        if isinstance(raw, str) and (name := entities.username(raw)):
            yield "handle", name, source, ref, time, "text", label, None
    for raw in found.get("links") or []:
        if isinstance(raw, str):
            for kind, value, platform in entities.from_url(raw, region):
                yield kind, value, source, ref, time, "link", label, _detail(platform=platform)
    for raw in found.get("emails") or []:
        if isinstance(raw, str) and (mail := entities.email(raw)):
            yield "email", mail, source, ref, time, "text", label, None
    for raw in found.get("profiles") or []:
        if isinstance(raw, str):
            for kind, value, platform in entities.from_url(raw, region, profile=True):
                yield kind, value, source, ref, time, "author", label, _detail(platform=platform)
    ibans = found.get("ibans") if "ibans" in found else (finance.find_ibans(normalise(text)) if text else [])
    for raw in ibans or []:
        if isinstance(raw, str) and (account := finance.iban(raw)):
            yield "iban", account, source, ref, time, "text", label, None
    wallets = found.get("wallets") if "wallets" in found else (finance.find_wallets(text) if text else [])
    for item in wallets or []:
        address = item.get("address") if isinstance(item, dict) else item
        if isinstance(address, str) and (coin := finance.wallet(address)):
            yield "wallet", coin[1], source, ref, time, "text", label, _detail(network=coin[0])


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def file_ref(path: str, partition: int | None) -> str:
    return path if not partition else f"{path} @{partition}"


def files(conn: sqlite3.Connection, exhibit: str, region: str) -> Iterator[Occ]:
    cols = _columns(conn, "files")
    if not cols:
        return
    phash = "phash" if "phash" in cols else "NULL"
    sql = (f"SELECT id, path, partition, sha256, mime, size, mtime, indicators, exif, {phash} AS phash, known FROM files "
           f"WHERE exhibit = ? AND (indicators IS NOT NULL OR exif IS NOT NULL OR {phash} IS NOT NULL "
           "OR mime LIKE 'image/%') ORDER BY id")
    for row in conn.execute(sql, (exhibit,)):
        yield from _tagged(_file(tuple(row)[1:], region), file=row[0])


def _file(row: tuple[Any, ...], region: str) -> Iterator[Occ]:
    path, partition, sha256, mime, size, mtime, found, exif, ph, known = row
    ref = file_ref(path, partition)
    yield from from_indicators(_json(found), region, "file", ref, mtime)
    tags = _json(exif)
    if isinstance(tags, dict):
        serial = tags.get("EXIF BodySerialNumber") or tags.get("MakerNote SerialNumber")
        if serial and str(serial).strip("0 "):
            make = str(tags.get("Image Make") or "").strip().lower() or "unknown"
            yield "device", f"camera:{make}:{str(serial).strip().lower()}", "file", ref, mtime, "exif", None, None
    if known == "good" or not sha256:
        return
    if ph:
        yield "image", "phash:" + ph, "file", ref, mtime, "image", None, _detail(sha256=sha256, phash=ph)
    elif (mime or "").startswith("image/") and (size or 0) >= IMAGE_MIN_BYTES:
        yield "image", "sha256:" + sha256, "file", ref, mtime, "image", None, _detail(sha256=sha256)


def captures(case: Case, conn: sqlite3.Connection, exhibit: str, region: str) -> Iterator[Occ]:
    cols = _columns(conn, "captures")
    if not cols:
        return
    for cap_id, url, captured_at, record, found, text, details in conn.execute(
            "SELECT id, url, captured_at, warc_record_id, indicators, text, details FROM captures WHERE exhibit = ? "
            "ORDER BY id", (exhibit,)):
        yield from _tagged(_capture(url, captured_at, record, found, text, details, region), capture=cap_id)
    if not _columns(conn, "capture_resources"):
        return
    for url, received_at, record, sha256, ctype, size in conn.execute(
            "SELECT url, received_at, warc_record_id, sha256, content_type, size FROM capture_resources "
            "WHERE exhibit = ? AND status = 200 AND content_type LIKE 'image/%' ORDER BY id", (exhibit,)):
        ph = images.object_phash(case, conn, sha256)
        ref = f"{url} {record}"
        if ph:
            yield "image", "phash:" + ph, "capture", ref, received_at, "image", None, _detail(sha256=sha256, phash=ph)
        elif (size or 0) >= IMAGE_MIN_BYTES and images.undecodable(conn, sha256):
            yield "image", "sha256:" + sha256, "capture", ref, received_at, "image", None, _detail(sha256=sha256)


def _capture(url: str, captured_at: str, record: str | None, found: Any, text: str | None, details: Any,
             region: str) -> Iterator[Occ]:
    ref = f"{url} {record}" if record else url
    yield from from_indicators(_json(found), region, "capture", ref, captured_at, text)
    for kind, value, _platform in entities.from_url(url, region):
        if kind == "domain":
            yield kind, value, "capture", ref, captured_at, "site", None, None
    extra = _json(details)
    for href in (extra.get("hrefs") or []) if isinstance(extra, dict) else []:
        if isinstance(href, str):
            for kind, value, platform in entities.from_url(href, region):
                yield kind, value, "capture", ref, captured_at, "link", None, _detail(platform=platform)


@functools.lru_cache(maxsize=65536)  # a phone's correspondents are few; its messages many
def _party(value: str | None, region: str) -> tuple[str, str] | None:
    if not value:
        return None
    if _E164.fullmatch(value):
        return "phone", value
    found = entities.handle(value, region, bare=False)
    if found:
        return found[0], found[1]
    number = entities.phone(value, region)
    return ("phone", number) if number else None


_MARKER = re.compile("|".join(re.escape(m) for m in _MARKERS))  # any of them, in one pass over the text
_SIX_DIGITS = re.compile(r"\d(?:\D*\d){5}")  # \d is any Unicode digit: Arabic-Indic and Persian too


def _worth(text: str | None) -> bool:
    """Whether free text may hold an entity (the extractor is thorough but slow)."""
    if not text:
        return False
    if _SIX_DIGITS.search(text):
        return True
    return _MARKER.search(normalise(text).lower()) is not None


def _text(text: str | None, region: str, source: str, ref: str, time: str | None, label: str | None) -> Iterator[Occ]:
    if not _worth(text):
        return
    assert text is not None
    yield from from_indicators(extract_indicators(text, region), region, source, ref, time, text, label)
    for url in entities.urls_in(normalise(text)):
        for kind, value, platform in entities.from_url(url, region):
            if kind == "domain":
                yield kind, value, source, ref, time, "link", label, None


def record_ref(row: dict[str, Any]) -> str:
    src = row.get("source") or {}
    ref = f"{src.get('path')} {src.get('table') or ''}:{src.get('row')}"
    if src.get("partition"):
        ref += f" @{src['partition']}"
    if src.get("where"):
        ref += f" ({src['where']})"
    return ref


def message_ref(m: dict[str, Any]) -> str:
    return record_ref(m) + (f" thread {m['thread']}" if m.get("thread") else "")


def phone_records(case: Case, exhibit: str, region: str, messages: list[list[Occ]] | None = None) -> Iterator[Occ]:
    """`messages`: the occurrences of each of the exhibit's messages in the order of their ids, made
    by `message_occurrences` where the messages were parsed (`dalil parse`'s workers); else (or
    when their number is not that of the stored messages) they are read back from the table."""
    f = records.Filters(exhibit=exhibit)
    ids = ([r[0] for r in case.store.conn.execute("SELECT id FROM messages WHERE exhibit = ? ORDER BY id", (exhibit,))]
           if messages is not None and records.exists(case, "messages") else None)
    if messages is not None and ids is not None and len(ids) == len(messages):
        for record_id, occs in zip(ids, messages):
            yield from _tagged(occs, record=record_id)
    else:
        for m in records.message_parties(case, exhibit):
            yield from _tagged(_message(m, region), record=m.get("id"))
    for c in records.calls(case, f):
        found = _party(c.get("number"), region)
        if found:
            yield from _tagged([(found[0], found[1], "call", record_ref(c), c.get("time"), c.get("direction"),
                                 c.get("name"), _app_detail(c.get("app")))], record=c.get("id"))
    for c in records.contacts(case, f):
        yield from _tagged(_contact(c, region), record=c.get("id"))
    for item in records.items(case, f):
        yield from _tagged(_item(item, region), record=item.get("id"))


def message_occurrences(m: dict[str, Any], region: str) -> list[Occ]:
    """The occurrences of one message (as `query.message_parties` gives it), without its record id."""
    return list(_message(m, region))


def _message(m: dict[str, Any], region: str) -> Iterator[Occ]:
    ref = message_ref(m)
    for role, value in [("sender", m.get("sender")), *[("recipient", r) for r in m.get("recipients") or []]]:
        found = _party(value, region)
        if found:
            label = m.get("sender_name") if role == "sender" else None
            yield found[0], found[1], "message", ref, m.get("time"), role, label, _app_detail(m.get("app"))
    thread = str(m.get("thread") or "")
    if thread.startswith("group:"):
        yield "handle", thread, "message", ref, m.get("time"), "thread", m.get("thread_name"), None
    yield from _text(m.get("text"), region, "message", ref, m.get("time"), m.get("sender_name"))


def _contact(c: dict[str, Any], region: str) -> Iterator[Occ]:
    ref, name, detail = record_ref(c), c.get("name"), _app_detail(c.get("app"))
    for raw in c.get("phones") or []:
        found = _party(str(raw), region)
        if found:
            yield found[0], found[1], "contact", ref, c.get("time"), "contact", name, detail
    for raw in c.get("emails") or []:
        if (mail := entities.email(str(raw))):
            yield "email", mail, "contact", ref, c.get("time"), "contact", name, detail
    for raw in c.get("handles") or []:
        ident = entities.handle(str(raw), region)
        if ident:
            yield ident[0], ident[1], "contact", ref, c.get("time"), "contact", name, detail


def _item(item: dict[str, Any], region: str) -> Iterator[Occ]:
    ref, kind, value = record_ref(item), item.get("kind") or "record", str(item.get("value") or "")
    time, app = item.get("time"), item.get("app")
    if kind == "account":
        for found in entities.classify(value, region):
            if found[0] in ("phone", "email", "handle"):
                yield found[0], found[1], "account", ref, time, "account", item.get("title"), _detail(app=app)
                break
        else:
            if (ident := entities.handle(value, region)):
                yield ident[0], ident[1], "account", ref, time, "account", item.get("title"), _detail(app=app)
        return
    if value.lower().startswith(("http://", "https://")):
        for ekind, evalue, platform in entities.from_url(value, region):
            yield ekind, evalue, kind, ref, time, "url", None, _detail(app=app, platform=platform)
    else:
        yield from _text(value, region, kind, ref, time, None)


def collect(case: Case, conn: sqlite3.Connection, exhibit: str, messages: list[list[Occ]] | None = None) -> list[Occ]:
    """Every occurrence in one exhibit: one per entity and place, its roles joined ("link,text")."""
    region = case.region
    out: dict[tuple[str, str, str, str], Occ] = {}
    for occ in (*files(conn, exhibit, region), *captures(case, conn, exhibit, region),
                *phone_records(case, exhibit, region, messages)):
        key = (occ[0], occ[1], occ[2], occ[3])
        seen = out.get(key)
        if seen is None:
            out[key] = occ
            continue
        roles = ",".join(sorted({*(seen[5] or "").split(","), *(occ[5] or "").split(",")} - {""})) or None
        out[key] = (*seen[:5], roles, seen[6] or occ[6], seen[7] or occ[7])
    return list(out.values())
