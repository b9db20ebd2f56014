"""Deleted-row recovery against the SQLite Forensic Corpus v2.0 (Nemetz, Schmitt & Freiling, CC0).

Four databases and their answer keys are copied in tests/data/sqlite_nemetz; the keys (XML) give
every deleted row with its content. The whole corpus lives in ../shared/testdata (the hostile
categories 11-19 are tested from there, skipped when it is absent).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable

import pytest

from triage.artifacts.recover import RecoveredRow, RecoveryError, recover

DATA = Path(__file__).resolve().parents[1] / "data" / "sqlite_nemetz"
NEMETZ = "phone/sqlite_deleted/nemetz"


def key_rows(xml: Path, deleted: bool = True) -> dict[str, list[dict[str, str]]]:
    """table -> rows of the answer key (deleted ones, or live ones), column -> content text."""
    out: dict[str, list[dict[str, str]]] = {}
    for el in ET.parse(xml).getroot().iter("element"):
        name = el.findtext("meta/name") or ""
        for row in el.iter("row"):
            if (row.get("deleted") == "1") == deleted:
                out.setdefault(name, []).append(
                    {c.findtext("name") or "": c.findtext("content") or "" for c in row.iter("column")})
    return out


def same(value: Any, key: str) -> bool:
    if isinstance(value, float):
        return abs(value - float(key)) <= 1e-9 * max(1.0, abs(value))
    return str(value) == key


def matches(row: RecoveredRow, key: dict[str, str]) -> bool:
    """Every recovered value equals the key's (lost values, None in a partial row, are skipped)."""
    return set(row.values) == set(key) and all(
        same(v, key[c]) for c, v in row.values.items() if v is not None or not row.partial)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def live_rows(db: Path, tmp: Path, table: str) -> set[tuple[Any, ...]]:
    copy = tmp / ("live-" + db.name)
    shutil.copyfile(db, copy)
    con = sqlite3.connect(copy)
    try:
        return set(con.execute(f'SELECT * FROM "{table}"'))
    finally:
        con.close()


def test_0c01_gives_the_seven_deleted_rows_of_the_key_and_no_live_row(tmp_path: Path) -> None:
    db = DATA / "0C-01.db"
    before = sha256(db)
    rows = recover(db)
    assert sha256(db) == before
    key = key_rows(DATA / "0C-01.xml")["users"]
    assert sorted(int(k["id"]) for k in key) == [20001, 20002, 20005, 20009, 20011, 20015, 20017]
    assert sorted(r.values["id"] for r in rows) == [20001, 20002, 20005, 20009, 20011, 20015, 20017]
    for row in rows:
        assert row.table == "users" and row.file == "main" and not row.partial
        assert row.where == "freeblock in page 2"
        assert 4096 <= row.offset < 8192    # inside page 2
        assert sum(matches(row, k) for k in key) == 1, row
    live = live_rows(db, tmp_path, "users")
    assert len(live) == 13
    assert not {tuple(r.values.values()) for r in rows} & live


def test_0c01_row_20001_is_exact() -> None:
    rows = {r.values["id"]: r for r in recover(DATA / "0C-01.db")}
    assert rows[20001].values == {"id": 20001, "second": 602075650, "third": 564125138, "fourth": 1823987023,
                                  "fifth": 73199275}
    # the freeblock header overwrote the payload size and the rowid: the rowid is lost, not guessed
    assert rows[20001].rowid is None


def test_0a02_rows_of_a_dropped_table_come_back_under_its_recovered_name() -> None:
    rows = recover(DATA / "0A-02.db")
    key = key_rows(DATA / "0A-02.xml")["users"]
    assert len(key) == 20
    assert len(rows) == 20
    assert {r.table for r in rows} == {"users"}
    assert all("table users was dropped" in r.where for r in rows)
    assert sorted(r.values["id"] for r in rows) == sorted(int(k["id"]) for k in key)
    for row in rows:
        assert not row.partial
        assert sum(matches(row, k) for k in key) == 1, row
    # cells no freeblock header overwrote keep their rowid (rows were inserted in id order)
    with_rowid = [r for r in rows if r.rowid is not None]
    assert with_rowid and all(r.rowid == r.values["id"] - 20000 for r in with_rowid)


def test_0d01_overwritten_records_survive_whole_or_partial_never_wrong() -> None:
    rows = recover(DATA / "0D-01.db")
    key = key_rows(DATA / "0D-01.xml")["users"]
    by_id = {r.values["id"]: r for r in rows}
    assert by_id[20008].values == {"id": 20008, "name": "Marc", "surname": "Wolf", "codeA": 1735115480,
                                   "codeB": 4818407860.5}
    assert not by_id[20008].partial
    # a new row was written over the end of 20004: its last value is lost, the rest is right
    anja = by_id[20004]
    assert anja.partial and anja.values["codeB"] is None
    assert anja.values["name"] == "Anja" and anja.values["surname"] == "Frank"
    assert all(any(matches(r, k) for k in key) for r in rows)
    # the three rows the new inserts overwrote completely are not invented
    assert set(by_id) == {20004, 20008}


def test_0e01_large_deleted_rows_with_their_full_text() -> None:
    rows = recover(DATA / "0E-01.db")
    key = key_rows(DATA / "0E-01.xml")["users"]
    assert all(sum(matches(r, k) for k in key) == 1 for r in rows)
    full = [r for r in rows if not r.partial]
    assert len(full) >= 4
    for r in full:
        assert len(r.values["code"]) > 1000
        assert r.rowid == r.values["id"] - 20000   # rows inserted in id order: rowid = id - 20000


def test_tables_filter_and_read_only_inputs(tmp_path: Path) -> None:
    db = DATA / "0C-01.db"
    assert recover(db, tables=["nothing"]) == []
    assert len(recover(db, tables=["users"])) == 7
    ro = tmp_path / "ro.db"
    shutil.copyfile(db, ro)
    ro.chmod(0o444)
    assert len(recover(ro)) == 7   # opened read-only: a read-only file is enough
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ro.db"]   # no -journal, -wal, -shm left


def test_not_sqlite_raises_recovery_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"PK\x03\x04" + bytes(5000))
    with pytest.raises(RecoveryError):
        recover(junk)
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(RecoveryError):
        recover(empty)


def test_truncated_and_garbage_databases_do_not_crash(tmp_path: Path) -> None:
    data = (DATA / "0C-01.db").read_bytes()
    for n, blob in enumerate([data[:100], data[:5000], data[:4096] + bytes(range(256)) * 16,
                              data[:4096] + b"\x0d" + bytes(4095), data + b"\xff" * 4096]):
        path = tmp_path / f"cut{n}.db"
        path.write_bytes(blob)
        rows = recover(path)
        assert isinstance(rows, list)
    path = tmp_path / "cut4.db"
    assert sorted(r.values["id"] for r in recover(path)) == [20001, 20002, 20005, 20009, 20011, 20015, 20017]
    bad_size = bytearray(data)
    bad_size[16:18] = b"\x00\x07"   # an impossible page size in the header: guessed from the pages
    path.write_bytes(bytes(bad_size))
    assert sorted(r.values["id"] for r in recover(path)) == [20001, 20002, 20005, 20009, 20011, 20015, 20017]


def test_garbage_wal_and_journal_change_nothing(tmp_path: Path) -> None:
    import random
    rnd = random.Random(3)
    db = tmp_path / "0C-01.db"
    shutil.copyfile(DATA / "0C-01.db", db)
    wal, journal = tmp_path / "0C-01.db-wal", tmp_path / "0C-01.db-journal"
    # a WAL header (right magic, page size 4096) followed by frames of noise; a journal of noise
    wal.write_bytes(bytes.fromhex("377f0682002de218") + (4096).to_bytes(4, "big") + bytes(20)
                    + bytes(rnd.getrandbits(8) for _ in range(3 * (24 + 4096))))
    journal.write_bytes(bytes(rnd.getrandbits(8) for _ in range(3 * 4096)))
    expected = [r.values for r in recover(db)]
    assert len(expected) == 7
    assert [r.values for r in recover(db, wal, journal)] == expected


# -- the whole corpus (../shared/testdata) ----------------------------------------------------------

RUNNER = """
import json, signal, sys, traceback
from pathlib import Path
from triage.artifacts.recover import recover, RecoveryError
class Hang(Exception):
    pass
def alarm(signum, frame):
    raise Hang()
signal.signal(signal.SIGALRM, alarm)
for path in sys.argv[1:]:
    signal.alarm(120)   # a hang guard, not a speed test
    try:
        rows = recover(Path(path))
        out = {"file": path, "rows": [{"table": r.table, "values": r.values, "partial": r.partial} for r in rows]}
    except RecoveryError as exc:
        out = {"file": path, "error": "RecoveryError: %s" % exc}
    except Hang:
        out = {"file": path, "crash": "no result after 120 s"}
    except BaseException:
        out = {"file": path, "crash": traceback.format_exc()}
    signal.alarm(0)
    print(json.dumps(out, default=repr), flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("category", ["11", "12", "13", "14", "15", "16", "17", "18", "19"])
def test_anti_forensic_categories_neither_crash_nor_hang_nor_invent_rows(
        category: str, testdata: Callable[[str], Path], tmp_path: Path) -> None:
    root = testdata(NEMETZ)
    keys = json.loads((root / "nemetz_expected.json").read_text("utf-8"))
    base = root / "sqlite_forensic_corpus_v2.0"
    names = sorted(k for k in keys if k.startswith(category + "/"))
    assert names
    files = []
    for name in names:   # copies: the test also checks the inputs are left as they were
        src = base / keys[name]["db"]
        dst = tmp_path / src.name
        shutil.copyfile(src, dst)
        files.append(dst)
    before = [sha256(f) for f in files]
    done = subprocess.run([sys.executable, "-c", RUNNER, *map(str, files)], capture_output=True, text=True,
                          timeout=120 * len(files) + 60)
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(files), done.stderr[-3000:]
    assert [sha256(f) for f in files] == before
    for name, res in zip(names, results):
        assert "crash" not in res, (name, res.get("crash"))
        key: dict[str, list[dict[str, str]]] = {}
        for el in keys[name]["elements"]:
            key.setdefault(el["name"], []).extend(el.get("deleted_rows") or [])
        for row in res.get("rows", []):
            known = {c: v for c, v in row["values"].items() if v is not None}
            assert any(all(c in k and same(v, k[c]) for c, v in known.items()) for k in key.get(row["table"], [])), \
                (name, row)
