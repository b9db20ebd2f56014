"""The index itself: look-alike images grouped whatever the order exhibits come in, groups that merge
and split as exhibits are indexed again, figures kept up to date, a failing index never failing a parse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from triage.core.case import Case
from triage.links import index, query

P1, P2, P3 = "0000000000000000", "00000000000003ff", "00000000000fffff"  # P2 is 10 bits from P1 and from P3


def _image(ph: str, ref: str) -> tuple[str, str, str, str, str | None, str | None, str | None, str | None]:
    return ("image", "phash:" + ph, "file", ref, "2026-01-01T00:00:00Z", "image", None,
            json.dumps({"sha256": ph * 4, "phash": ph}))


def _state(case: Case) -> list[tuple[Any, ...]]:
    return [(r["kind"], r["value"], tuple(r["exhibits"]), r["count"])
            for r in query.links(case, query.LinkFilter(min_exhibits=1))]


def _write(case: Case, exhibit: str, found: list[Any]) -> None:
    with case.store.transaction() as conn:
        index.write_exhibit(conn, exhibit, found)


def test_groups_do_not_depend_on_order_and_split_again(case_dir: Path, tmp_path: Path, cli: Any) -> None:
    other = tmp_path / "other"
    cli("case", "init", other, "--case-id", "TEST-002", "--title", "t", "--examiner", "Test Examiner")
    first, second = Case.open(case_dir), Case.open(other)
    data = {"A": [_image(P1, "/a.jpg")], "B": [_image(P3, "/b.jpg")], "C": [_image(P2, "/c.jpg")]}
    for exhibit in ("A", "B", "C"):
        _write(first, exhibit, data[exhibit])
    for exhibit in ("C", "B", "A"):
        _write(second, exhibit, data[exhibit])
    assert _state(first) == _state(second) == [("image", "phash:" + P1, ("A", "B", "C"), 3)]  # P2 joins P1 and P3

    _write(first, "C", [])  # C re-indexed without its image: the bridge is gone, the group splits
    assert _state(first) == [("image", "phash:" + P1, ("A",), 1), ("image", "phash:" + P3, ("B",), 1)]
    _write(first, "C", data["C"])
    assert _state(first) == _state(second)
    for case in (first, second):
        case.close()


def test_figures_follow_reindexing(case_dir: Path) -> None:
    case = Case.open(case_dir)

    def phone(ref: str, source: str = "file") -> tuple[Any, ...]:
        return ("phone", "+218912345678", source, ref, None, "text", None, None)

    _write(case, "A", [phone("/x"), phone("/y")])
    _write(case, "B", [phone("sms:1", "message")])
    row = query.links(case, query.LinkFilter())[0]
    assert (row["exhibits"], row["count"], row["sources"]) == (["A", "B"], 3, ["file", "message"])
    _write(case, "B", [])
    assert query.links(case, query.LinkFilter()) == []
    assert [r["exhibits"] for r in query.links(case, query.LinkFilter(min_exhibits=1))] == [["A"]]
    _write(case, "A", [])
    assert case.store.query("SELECT COUNT(*) AS n FROM entities")[0]["n"] == 0  # nothing left behind
    case.close()


def test_strongest_first(case_dir: Path) -> None:
    case = Case.open(case_dir)

    def occ(kind: str, value: str, source: str, ref: str) -> tuple[Any, ...]:
        return (kind, value, source, ref, None, "text", None, None)

    _write(case, "A", [occ("domain", "boats.ly", "file", "/1"), occ("phone", "+218911111111", "file", "/1"),
                       occ("email", "a@b.ly", "file", "/1"), occ("wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "file", "/1"),
                       occ("phone", "+218922222222", "file", "/1")])
    _write(case, "B", [occ("domain", "boats.ly", "capture", "u"), occ("phone", "+218911111111", "file", "/2"),
                       occ("email", "a@b.ly", "message", "m"), occ("wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "file", "/2"),
                       occ("phone", "+218922222222", "file", "/3"), occ("phone", "+218922222222", "file", "/4")])
    _write(case, "C", [occ("phone", "+218922222222", "call", "c")])
    order = [(r["kind"], r["value"]) for r in query.links(case, query.LinkFilter())]
    assert order == [("phone", "+218922222222"),                   # three exhibits
                     ("email", "a@b.ly"), ("domain", "boats.ly"),  # two exhibits, two kinds of source
                     ("wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), ("phone", "+218911111111")]  # by kind
    case.close()


def test_a_failing_index_does_not_fail_the_parse(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    import sqlite3

    def db_rows(case: Path, sql: str) -> list[Any]:
        conn = sqlite3.connect(case / "case.db")
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    db = sqlite3.connect(case_dir / "case.db")
    db.execute("DROP TABLE entity_places")  # the index cannot be written
    db.commit()
    db.close()
    (tmp_path / "ext").mkdir()
    (tmp_path / "ext" / "n.txt").write_text("call +218 91 234 5678")
    cli("parse", tmp_path / "ext", "--exhibit", "PH-X", "--case", case_dir, "--no-yara")
    warnings = db_rows(case_dir, "SELECT location, message, run_id FROM warnings")
    assert [(w[0], w[2] is not None) for w in warnings] == [("PH-X:links", True)]
    assert "entity index not updated" in warnings[0][1] and "dalil links --rebuild" in warnings[0][1]
    entries = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    assert "error" in entries[-1]["details"]["links"] and entries[-1]["action"] == "parsed"
    assert cli("files", "--exhibit", "PH-X", "--format", "jsonl", "--case", case_dir).stdout.count("n.txt") == 1


def test_camera_serial_links_photos(cli: Any, case_dir: Path, tmp_path: Path, testdata: Any) -> None:
    photo = testdata("exif/jpg/tests/87_OSError.jpg").read_bytes()  # EXIF BodySerialNumber -1000f46
    for exhibit in ("SD-1", "PH-2"):
        (tmp_path / exhibit / "DCIM").mkdir(parents=True)
        (tmp_path / exhibit / "DCIM" / f"{exhibit}.jpg").write_bytes(photo)
        cli("parse", tmp_path / exhibit, "--exhibit", exhibit, "--case", case_dir, "--no-yara")
    out = cli("links", "--kind", "device", "--format", "jsonl", "--case", case_dir).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 1 and rows[0]["value"].startswith("camera:") and rows[0]["value"].endswith(":-1000f46")
    assert rows[0]["exhibits"] == ["PH-2", "SD-1"] and {o["role"] for o in rows[0]["occurrences"]} == {"exif"}
