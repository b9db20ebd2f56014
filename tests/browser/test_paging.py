"""Pages of `files` for the browser: order, filters and offsets agree with the rows selected in
Python, and the filters that pick few rows are answered from their partial indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from triage.core.case import Case
from triage.image.query import PageFilters, facets, page


@pytest.fixture
def many(case_dir: Path, cli: Any) -> Case:
    cli("files", "--case", case_dir, "--format", "jsonl")          # the files tables and their indexes
    conn = sqlite3.connect(case_dir / "case.db")
    rows = []
    for i in range(3000):
        exhibit = "A" if i % 3 else "B"
        yara = '[{"rule": "Smuggling_Ad"}]' if i % 250 == 0 else ("[]" if i % 2 else None)
        rows.append((exhibit, 0, f"/d{i % 17}/f{i:05d}.{'jpg' if i % 5 == 0 else 'txt'}", f"f{i:05d}", i,
                     int(i % 7 == 0), "image/jpeg" if i % 5 == 0 else "text/plain", yara,
                     1.0 if i % 100 == 0 else None, 2.0 if i % 100 == 0 else None))
    conn.executemany("INSERT INTO files (exhibit, partition, path, name, inode, deleted, mime, yara_matches, "
                     "gps_lat, gps_lon) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    conn.commit()
    conn.close()
    return Case.open(case_dir)


def _expected(case: Case, keep: Any) -> list[int]:
    rows = [dict(r) for r in case.store.query("SELECT * FROM files")]
    rows.sort(key=lambda r: (r["exhibit"], r["partition"], r["path"], r["id"]))
    return [r["id"] for r in rows if keep(r)]


@pytest.mark.parametrize("filters, keep", [
    (PageFilters(), lambda r: True),
    (PageFilters(flags=["deleted"]), lambda r: r["deleted"] == 1),
    (PageFilters(flags=["image", "gps"]), lambda r: r["mime"] == "image/jpeg" and r["gps_lat"] is not None),
    (PageFilters(flags=["yara"]), lambda r: r["yara_matches"] not in (None, "", "[]")),
    (PageFilters(rule="Smuggling_Ad", exhibit="B"), lambda r: "Smuggling_Ad" in (r["yara_matches"] or "") and r["exhibit"] == "B"),
    (PageFilters(name="f0012", mime="text/"), lambda r: "f0012" in r["path"] and r["mime"] == "text/plain"),
    (PageFilters(name="%"), lambda r: False),                       # LIKE wildcards are literal
])
def test_pages_match_python(many: Case, filters: PageFilters, keep: Any) -> None:
    want = _expected(many, keep)
    got: list[int] = []
    offset = 0
    while True:
        p = page(many, filters, offset, 97)
        assert p.total == len(want)
        got += [r["id"] for r in p.rows]
        if not p.has_next:
            break
        offset += 97
    assert got == want


def test_selective_filters_use_their_partial_indexes(many: Case) -> None:
    for flag, index in (("deleted", "files_browse_deleted"), ("image", "files_browse_pictures"),
                        ("yara", "files_browse_yara"), ("gps", "files_browse_gps")):
        from triage.image.query import PAGE_FLAGS

        plan = " ".join(r["detail"] for r in many.store.query(
            f"EXPLAIN QUERY PLAN SELECT id FROM files WHERE {PAGE_FLAGS[flag]} ORDER BY exhibit, partition, path, id"))
        assert index in plan, (flag, plan)


def test_facets(many: Case) -> None:
    got = facets(many)
    assert got["exhibit"] == [("A", 2000), ("B", 1000)]
    assert got["rule"] == [("Smuggling_Ad", 12)]
