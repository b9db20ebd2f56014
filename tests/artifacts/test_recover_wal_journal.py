"""Older row versions in a WAL and in a rollback journal.

plaso's wal_database.db + -wal (Apache-2.0, ../shared/testdata) has rows deleted and updated in its
WAL; the other databases here are built with Python's sqlite3: secure_delete=ON, so the old
versions live only in the -wal or the -journal (never in a freeblock of the main file).
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Callable

from triage.artifacts.recover import recover


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_plaso_wal_deleted_rows_and_the_old_version_of_an_updated_row(
        testdata: Callable[[str], Path], tmp_path: Path) -> None:
    src = testdata("phone/sqlite_deleted/plaso")
    db, wal = tmp_path / "wal_database.db", tmp_path / "wal_database.db-wal"
    shutil.copyfile(src / "wal_database.db", db)
    shutil.copyfile(src / "wal_database.db-wal", wal)
    before = (sha256(db), sha256(wal))
    rows = recover(db, wal)
    assert (sha256(db), sha256(wal)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wal_database.db", "wal_database.db-wal"]
    by_text = {r.values["Field1"]: r for r in rows}
    assert by_text["Deleted Text 1"].rowid == 3 and by_text["Deleted Text 1"].values["Field2"] == 3
    assert by_text["Deleted Text 2"].rowid == 6 and by_text["Deleted Text 2"].values["Field2"] == 6
    old = by_text["Committed Text 3"]
    assert old.rowid == 4 and "older version of a live row" in old.where
    assert old.file == "main" and "superseded by WAL frame" in old.where
    # NewField came with ALTER TABLE ADD COLUMN: older records read it as NULL, as SQLite does
    assert old.values == {"Field1": "Committed Text 3", "Field2": 4, "Field3": None, "NewField": None}
    # nothing that is live in the WAL view comes back
    shutil.copyfile(db, tmp_path / "view.db")
    shutil.copyfile(wal, tmp_path / "view.db-wal")
    con = sqlite3.connect(tmp_path / "view.db")
    live = set(con.execute("SELECT rowid, * FROM MyTable"))
    con.close()
    assert len(live) == 11
    assert not {(r.rowid, *r.values.values()) for r in rows} & live
    assert {"Deleted Text 1", "Deleted Text 2", "Committed Text 3"} <= set(by_text)


def test_plaso_main_file_alone_is_its_own_live_view(testdata: Callable[[str], Path], tmp_path: Path) -> None:
    src = testdata("phone/sqlite_deleted/plaso")
    db = tmp_path / "wal_database.db"
    shutil.copyfile(src / "wal_database.db", db)
    texts = {r.values.get("Field1") for r in recover(db)}
    assert "Deleted Text 1" not in texts and "Deleted Text 2" not in texts   # live without the WAL


def _people(con: sqlite3.Connection, n: int) -> None:
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, phone TEXT, n INT)")
    con.executemany("INSERT INTO people (name, phone, n) VALUES (?, ?, ?)",
                    [(f"person {i:03d}", f"+4930{i:07d}", i * 7) for i in range(n)])


def test_wal_update_old_version_only_in_uncheckpointed_wal(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    con = sqlite3.connect(work / "chat.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA secure_delete=ON")
    _people(con, 40)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")   # rows now in the main file, WAL empty
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("UPDATE people SET phone = '+49301111111' WHERE id = 5")
    con.execute("DELETE FROM people WHERE id = 9")
    con.execute("UPDATE people SET name = 'renamed' WHERE id = 12")
    con.execute("UPDATE people SET name = 'renamed again' WHERE id = 12")
    # copy while the connection is open: closing would checkpoint and delete the -wal
    db, wal = tmp_path / "chat.db", tmp_path / "chat.db-wal"
    shutil.copyfile(work / "chat.db", db)
    shutil.copyfile(work / "chat.db-wal", wal)
    con.close()
    rows = recover(db, wal)
    found = {(r.rowid, r.values["name"], r.values["phone"]) for r in rows}
    assert (5, "person 004", "+49300000004") in found     # before the update
    assert (9, "person 008", "+49300000008") in found     # deleted
    assert (12, "person 011", "+49300000011") in found    # the original
    assert (12, "renamed", "+49300000011") in found       # the intermediate version, WAL only
    for r in rows:
        if r.rowid in (5, 12):
            assert "older version of a live row" in r.where
        assert r.values["id"] == r.rowid                  # INTEGER PRIMARY KEY gets the rowid
    assert ("+49301111111" not in {r.values["phone"] for r in rows})   # the live value is not a deleted one
    assert ("renamed again" not in {r.values["name"] for r in rows})
    assert {r.file for r in rows} <= {"main", "wal"}
    # without the WAL the main file is the live view: nothing was deleted there
    assert recover(db) == []


def test_wal_transaction_sqlite_does_not_read_is_recovered(tmp_path: Path) -> None:
    """A torn last transaction (its commit frame's checksum is wrong, as after a crash during the
    write): SQLite stops before it, so its rows are not live; recover returns them."""
    work = tmp_path / "work"
    work.mkdir()
    con = sqlite3.connect(work / "w.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA secure_delete=ON")
    _people(con, 10)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("INSERT INTO people (name, phone, n) VALUES ('committed', '+1', 1)")
    con.execute("INSERT INTO people (name, phone, n) VALUES ('torn away', '+2', 2)")
    db, wal = tmp_path / "w.db", tmp_path / "w.db-wal"
    shutil.copyfile(work / "w.db", db)
    shutil.copyfile(work / "w.db-wal", wal)
    con.close()
    data = bytearray(wal.read_bytes())
    page_size = int.from_bytes(data[8:12], "big")
    frames = (len(data) - 32) // (24 + page_size)
    last = 32 + (frames - 1) * (24 + page_size)
    assert int.from_bytes(data[last + 4:last + 8], "big")   # the last frame commits 'torn away'
    data[last + 16] ^= 0xFF                                   # break its checksum
    wal.write_bytes(bytes(data))
    shutil.copyfile(db, tmp_path / "view.db")
    shutil.copyfile(wal, tmp_path / "view.db-wal")
    view = sqlite3.connect(tmp_path / "view.db")
    assert [r[0] for r in view.execute("SELECT name FROM people WHERE id > 10")] == ["committed"]
    view.close()
    rows = recover(db, wal)
    assert [(r.rowid, r.values["name"], r.file) for r in rows] == [(12, "torn away", "wal")]
    assert rows[0].where == f"WAL frame {frames} (not read by SQLite: salt or checksum breaks the chain, page 2)"


def test_rollback_journal_persist_keeps_original_pages(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    con = sqlite3.connect(work / "sms.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=PERSIST")
    con.execute("PRAGMA secure_delete=ON")
    _people(con, 30)
    con.execute("BEGIN")
    con.execute("DELETE FROM people WHERE id IN (3, 4)")
    con.execute("UPDATE people SET phone = NULL WHERE id = 20")
    con.execute("COMMIT")
    con.close()
    db, journal = tmp_path / "sms.db", tmp_path / "sms.db-journal"
    shutil.copyfile(work / "sms.db", db)
    shutil.copyfile(work / "sms.db-journal", journal)
    assert journal.read_bytes()[:8] == bytes(8)   # PERSIST zeroed the header after the commit
    before = (sha256(db), sha256(journal))
    assert recover(db) == []                       # secure_delete: the main file keeps nothing
    rows = recover(db, journal=journal)
    assert (sha256(db), sha256(journal)) == before
    found = {(r.rowid, r.values["name"], r.values["phone"], r.values["n"]) for r in rows}
    assert found == {(3, "person 002", "+49300000002", 14), (4, "person 003", "+49300000003", 21),
                     (20, "person 019", "+49300000019", 133)}
    assert all(r.file == "journal" and r.where.startswith("journal record ") for r in rows)
    assert [r for r in rows if r.rowid == 20][0].where.endswith("(older version of a live row)")
