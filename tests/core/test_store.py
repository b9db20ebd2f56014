"""The case database: WAL, per-component migrations, transactions, refusal of newer schemas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from triage.core import store as store_mod
from triage.core.errors import Corrupted
from triage.core.store import Store, check_sqlite_header, interrupts_held, register_schema


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A copy of the component registry, so test components never reach other tests' cases."""
    registry = dict(store_mod._SCHEMAS)
    monkeypatch.setattr(store_mod, "_SCHEMAS", registry)
    return registry


def test_new_store_is_wal_and_migrated(tmp_path: Path) -> None:
    s = Store(tmp_path / "case.db", create=True)
    applied = s.migrate()
    assert "core v1" in applied and applied[0] == "core v1"  # core first: others may refer to it
    assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.versions()["core"] == len(store_mod.CORE_SCHEMA)
    assert s.migrate() == []  # idempotent
    s.close()


def test_component_migrations_apply_in_order_and_only_once(tmp_path: Path, isolated_registry: dict) -> None:
    register_schema("t.widgets", ["CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT)"])
    s = Store(tmp_path / "case.db", create=True)
    assert "t.widgets v1" in s.migrate()
    s.conn.execute("INSERT INTO widgets (name) VALUES ('kept')")
    s.close()
    # a later release appends a migration; the data written under v1 survives it
    isolated_registry["t.widgets"] = isolated_registry["t.widgets"] + ["ALTER TABLE widgets ADD COLUMN colour TEXT"]
    s = Store(tmp_path / "case.db")
    assert s.migrate() == ["t.widgets v2"]
    assert [tuple(r) for r in s.query("SELECT name, colour FROM widgets")] == [("kept", None)]
    assert s.versions()["t.widgets"] == 2
    s.close()


def test_registering_a_component_twice_differently_fails(isolated_registry: dict) -> None:
    register_schema("t.twice", ["CREATE TABLE a (x)"])
    register_schema("t.twice", ["CREATE TABLE a (x)"])  # the same scripts again (a re-import) is fine
    with pytest.raises(RuntimeError, match="registered twice"):
        register_schema("t.twice", ["CREATE TABLE b (y)"])


def test_failed_migration_leaves_the_version_unchanged(tmp_path: Path, isolated_registry: dict) -> None:
    register_schema("t.broken", ["CREATE TABLE ok (x); CREATE TABLE ok (x)"])  # the second statement fails
    s = Store(tmp_path / "case.db", create=True)
    with pytest.raises(Corrupted):
        s.migrate()
    assert "t.broken" not in s.versions()
    assert s.query("SELECT name FROM sqlite_master WHERE name = 'ok'") == []  # rolled back whole
    s.close()


def test_newer_schema_than_this_dalil_is_refused(tmp_path: Path) -> None:
    s = Store(tmp_path / "case.db", create=True)
    s.migrate()
    s.conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'core'")
    with pytest.raises(Corrupted, match="newer than this Dalil knows"):
        s.migrate()
    s.close()


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    s = Store(tmp_path / "case.db", create=True)
    s.migrate()
    with pytest.raises(ValueError):
        with s.transaction() as conn:
            s.set_meta("k", "v", conn=conn)
            s.add_warning("/x", "w", exhibit="E")
            raise ValueError("boom")
    assert s.get_meta("k") is None and s.query("SELECT * FROM warnings") == []
    with s.transaction() as conn:
        s.set_meta("k", "v", conn=conn)
    assert s.get_meta("k") == "v"
    s.close()


def test_not_sqlite_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "case.db"
    bad.write_bytes(b"this is not a database at all")
    with pytest.raises(Corrupted, match="not SQLite"):
        check_sqlite_header(bad)
    with pytest.raises(Corrupted, match="missing"):
        Store(tmp_path / "absent.db")
    good = tmp_path / "good.db"
    sqlite3.connect(good).execute("CREATE TABLE t (x)").connection.close()
    check_sqlite_header(good)


def test_ctrl_c_inside_a_transaction_takes_effect_after_the_commit(tmp_path: Path) -> None:
    """A real SIGINT in the middle of a transaction (where a ledger entry and the change it records
    are written together) waits for COMMIT, then interrupts as usual."""
    import signal

    s = Store(tmp_path / "case.db", create=True)
    s.migrate()
    after_signal = []
    with pytest.raises(KeyboardInterrupt):
        with s.transaction() as conn:
            conn.execute("INSERT INTO meta VALUES ('a', '1')")
            signal.raise_signal(signal.SIGINT)
            after_signal.append(True)
            conn.execute("INSERT INTO meta VALUES ('b', '2')")
    assert after_signal and {r["key"] for r in s.query("SELECT key FROM meta")} >= {"a", "b"}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    s.close()


def test_ctrl_c_while_workers_are_forked_takes_effect_after(tmp_path: Path) -> None:
    """`interrupts_held((SIGINT,))`, what worker processes are forked in: a SIGINT (from any thread's
    delivery) waits for the block's end, where a fork hook cannot drop it; SIGTERM is left as it was."""
    import multiprocessing
    import os
    import signal

    term = signal.getsignal(signal.SIGTERM)
    context = multiprocessing.get_context("fork")
    went_on = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held((signal.SIGINT,)):
            assert signal.getsignal(signal.SIGTERM) is term
            os.kill(os.getpid(), signal.SIGINT)
            worker = context.Process(target=int)
            worker.start()
            went_on.append(True)
    worker.join(30)
    assert went_on and worker.exitcode == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
