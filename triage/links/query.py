"""Reading the entity index: one place for `dalil links`, the report, the graph and the browser.

Strongest first: an entity that links more exhibits comes first; then one seen in more kinds of
source (an ad capture and a phone's calls are independent evidence, two text files less so); then
by kind, identifiers of one person or account before weaker ones (IBAN, wallet, phone, e-mail,
handle, device, image, domain); then by the number of occurrences; ties by kind and value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..core.case import Case
from ..core.errors import NotFound, UsageError
from . import entities, images, phash, schema  # noqa: F401  (schema registers the tables)

LINK_FIELDS = ["kind", "value", "exhibits", "count", "first_seen", "last_seen", "occurrences", "sources"]
OCCURRENCE_FIELDS = ["exhibit", "source", "ref", "time", "role", "label", "detail"]
ORDER = "e.exhibits DESC, e.sources DESC, e.rank, e.count DESC, e.kind, e.value"


@dataclass
class LinkFilter:
    exhibit: str | None = None
    kind: str | None = None
    min_exhibits: int = 2
    limit: int | None = None
    max_occurrences: int | None = None
    only: list[str] | None = None  # count and show these exhibits only (a report on selected exhibits)


def check(case: Case, f: LinkFilter) -> None:
    if f.kind is not None and f.kind not in entities.KINDS:
        raise UsageError(f"--kind {f.kind!r}: choose from {', '.join(entities.KINDS)}")
    if f.min_exhibits < 1:
        raise UsageError("--min-exhibits must be 1 or more")
    if f.exhibit and not case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (f.exhibit,)):
        raise NotFound(f"no exhibit {f.exhibit!r} in case {case.case_id}")


def _detail(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


_OCC_ORDER = "exhibit, time IS NULL, time, source, ref, role"
BATCH = 500


def _occurrence(r: Any) -> dict[str, Any]:
    return {"exhibit": r["exhibit"], "source": r["source"], "ref": r["ref"], "time": r["time"], "role": r["role"],
            "label": r["label"], "detail": _detail(r["detail"])}


def occurrences(case: Case, entity: int, limit: int | None = None) -> list[dict[str, Any]]:
    sql = (f"SELECT exhibit, source, ref, time, role, label, detail FROM occurrences WHERE entity = ? ORDER BY {_OCC_ORDER}"
           + (" LIMIT ?" if limit else ""))
    return [_occurrence(r) for r in case.store.query(sql, (entity, limit) if limit else (entity,))]


def rows_for(case: Case, chosen: list[dict[str, Any]], f: LinkFilter) -> list[dict[str, Any]]:
    """The listing rows of selected entities (as `selection` gives them): their exhibits and kinds of
    source (read a batch of entities at a time) and occurrences (one indexed read per entity)."""
    out = []
    only = f" AND exhibit IN ({','.join('?' * len(f.only))})" if f.only is not None else ""
    only_params: list[Any] = list(f.only) if f.only is not None else []
    occ_sql = (f"SELECT exhibit, source, ref, time, role, label, detail FROM occurrences WHERE entity = ?{only} "
               f"ORDER BY {_OCC_ORDER}" + (" LIMIT ?" if f.max_occurrences else ""))
    for start in range(0, len(chosen), BATCH):
        chunk = chosen[start:start + BATCH]
        ids = [e["id"] for e in chunk]
        places: dict[int, list[Any]] = {}
        for p in case.store.query(f"SELECT entity, exhibit, source FROM entity_places WHERE entity IN "
                                  f"({','.join('?' * len(ids))}){only}", [*ids, *only_params]):
            places.setdefault(p["entity"], []).append(p)
        for e in chunk:
            mine = places.get(e["id"], [])
            found = case.store.query(occ_sql, [e["id"], *only_params, *([f.max_occurrences] if f.max_occurrences else [])])
            out.append({"kind": e["kind"], "value": e["value"], "exhibits": sorted({p["exhibit"] for p in mine}),
                        "count": e["count"], "first_seen": e["first_seen"], "last_seen": e["last_seen"],
                        "occurrences": [_occurrence(r) for r in found], "sources": sorted({p["source"] for p in mine})})
    return out


def selection(case: Case, f: LinkFilter) -> list[dict[str, Any]]:
    """The entities the filters select, strongest first, with their figures: [{id, kind, value,
    exhibits, sources, count, first_seen, last_seen}] (counted over `only` when given)."""
    check(case, f)
    params: list[Any] = []
    if f.only is None:
        sql = "SELECT e.id, e.kind, e.value, e.rank, e.exhibits, e.sources, e.count, e.first_seen, e.last_seen FROM "
        if f.exhibit:  # from the exhibit's entities (CROSS JOIN keeps that order), not from every entity of a kind
            sql += "(SELECT DISTINCT entity FROM entity_places WHERE exhibit = ?) x CROSS JOIN entities e ON e.id = x.entity"
            params.append(f.exhibit)
        else:
            sql += "entities e"
        # the literal term lets SQLite use the partial index of linking entities (exhibits >= 2)
        sql += " WHERE e.exhibits >= 2 AND e.exhibits >= ?" if f.min_exhibits >= 2 else " WHERE e.exhibits >= ?"
        params.append(f.min_exhibits)
    else:
        if not f.only:
            return []
        sql = ("SELECT e.id, e.kind, e.value, e.rank, COUNT(DISTINCT p.exhibit) AS exhibits, COUNT(DISTINCT p.source)"
               " AS sources, SUM(p.count) AS count, MIN(p.first_seen) AS first_seen, MAX(p.last_seen) AS last_seen"
               f" FROM entity_places p JOIN entities e ON e.id = p.entity WHERE p.exhibit IN ({','.join('?' * len(f.only))})")
        params += f.only
    if f.exhibit and f.only is not None:
        sql += " AND e.id IN (SELECT entity FROM entity_places WHERE exhibit = ?)"
        params.append(f.exhibit)
    if f.kind:
        sql += " AND e.kind = ?"
        params.append(f.kind)
    if f.only is not None:
        sql += " GROUP BY e.id HAVING COUNT(DISTINCT p.exhibit) >= ?"
        params.append(f.min_exhibits)
        sql += " ORDER BY exhibits DESC, sources DESC, e.rank, count DESC, e.kind, e.value"
    else:
        sql += f" ORDER BY {ORDER}"
    if f.limit:
        sql += " LIMIT ?"
        params.append(f.limit)
    return [dict(r) for r in case.store.query(sql, params)]


def links(case: Case, f: LinkFilter) -> list[dict[str, Any]]:
    """Entities seen in at least `min_exhibits` exhibits (and in `exhibit`, when given), strongest first."""
    return rows_for(case, selection(case, f), f)


def find(case: Case, value: str) -> list[dict[str, Any]]:
    """The entities a value typed in any written form names: [{id, kind, value}]."""
    out: dict[int, dict[str, Any]] = {}

    def add(kind: str, canonical: str) -> None:
        for r in case.store.query("SELECT id, kind, value FROM entities WHERE kind = ? AND value = ?", (kind, canonical)):
            out[r["id"]] = {"id": r["id"], "kind": r["kind"], "value": r["value"]}

    for kind, canonical, _platform in entities.classify(value, case.region):
        if kind == "image" and canonical.startswith("sha256:"):
            add(kind, canonical)
            groups = images.cluster_of(case.store.conn, images.members(case.store.conn, canonical[7:]))
            for group in sorted(set(groups.values())):
                add("image", "phash:" + group)
        elif kind == "image" and canonical.startswith("phash:"):
            near = [r["phash"] for r in case.store.query("SELECT phash FROM image_clusters")]
            hits = phash.within(int(canonical[6:], 16), phash.to_ints(near))
            groups = images.cluster_of(case.store.conn, [near[int(i)] for i in hits])
            for group in sorted(set(groups.values())):
                add("image", "phash:" + group)
        else:
            add(kind, canonical)
    return sorted(out.values(), key=lambda e: (e["kind"], e["value"]))


def entity(case: Case, value: str) -> list[dict[str, Any]]:
    """Every occurrence of the entity (or entities) `value` names, each with its kind and value."""
    rows = []
    for e in find(case, value):
        for occ in occurrences(case, e["id"]):
            rows.append({"kind": e["kind"], "value": e["value"], **occ})
    return rows


def summary(case: Case) -> dict[str, Any]:
    """Counts for a heading: entities, occurrences, linking entities per kind."""
    by_kind = {r["kind"]: {"entities": r["n"], "linking": r["linking"]} for r in case.store.query(
        "SELECT kind, COUNT(*) AS n, SUM(exhibits >= 2) AS linking FROM entities GROUP BY kind ORDER BY kind")}
    total = case.store.query("SELECT COUNT(*) AS n FROM occurrences")[0]["n"]
    return {"occurrences": total, "kinds": by_kind}


BROWSER_LIMIT = 500      # entities on the browser's Links page and in the portable viewer (all: dalil links)
BROWSER_PLACES = 50      # occurrences shown per entity there
_HREF = {"file": "/files/{file}", "capture": "/captures/{capture}", "message": "/comms/message/{record}",
         "call": "/comms/call/{record}", "contact": "/comms/contact/{record}"}


def built(case: Case) -> bool:
    """Whether the case has an entity index (some exhibit indexed)."""
    have = {r["name"] for r in case.store.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('entities', 'links_exhibits')")}
    return have == {"entities", "links_exhibits"} and bool(case.store.query("SELECT 1 FROM links_exhibits LIMIT 1"))


def _href(occ: dict[str, Any]) -> str | None:
    raw = occ.get("detail")
    detail: dict[str, Any] = raw if isinstance(raw, dict) else {}
    pattern = _HREF.get(occ["source"], "/comms/record/{record}" if "record" in detail else "")
    try:
        return pattern.format(**detail) if pattern else None
    except (KeyError, IndexError):
        return None


def shared_entities(case: Case, exhibits: list[str] | None = None) -> list[dict[str, Any]] | None:
    """The browser's and the portable viewer's links (`triage.browser.links_adapter`): entities seen in
    two or more exhibits (of `exhibits` when given), strongest first, each with its occurrences as
    {exhibit, source, location, time, label, href (a page of `dalil serve`)}; None when no index."""
    if not built(case):
        return None
    f = LinkFilter(min_exhibits=2, limit=BROWSER_LIMIT, max_occurrences=BROWSER_PLACES, only=exhibits)
    out = []
    for row in links(case, f):
        places = [{"exhibit": o["exhibit"], "source": o["source"], "location": o["ref"], "time": o["time"],
                   "label": o["label"], **({"href": h} if (h := _href(o)) else {})} for o in row["occurrences"]]
        out.append({**{k: row[k] for k in ("kind", "value", "exhibits", "count", "first_seen", "last_seen", "sources")},
                    "occurrences": places})
    return out
