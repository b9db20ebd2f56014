"""The report's communications section: chats as chats (Arabic right to left), calls, contacts,
the parsers and the files they read; CSV files of every record; CASE/UCO Message objects."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

SMS_DIR = "data/data/com.android.providers.telephony/databases"


def _extraction(root: Path) -> Path:
    work = Path(tempfile.mkdtemp())
    db = sqlite3.connect(work / "mmssms.db")
    db.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, "
               "type INTEGER, body TEXT, read INTEGER)")
    rows = [(1, 7, "0912345678", 1700000000000, 1, "السلام عليكم، متى يغادر القارب؟", 1),
            (2, 7, "0912345678", 1700000300000, 2, "<img src=x onerror=alert(1)> tonight 23:00", 1),
            (3, 8, "+21698765432", 1700000600000, 1, "price 2500 EUR \u202egnp.exe", 0)]
    db.executemany("INSERT INTO sms VALUES (?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    target = root / SMS_DIR
    target.mkdir(parents=True)
    shutil.copyfile(work / "mmssms.db", target / "mmssms.db")
    return root


@pytest.fixture
def phone_report(case_dir: Path, cli: Any, tmp_path: Path) -> Path:
    ext = _extraction(tmp_path / "ext")
    cli("parse", ext, "--exhibit", "PH-1", "--case", case_dir, "--no-yara")
    out = tmp_path / "report"
    cli("report", "--case", case_dir, "--out", out, "--format", "html,csv,case")
    return out


def test_chats_shown_as_conversations(phone_report: Path) -> None:
    html = (phone_report / "report.html").read_text(encoding="utf-8")
    assert 'id="communications"' in html
    assert html.count('class="thread"') == 2
    assert '<div class="body" dir="rtl">السلام عليكم، متى يغادر القارب؟</div>' in html
    assert 'class="msg out' in html and 'class="msg in' in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html  # suspect text escaped
    assert "\u202e" not in html and "[U+202E]" in html                                # bidi override shown
    assert "+218912345678" in html and "android.sms" in html


def test_every_record_in_csv(phone_report: Path) -> None:
    with open(phone_report / "messages.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    assert json.loads(rows[0]["source"]) == {"path": "/" + SMS_DIR + "/mmssms.db", "table": "sms", "row": 1}
    assert rows[0]["sender"] == "+218912345678" and rows[2]["sender"] == "+21698765432"


def test_case_uco_has_messages(phone_report: Path) -> None:
    graph = json.loads((phone_report / "case.jsonld").read_text(encoding="utf-8"))["@graph"]
    messages = [n for n in graph if n["@type"] == "uco-observable:Message"]
    assert len(messages) == 3
    texts = {f.get("uco-observable:messageText") for n in messages for f in n["uco-core:hasFacet"]}
    assert "السلام عليكم، متى يغادر القارب؟" in texts
    exe = shutil.which("case_validate") or str(Path(sys.executable).parent / "case_validate")
    if not Path(exe).exists():
        pytest.skip("needs case-utils (case_validate)")
    proc = subprocess.run([exe, "--built-version", "case-1.5.0", str(phone_report / "case.jsonld")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "Conforms: True" in proc.stdout, proc.stdout[-3000:]
