"""Selecting rows of `files` (shared by `dalil files`, `export` and `timeline`) and shaping them for output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..core.case import Case
from ..core.errors import NotFound

LIST_COLUMNS = ["exhibit", "partition", "path", "inode", "size", "deleted", "md5", "sha1", "sha256", "mime",
                "ext_mismatch", "mtime", "atime", "ctime", "crtime", "gps", "yara", "indicators", "known",
                "entropy", "encrypted_flag", "recovered", "recovered_note", "orphan", "type", "error",
                "snapshot", "carved", "offset", "length"]
TABLE_COLUMNS = ["exhibit", "partition", "path", "size", "deleted", "mime", "sha256", "gps", "yara"]
MIME_LIKE = "mime LIKE ? ESCAPE '\\'"


@dataclass
class Filters:
    exhibit: str | None = None
    deleted: bool = False
    mime: str | None = None
    yara: str | None = None
    has_gps: bool = False
    carved: bool = False


def select(case: Case, filters: Filters) -> list[dict[str, Any]]:
    """Rows of `files` matching the filters, ordered by exhibit, partition, path."""
    where, params = [], []
    if filters.exhibit:
        if not case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (filters.exhibit,)):
            raise NotFound(f"no exhibit {filters.exhibit!r} in case {case.case_id}")
        where.append("exhibit = ?")
        params.append(filters.exhibit)
    if filters.deleted:
        where.append("(deleted = 1 OR orphan = 1)")  # orphans are deleted in TSK's walk; kept whatever the flag
    if filters.mime:
        where.append(MIME_LIKE)
        params.append(_like_prefix(filters.mime))
    if filters.has_gps:
        where.append("gps_lat IS NOT NULL AND gps_lon IS NOT NULL")
    if filters.carved:
        where.append("carved = 1")
    sql = "SELECT * FROM files" + (" WHERE " + " AND ".join(where) if where else "")
    rows = [dict(r) for r in case.store.query(sql + " ORDER BY exhibit, partition, path, attr", params)]
    if filters.yara:
        rows = [r for r in rows if filters.yara in rule_names(r)]
    return rows


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def unknown_filters(case: Case, filters: Filters) -> list[str]:
    """Notes for a --yara rule no file in the case matched, or a --mime prefix no file has: such a
    filter can only give nothing, most often from a typo (names are case-sensitive)."""
    notes = []
    if filters.yara:
        known: set[str] = set()
        for r in case.store.query("SELECT DISTINCT yara_matches FROM files WHERE yara_matches IS NOT NULL "
                                  "AND yara_matches != '[]'"):
            known.update(rule_names(dict(r)))
        if filters.yara not in known:
            notes.append(f"no file in this case matched a YARA rule named {filters.yara!r} "
                         f"(rules that matched: {_some(known)})")
    if filters.mime and not case.store.query(f"SELECT 1 FROM files WHERE {MIME_LIKE} LIMIT 1",
                                             (_like_prefix(filters.mime),)):
        types = {r["mime"] for r in case.store.query("SELECT DISTINCT mime FROM files WHERE mime IS NOT NULL")}
        notes.append(f"no file in this case has a MIME type starting with {filters.mime!r} "
                     f"(types present: {_some(types)})")
    return notes


def _some(names: set[str], limit: int = 10) -> str:
    if not names:
        return "none"
    shown = sorted(names)[:limit]
    return ", ".join(shown) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def rule_names(row: dict[str, Any]) -> list[str]:
    matches = json.loads(row["yara_matches"]) if row.get("yara_matches") else []
    return [m["rule"] for m in matches]


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A row as `dalil files` prints it (jsonl contract)."""
    out = {k: row.get(k) for k in LIST_COLUMNS if k not in ("gps", "yara")}
    out["carved"] = bool(row.get("carved"))
    out["offset"], out["length"] = row.get("carved_offset"), row.get("carved_length")
    out["deleted"] = bool(row["deleted"])
    out["orphan"] = bool(row["orphan"])
    out["recovered"] = bool(row["recovered"])
    out["ext_mismatch"] = None if row["ext_mismatch"] is None else bool(row["ext_mismatch"])
    out["encrypted_flag"] = None if row["encrypted_flag"] is None else bool(row["encrypted_flag"])
    out["gps"] = {"lat": row["gps_lat"], "lon": row["gps_lon"]} if row["gps_lat"] is not None else None
    out["yara"] = rule_names(row)
    out["indicators"] = json.loads(row["indicators"]) if row.get("indicators") else None
    return {k: out[k] for k in LIST_COLUMNS}


# --- pages of files (the browser): filtered and paged in SQL, so a million rows stay fast ---------

PAGE_FLAGS = {
    "deleted": "(deleted = 1 OR orphan = 1)",
    "mismatch": "ext_mismatch = 1",
    "yara": "yara_matches IS NOT NULL AND yara_matches NOT IN ('', '[]')",
    "known_bad": "known = 'bad'",
    "gps": "gps_lat IS NOT NULL AND gps_lon IS NOT NULL",
    "image": "mime LIKE 'image/%'",
}
PAGE_MAX = 500


@dataclass
class PageFilters:
    """What a page of files is limited to; `flags` are keys of PAGE_FLAGS (all must hold)."""

    exhibit: str | None = None
    mime: str | None = None
    name: str | None = None
    rule: str | None = None
    flags: list[str] = field(default_factory=list)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.total


def _page_where(f: PageFilters) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if f.exhibit:
        where.append("exhibit = ?")
        params.append(f.exhibit)
    if f.mime:
        where.append(MIME_LIKE)
        params.append(_like_prefix(f.mime))
    if f.name:
        where.append("path LIKE ? ESCAPE '\\'")
        params.append("%" + _like_prefix(f.name))
    if f.rule:
        where.append("EXISTS (SELECT 1 FROM json_each(files.yara_matches) WHERE json_extract(value, '$.rule') = ?)")
        params.append(f.rule)
    for flag in f.flags:
        if flag not in PAGE_FLAGS:
            raise ValueError(f"unknown file filter {flag!r}")
        where.append(PAGE_FLAGS[flag])
    return (" WHERE " + " AND ".join(where)) if where else "", params


def page(case: Case, f: PageFilters, offset: int = 0, limit: int = 50) -> Page:
    """One page of `files` rows in listing order (exhibit, partition, path): the ids are found in the
    covering index `files_browse` (any depth), then only those rows are read."""
    limit = max(1, min(limit, PAGE_MAX))
    offset = max(0, offset)
    where, params = _page_where(f)
    total = case.store.query(f"SELECT COUNT(*) AS n FROM files{where}", params)[0]["n"]
    rows = case.store.query(
        f"SELECT * FROM files WHERE id IN (SELECT id FROM files{where} ORDER BY exhibit, partition, path, id "
        f"LIMIT ? OFFSET ?) ORDER BY exhibit, partition, path, id", [*params, limit, offset])
    return Page([dict(r) for r in rows], int(total), offset, limit)


def by_id(case: Case, file_id: int) -> dict[str, Any]:
    rows = case.store.query("SELECT * FROM files WHERE id = ?", (file_id,))
    if not rows:
        raise NotFound(f"no file with id {file_id} in case {case.case_id}")
    return dict(rows[0])


_FACETS: dict[tuple[str, int], dict[str, list[tuple[str, int]]]] = {}


def facets(case: Case) -> dict[str, list[tuple[str, int]]]:
    """Counts for the file filters: files by exhibit, and the YARA rules that matched (with counts).
    Kept per case while its highest file id stays the same (a parse adds or replaces rows, which
    always moves it): on a million rows they take most of a second to count."""
    top = case.store.query("SELECT MAX(id) AS m FROM files")[0]["m"] or 0
    key = (str(case.root), int(top))
    if key not in _FACETS:
        _FACETS.clear()
        _FACETS[key] = _count_facets(case)
    return _FACETS[key]


def _count_facets(case: Case) -> dict[str, list[tuple[str, int]]]:
    rules: dict[str, int] = {}
    for r in case.store.query("SELECT yara_matches, COUNT(*) AS n FROM files WHERE yara_matches IS NOT NULL "
                              "AND yara_matches NOT IN ('', '[]') GROUP BY yara_matches"):
        for name in set(rule_names(dict(r))):
            rules[name] = rules.get(name, 0) + r["n"]
    return {
        "exhibit": [(r["exhibit"], r["n"]) for r in case.store.query(
            "SELECT exhibit, COUNT(*) AS n FROM files GROUP BY exhibit ORDER BY exhibit")],
        "rule": sorted(rules.items()),
    }


def located(case: Case, limit: int = 5000) -> list[dict[str, Any]]:
    """Files with a GPS position (for the map), at most `limit`."""
    return [dict(r) for r in case.store.query(
        "SELECT id, exhibit, path, mime, sha256, gps_lat, gps_lon, mtime FROM files "
        "WHERE gps_lat IS NOT NULL AND gps_lon IS NOT NULL ORDER BY id LIMIT ?", (limit,))]
