"""Reading captures back: listings for `dalil captures` and matches for `dalil search`."""

from __future__ import annotations

import json
from typing import Any

import phonenumbers

from triage.analyzers.indicators import extract_indicators, fold, normalise
from triage.core.case import Case

from . import schema  # noqa: F401 - registers the tables

CAPTURE_FIELDS = ["id", "exhibit", "kind", "url", "captured_at", "status", "sha256", "warc", "warc_record_id",
                  "screenshot_sha256", "title", "text", "indicators", "post_id", "channel", "collection"]


def captures(case: Case, exhibit: str | None = None) -> list[dict[str, Any]]:
    sql = f"SELECT {', '.join(CAPTURE_FIELDS)} FROM captures"
    params: tuple[Any, ...] = ()
    if exhibit:
        sql += " WHERE exhibit = ?"
        params = (exhibit,)
    out = []
    for row in case.store.query(sql + " ORDER BY id", params):
        data = dict(row)
        data["indicators"] = json.loads(data["indicators"] or "{}")
        out.append(data)
    return out


def _has_table(case: Case, name: str) -> bool:
    return bool(case.store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))


def _columns(case: Case, table: str) -> set[str]:
    return {r["name"] for r in case.store.query(f"PRAGMA table_info({table})")}


def _phone(term: str, region: str) -> str | None:
    plain = normalise(term).strip()
    found = extract_indicators(plain, region)["phones"]
    if found:
        return found[0]
    try:
        number = phonenumbers.parse(plain, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) \
        if phonenumbers.is_possible_number(number) else None


def _snippet(text: str, needle: str, width: int = 60) -> str:
    i = fold(normalise(text)).casefold().find(needle)
    if i < 0:
        return ""
    start = max(0, i - width)
    return ("…" if start else "") + " ".join(text[start:i + len(needle) + width].split()) + "…"


def search(case: Case, term: str) -> list[dict[str, Any]]:
    """Captures and device files whose indicators hold `term` (a phone in any written form, a handle)
    or whose text, title, URL or path contains it (case, accents and digit forms ignored)."""
    term = term.strip()
    phone = _phone(term, case.region) if sum(c.isdigit() for c in normalise(term)) >= 6 else None
    needle = fold(normalise(term)).casefold()
    places = extract_indicators(term, case.region)["places"]
    # a place named in any language or spelling (زوارة, Zouara, Zuwara) finds its canonical name
    place = places[0] if len(places) == 1 else None
    out: list[dict[str, Any]] = []
    for cap in captures(case):
        match = _match(cap["indicators"], phone, needle, place)
        if not match:
            for field in ("text", "title", "url"):
                if needle and needle in fold(normalise(cap[field] or "")).casefold():
                    match = field
                    break
        if match:
            out.append({"source": "capture", "exhibit": cap["exhibit"], "id": cap["id"], "kind": cap["kind"],
                        "location": cap["url"], "sha256": cap["sha256"], "match": match,
                        "snippet": _snippet(cap["text"] or "", needle) if match == "text" else ""})
    if _has_table(case, "files"):
        cols = _columns(case, "files")
        wanted = [c for c in ("id", "exhibit", "path", "sha256", "indicators") if c in cols]
        for row in case.store.query(f"SELECT {', '.join(wanted)} FROM files"):
            data = dict(row)
            try:
                indicators = json.loads(data.get("indicators") or "{}") or {}
            except (TypeError, ValueError):
                indicators = {}
            match = _match(indicators if isinstance(indicators, dict) else {}, phone, needle, place)
            if not match and needle and needle in fold(data.get("path") or "").casefold():
                match = "path"
            if match:
                out.append({"source": "file", "exhibit": data.get("exhibit"), "id": data.get("id"), "kind": "file",
                            "location": data.get("path"), "sha256": data.get("sha256"), "match": match,
                            "snippet": ""})
    from triage.artifacts import query as phone_records

    out.extend(phone_records.search(case, phone, needle))
    return out


def _match(indicators: dict[str, Any], phone: str | None, needle: str, place: str | None = None) -> str | None:
    if phone and phone in (indicators.get("phones") or []):
        return f"phone {phone}"
    if place and place in (indicators.get("places") or []):
        return f"place {place}"
    if not needle:
        return None
    for key, values in indicators.items():
        for value in values or []:
            text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
            if needle == fold(text).casefold() or (key in ("handles", "links", "emails") and needle in text.casefold()):
                return f"{key[:-1] if key.endswith('s') else key} {text}"
    return None
