"""`dalil volumes`: one row per volume or layer seen by `dalil parse`, with the contract's fields."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from build_images import fat_image, gpt_two_partitions

from triage.core import store

CONTRACT = ["exhibit", "partition", "offset", "length", "scheme", "fs_type", "encrypted", "status", "message"]


def _volumes(cli: Any, case_dir: Path, *extra: str) -> list[dict[str, Any]]:
    out = cli("volumes", "--case", case_dir, "--format", "jsonl", *extra).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_gpt_partitions_are_listed_with_scheme_and_file_system(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image, p1, p2 = gpt_two_partitions(tmp_path, {"ONE.TXT": b"first\n"}, {"two.txt": b"second\n"})
    cli("parse", image, "--exhibit", "EXH-1", "--case", case_dir)
    rows = _volumes(cli, case_dir, "--exhibit", "EXH-1")
    assert [r["partition"] for r in rows] == [p1, p2]
    for row in rows:
        assert list(row)[:len(CONTRACT)] == CONTRACT
        assert row["offset"] == row["partition"] and row["scheme"] == "gpt"
        assert row["encrypted"] is None and row["status"] == "parsed" and row["message"] is None
        assert row["files"] > 0 and row["snapshot"] is None
    assert rows[0]["fs_type"].startswith("FAT") and rows[1]["fs_type"] == "ext4"
    csv_out = cli("volumes", "--case", case_dir, "--format", "csv").stdout.splitlines()
    assert csv_out[0].split(",")[:len(CONTRACT)] == CONTRACT and len(csv_out) == 3
    assert "gpt" in cli("volumes", "--case", case_dir).stdout


def test_bare_file_system_and_logical_folder(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = fat_image(tmp_path, {"A.TXT": b"a\n"}, [])
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "b.txt").write_text("b\n")
    cli("parse", image, "--exhibit", "EXH-1", "--case", case_dir)
    cli("parse", folder, "--exhibit", "EXH-2", "--case", case_dir)
    rows = {r["exhibit"]: r for r in _volumes(cli, case_dir)}
    assert rows["EXH-1"]["scheme"] == "none" and rows["EXH-1"]["offset"] == 0
    assert rows["EXH-1"]["length"] == image.stat().st_size and rows["EXH-1"]["fs_type"].startswith("FAT")
    assert rows["EXH-2"]["scheme"] == "logical" and rows["EXH-2"]["offset"] is None
    assert rows["EXH-2"]["fs_type"] == "directory" and rows["EXH-2"]["files"] == 1


def test_unknown_exhibit_is_one_clear_error(cli: Any, case_dir: Path) -> None:
    result = cli("volumes", "--case", case_dir, "--exhibit", "NOPE", code=None)
    assert result.exit_code != 0 and "NOPE" in result.output


def test_v5_partitions_rows_are_migrated(tmp_path: Path, cli: Any, case_dir: Path) -> None:
    """A case parsed before v6 keeps its rows: offset = partition, scheme unknown (NULL), logical roots named."""
    image = fat_image(tmp_path, {"A.TXT": b"a\n"}, [])
    cli("parse", image, "--exhibit", "EXH-1", "--case", case_dir)
    before = _volumes(cli, case_dir)
    db = case_dir / "case.db"
    conn = sqlite3.connect(db)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(partitions)")]
    assert {"offset", "scheme", "encrypted", "snapshot", "parent"} <= set(cols)
    # turn the table back into its v5 shape and version: opening the case migrates it again
    conn.executescript("""
        DROP INDEX partitions_key;
        CREATE TABLE p5 AS SELECT id, exhibit, partition, length, slot, description, fs_type, status, message,
                                  files, run_id FROM partitions;
        DROP TABLE partitions; ALTER TABLE p5 RENAME TO partitions;
        UPDATE schema_versions SET version = 5 WHERE component = 'triage.files';""")
    conn.commit()
    conn.close()
    rows = _volumes(cli, case_dir)
    assert len(rows) == 1 and rows[0]["offset"] == rows[0]["partition"] == 0
    assert rows[0]["scheme"] is None and rows[0]["fs_type"].startswith("FAT") and rows[0]["files"] == before[0]["files"] > 0
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version FROM schema_versions WHERE component = 'triage.files'").fetchone()[0] \
        == len(store._SCHEMAS["triage.files"])
    conn.close()
