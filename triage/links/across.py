"""This case and the lab repository: what a push sends, and entities also seen in other cases."""

from __future__ import annotations

from typing import Any

from ..core.case import Case
from . import query
from .repository import Repository, Row


def push_rows(case: Case) -> list[Row]:
    """(kind, value, exhibit, source, count, first, last) of every entity of the case; images by
    each image's own pHash (or SHA-256), not by the name of their group in this case."""
    rows: list[Row] = [tuple(r) for r in case.store.query(  # type: ignore[misc]
        "SELECT e.kind, e.value, p.exhibit, p.source, p.count, p.first_seen, p.last_seen FROM entity_places p "
        "JOIN entities e ON e.id = p.entity WHERE e.kind <> 'image' ORDER BY e.kind, e.value, p.exhibit, p.source")]
    rows += [tuple(r) for r in case.store.query(  # type: ignore[misc]
        "SELECT 'image', COALESCE('phash:' || json_extract(o.detail, '$.phash'), e.value) AS v, o.exhibit, o.source,"
        " COUNT(*), MIN(o.time), MAX(o.time) FROM occurrences o JOIN entities e ON e.id = o.entity "
        "WHERE e.kind = 'image' GROUP BY v, o.exhibit, o.source ORDER BY v, o.exhibit, o.source")]
    return rows


def across_cases(case: Case, repo: Repository, f: query.LinkFilter) -> list[dict[str, Any]]:
    """Entities of this case (filtered as `dalil links`, at least `min_exhibits` exhibits here) also
    seen in other cases of the repository, with those cases: most other cases first."""
    local = query.selection(case, f)
    by_pair = {(e["kind"], e["value"]): e for e in local}
    wanted: dict[tuple[str, str], tuple[str, str]] = {pair: pair for pair in by_pair}
    images = [e for e in local if e["kind"] == "image" and e["value"].startswith("phash:")]
    for e in images:  # an image group is asked for by each of its images' own pHash
        for (member,) in case.store.query(
                "SELECT DISTINCT json_extract(detail, '$.phash') FROM occurrences WHERE entity = ? "
                "AND json_extract(detail, '$.phash') IS NOT NULL", (e["id"],)):
            wanted[("image", "phash:" + member)] = (e["kind"], e["value"])
    found = repo.find(list(wanted), exclude_case=case.case_id)
    cases: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in found:
        owner = wanted.get((r["kind"], r["matched"]))
        if owner is None:
            continue
        entry = cases.setdefault(owner, {}).setdefault(r["case_id"], {
            "case": r["case_id"], "exhibits": set(), "sources": set(), "count": 0, "first_seen": None,
            "last_seen": None, "values": set()})
        entry["exhibits"].add(r["exhibit"])
        entry["sources"].add(r["source"])
        entry["values"].add(r["value"])
        entry["count"] += int(r["count"] or 0)
        for key, pick in (("first_seen", min), ("last_seen", max)):
            if r[key]:
                entry[key] = pick(x for x in (entry[key], r[key]) if x)
    matched = [e for e in local if (e["kind"], e["value"]) in cases]
    out = []
    for e, row in zip(matched, query.rows_for(case, matched, f)):
        hits = cases[(e["kind"], e["value"])]
        row["cases"] = [{**{k: v for k, v in c.items() if k not in ("exhibits", "sources", "values")},
                         "exhibits": sorted(c["exhibits"]), "sources": sorted(c["sources"]), "values": sorted(c["values"])}
                        for _, c in sorted(hits.items())]
        out.append(row)
    # most other cases first; the case's own order (strongest first) otherwise
    return sorted(out, key=lambda r: -len(r["cases"]))
