"""Rows deleted from iOS databases come back through the same conversion as live rows, flagged
`recovered` with where they were found. Needs the SQLite recovery module (triage.artifacts.recover),
which lands separately: until then ctx.file.recovered gives nothing and this test is skipped."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from ios_fixtures import LID, callhistory_db, sms_db, whatsapp_db

pytest.importorskip("triage.artifacts.recover", reason="the SQLite recovery module has not landed on this branch")


def _jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _delete(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA secure_delete = OFF")  # as the phone's SQLite leaves deleted cells
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_deleted_rows_recovered(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    _delete(sms_db(ext), "DELETE FROM message WHERE ROWID = 3")
    _delete(callhistory_db(ext), "DELETE FROM ZCALLRECORD WHERE Z_PK = 2")
    _delete(whatsapp_db(ext), "DELETE FROM ZWAMESSAGE WHERE Z_PK = 1")
    cli("parse", ext, "--exhibit", "DEL", "--case", case_dir, "--no-yara")
    messages = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--recovered"))
    by_app = {m["app"]: m for m in messages}
    assert by_app["imessage"]["text"] == "OK, tomorrow" and by_app["imessage"]["sender"] == "smuggler.x@icloud.com"
    assert by_app["whatsapp"]["text"] == "الانطلاق الليلة" and by_app["whatsapp"]["sender"] == f"lid:{LID}"
    calls = _jsonl(cli("calls", "--case", case_dir, "--format", "jsonl", "--recovered"))
    assert [(c["number"], c["direction"], c["name"]) for c in calls] == [("+33612345678", "missed", "Passeur")]
    for record in messages + calls:
        assert record["recovered"] is True and record["source"]["where"]
    live = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))
    assert sum(not m["recovered"] for m in live) == 6  # 3 sms.db + 3 WhatsApp rows left alive
