"""Logical extractions from hostile or damaged sources: re-runs, corrupt members, non-UTF-8 names,
tar names as written, special files, and options that contradict each other."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import socket
import sqlite3
import stat
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from parse_helpers import parse_rows


def _db(case_dir: Path) -> sqlite3.Connection:
    con = sqlite3.connect(case_dir / "case.db")
    con.row_factory = sqlite3.Row
    return con


def _runs(case_dir: Path, exhibit: str) -> list[sqlite3.Row]:
    with _db(case_dir) as con:
        return con.execute("SELECT status, ended, details FROM runs WHERE exhibit = ? ORDER BY id", (exhibit,)).fetchall()


def _stored(cli: Any, case_dir: Path, source: Path, exhibit: str) -> dict[str, sqlite3.Row]:
    """Parse `source`, then its rows as stored, by path (with the columns `dalil files` leaves out)."""
    cli("parse", source, "--exhibit", exhibit, "--case", case_dir, "--no-yara")
    with _db(case_dir) as con:
        return {r["path"]: r for r in con.execute("SELECT * FROM files WHERE exhibit = ?", (exhibit,))}


def _warnings(case_dir: Path, exhibit: str) -> list[tuple[str, str]]:
    with _db(case_dir) as con:
        return [(r["location"], r["message"])
                for r in con.execute("SELECT location, message FROM warnings WHERE exhibit = ?", (exhibit,))]


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None, **kw: Any) -> Path:
    data = data or {}
    with tarfile.open(path, "w", **kw) as tf:
        for info in members:
            body = data.get(info.name)
            if body is not None:
                info.size = len(body)
            tf.addfile(info, io.BytesIO(body) if body is not None else None)
    return path


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "dump"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha")
    (root / "sub" / "b.txt").write_bytes(b"beta")
    return root


def _zip(tmp_path: Path) -> Path:
    path = tmp_path / "dump.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", "alpha" * 100)
        zf.writestr("sub/b.txt", "beta" * 100)
    return path


def _targz(tmp_path: Path) -> Path:
    path = tmp_path / "dump.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name, body in (("a.txt", b"alpha"), ("sub/b.txt", b"beta")):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tf.addfile(info, io.BytesIO(body))
    return path


# 1. re-runs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [_folder, _zip, _targz], ids=["folder", "zip", "tar"])
def test_reparse_does_not_duplicate(cli: Any, case_dir: Path, tmp_path: Path, make: Any) -> None:
    source = make(tmp_path)
    first = parse_rows(cli, case_dir, source, "EX", "--no-yara")
    second = parse_rows(cli, case_dir, source, "EX", "--no-yara")
    assert len(first) >= 2 and len(second) == len(first)
    assert sorted(r["path"] for r in second) == sorted(r["path"] for r in first)


def test_migration_removes_copies_stored_before(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A case whose files table was filled under schema v1 (copies of every logical row) keeps one
    row per entry, the newest, once opened; re-runs then replace rows."""
    rows = parse_rows(cli, case_dir, _folder(tmp_path), "EX", "--no-yara")
    with _db(case_dir) as con:  # the state a v1 case is left in after two parses
        con.execute("DROP INDEX files_key")
        con.execute("UPDATE schema_versions SET version = 1 WHERE component = 'triage.files'")
        columns = [r[1] for r in con.execute("PRAGMA table_info(files)") if r[1] != "id"]
        con.execute(f"INSERT INTO files ({', '.join(columns)}) SELECT {', '.join(columns)} FROM files")
        assert con.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 2 * len(rows)
        newest = {r[0] for r in con.execute("SELECT MAX(id) FROM files GROUP BY path")}
    cli("files", "--exhibit", "EX", "--case", case_dir)  # opening the case migrates it
    with _db(case_dir) as con:
        assert {r[0] for r in con.execute("SELECT id FROM files")} == newest
        assert con.execute("SELECT version FROM schema_versions WHERE component = 'triage.files'").fetchone()[0] == 2
    assert len(parse_rows(cli, case_dir, tmp_path / "dump", "EX", "--no-yara")) == len(rows)
