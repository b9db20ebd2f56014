"""The phone stage gives the same records and entity index whether its parsers run in this
process (`--jobs 1`) or in forked workers that hand back rows (`--jobs 2`), deleted rows included."""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from android_fixtures import jsonl

GEN = Path(__file__).resolve().parents[2] / "benchmarks" / "phone_gen.py"
MSGSTORE = "data/data/com.whatsapp/databases/msgstore.db"
MMSSMS = "data/data/com.android.providers.telephony/databases/mmssms.db"


def _extraction(root: Path) -> None:
    spec = importlib.util.spec_from_file_location("phone_gen", GEN)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.generate(root, sms=300, whatsapp=400, calls=120, seed=11)
    # deleted rows in both tables of WhatsApp's database and in the SMS one: left in free space
    for rel, statements in ((MSGSTORE, ("DELETE FROM message WHERE _id % 37 = 5", "DELETE FROM call_log WHERE _id % 2 = 0")),
                            (MMSSMS, ("DELETE FROM sms WHERE _id % 41 = 3",))):
        db = sqlite3.connect(root / rel)
        db.execute("PRAGMA secure_delete = OFF")
        for sql in statements:
            db.execute(sql)
        db.commit()
        db.close()


def _index(case: Path) -> list[tuple[Any, ...]]:
    """The exhibit's occurrences by entity value (entity ids follow set order: not compared)."""
    db = sqlite3.connect(f"{(case / 'case.db').resolve().as_uri()}?mode=ro", uri=True)
    try:
        return sorted(db.execute("SELECT e.kind, e.value, o.source, o.ref, o.time, o.role, o.label, o.detail "
                                 "FROM occurrences o JOIN entities e ON e.id = o.entity"))
    finally:
        db.close()


def test_workers_give_the_records_of_one_process(cli: Any, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    _extraction(ext)
    seen = []
    for jobs in ("1", "2"):
        case = tmp_path / f"case{jobs}"
        cli("case", "init", case, "--case-id", f"W-{jobs}", "--title", "workers",
            "--examiner", os.environ["DALIL_EXAMINER"])  # the examiner the tests' conftest sets
        cli("parse", ext, "--exhibit", "GEN", "--case", case, "--no-yara", "--jobs", jobs)
        listings = {what: cli(what, "--case", case, "--format", "jsonl").stdout
                    for what in ("messages", "calls", "contacts")}
        runs = [{k: r[k] for k in ("parser", "path", "counts", "status", "warnings")}
                for r in jsonl(cli("artifacts", "--case", case, "--format", "jsonl"))]
        seen.append((listings, runs, _index(case)))
    (listings, runs, index), again = seen
    assert (listings, runs, index) == again
    messages = [json.loads(line) for line in listings["messages"].splitlines() if line.strip()]
    calls = [json.loads(line) for line in listings["calls"].splitlines() if line.strip()]
    recovered = {(m["app"], bool(m["recovered"])) for m in messages} | {(c["app"], bool(c["recovered"])) for c in calls}
    assert {("sms", True), ("whatsapp", True)} <= recovered  # deleted rows went through both paths
    assert any(c["app"] == "whatsapp" and c["recovered"] for c in calls)  # the second table of msgstore.db
    assert any(a["sha256"] for m in messages for a in m["attachments"])  # attachments resolved by the workers
    assert len(index) > 100


def test_workers_leave_messages_to_the_index_when_sqlite_would_change_a_value() -> None:
    """A worker derives a message's entities only from values SQLite stores and gives back as they
    are; a number in a TEXT column (stored as text) makes the index read the messages back."""
    from triage.artifacts import runner
    from triage.artifacts.rows import COLUMNS

    values: dict[str, Any] = dict.fromkeys(COLUMNS["messages"])
    values.update(exhibit="E", parser="android.sms", app="sms", time="2024-01-01T00:00:00Z", recovered=0,
                  source_path="/data/mmssms.db", source_partition=0, source_table="sms", source_row=7,
                  sender="+218911234567", recipients='["+218921234567"]', text="call me")
    seen = runner._derive_messages([tuple(values[c] for c in COLUMNS["messages"])], "LY",
                                   lambda m, region: [(m["sender"], m["recipients"], m["source"], m["text"])])
    assert seen == [[("+218911234567", ["+218921234567"], {"path": "/data/mmssms.db", "table": "sms", "row": 7},
                      "call me")]]
    values["source_row"] = "7"  # SQLite would give 7 back
    assert runner._derive_messages([tuple(values[c] for c in COLUMNS["messages"])], "LY", lambda m, r: [m]) is None
