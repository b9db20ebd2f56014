"""The phone-artifact stage of `dalil parse`: files collected during the walk, parsed on private
copies with their WAL, records stored with their exact source, failures disclosed, evidence untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

from triage.artifacts import load
from triage.artifacts.collect import Collector

SMS_DIR = "data/data/com.android.providers.telephony/databases"
SMS_SCHEMA = ("CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,"
              "date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,"
              "type INTEGER,reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,"
              "locked INTEGER DEFAULT 0,error_code INTEGER DEFAULT 0,seen INTEGER DEFAULT 0)")


def _jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _wal_only_db(folder: Path) -> None:
    """mmssms.db whose second message exists only in the uncheckpointed -wal (copied while open)."""
    work = Path(tempfile.mkdtemp())  # built outside the extraction: the build's -shm must not be in it
    db = sqlite3.connect(work / "mmssms.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute(SMS_SCHEMA)
    db.execute("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES "
               "(1, 1, '091 234 5678', 1700000000000, 1, 'first, in the main file')")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES "
               "(2, 1, '٠٩١٢٣٤٥٦٧٨', 1700000060000, 2, 'القارب يغادر الليلة')")
    db.commit()
    folder.mkdir(parents=True)
    shutil.copyfile(work / "mmssms.db", folder / "mmssms.db")
    shutil.copyfile(work / "mmssms.db-wal", folder / "mmssms.db-wal")
    db.close()


def test_shared_sms_database_read_with_source(cli: Any, case_dir: Path, tmp_path: Path,
                                               testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    (ext / SMS_DIR).mkdir(parents=True)
    shutil.copyfile(testdata("phone/android/plaso/mmssms.db"), ext / SMS_DIR / "mmssms.db")
    before = _tree_hashes(ext)
    out = cli("parse", ext, "--exhibit", "PH1", "--case", case_dir, "--no-yara")
    assert "9 messages" in out.stdout
    rows = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))
    assert len(rows) == 9 and {r["app"] for r in rows} == {"sms"}
    first = rows[0]
    assert first["time"] == "2013-10-29T16:56:28.038Z" and first["direction"] == "outgoing"
    assert first["text"] == "Yo Fred this is my new number."
    assert first["source"] == {"path": "/" + SMS_DIR + "/mmssms.db", "table": "sms", "row": 1}
    assert _tree_hashes(ext) == before  # evidence never written
    runs = _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert [(r["parser"], r["counts"], r["status"]) for r in runs] == [("android.sms", {"messages": 9}, "parsed")]
    assert runs[0]["files"][0]["sha256"] == hashlib.sha256((ext / SMS_DIR / "mmssms.db").read_bytes()).hexdigest()
    parsed = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()
              if json.loads(line)["action"] == "parsed"]
    assert parsed[-1]["details"]["artifacts"]["counts"] == {"messages": 9}
    assert not (case_dir / ".work").exists() or not any((case_dir / ".work").iterdir())  # private copies removed


def test_wal_only_rows_read_and_numbers_normalised(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    _wal_only_db(ext / SMS_DIR)
    before = _tree_hashes(ext)
    cli("parse", ext, "--exhibit", "PH2", "--case", case_dir, "--no-yara")
    rows = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--exhibit", "PH2"))
    assert [r["text"] for r in rows] == ["first, in the main file", "القارب يغادر الليلة"]
    assert rows[0]["sender"] == "+218912345678"                   # incoming: the other party sent it
    assert rows[1]["recipients"] == ["+218912345678"]             # Arabic-Indic digits, same number
    assert _tree_hashes(ext) == before
    runs = _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert [f["path"].rsplit("/", 1)[-1] for f in runs[0]["files"]] == ["mmssms.db", "mmssms.db-wal"]
    found = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--contains", "القارب"))
    assert len(found) == 1
    by_number = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--thread", "091-234-5678"))
    assert len(by_number) == 2


def test_wal_before_its_database_in_a_zip(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    built = tmp_path / "built"
    _wal_only_db(built / SMS_DIR)
    archive = tmp_path / "phone.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # the -wal member comes first
        zf.write(built / SMS_DIR / "mmssms.db-wal", f"{SMS_DIR}/mmssms.db-wal")
        zf.write(built / SMS_DIR / "mmssms.db", f"{SMS_DIR}/mmssms.db")
    cli("parse", archive, "--exhibit", "PHZ", "--case", case_dir, "--no-yara")
    rows = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))
    assert len(rows) == 2


def test_database_that_is_a_jpeg_is_one_warning(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    (ext / SMS_DIR).mkdir(parents=True)
    (ext / SMS_DIR / "mmssms.db").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200))
    (ext / "sdcard").mkdir()
    (ext / "sdcard" / "note.txt").write_text("call +218 91 234 5678")
    out = cli("parse", ext, "--exhibit", "PHJ", "--case", case_dir, "--no-yara")
    assert "android.sms: not a SQLite database" in out.stderr
    runs = _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert runs[0]["status"] == "unreadable" and runs[0]["counts"] == {}
    files = _jsonl(cli("files", "--case", case_dir, "--format", "jsonl"))
    assert {f["path"] for f in files} >= {"/sdcard/note.txt", "/" + SMS_DIR + "/mmssms.db"}


def test_reparse_replaces_records(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    _wal_only_db(ext / SMS_DIR)
    for _ in range(2):
        cli("parse", ext, "--exhibit", "PHR", "--case", case_dir, "--no-yara")
    assert len(_jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))) == 2


class _Entry:
    def __init__(self, path: str, data: bytes, deleted: bool = False) -> None:
        self.partition, self.path, self.name = 0, path, path.rsplit("/", 1)[-1]
        self.size, self.deleted, self.data = len(data), deleted, data

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset:offset + length]


def test_collector_pairs_companions_and_ignores_the_rest(tmp_path: Path) -> None:
    collector = Collector(tmp_path / "work", load())
    base = "/data/data/com.android.providers.telephony/databases/mmssms.db"
    collector.offer(_Entry(base + "-journal", b"J" * 10), None)  # large-file path: read through `read`
    collector.offer(_Entry(base, b"D" * 5), b"D" * 5)
    collector.offer(_Entry(base + "-shm", b"S"), b"S")            # rebuilt by SQLite: never taken
    collector.offer(_Entry("/sdcard/mmssms.txt", b"x"), b"x")
    collector.offer(_Entry(base, b"old", deleted=True), b"old")   # a deleted copy is its own group
    groups = collector.groups()
    assert len(groups) == 2
    live = next(g for g in groups if not g.key[2])
    assert live.main is not None and live.main.local.read_bytes() == b"D" * 5
    assert set(live.companions) == {"-journal"} and live.companions["-journal"].local.read_bytes() == b"J" * 10
    assert live.companions["-journal"].local.name == "main-journal"  # never a name from the evidence
    collector.cleanup()
    assert not (tmp_path / "work").exists()


def test_messages_in_timeline_and_search(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    _wal_only_db(ext / SMS_DIR)
    cli("parse", ext, "--exhibit", "PHT", "--case", case_dir, "--no-yara")
    out = cli("timeline", "--case", case_dir, "--exhibit", "PHT", "--format", "csv").stdout
    lines = [line for line in out.splitlines() if "sms message" in line]
    assert len(lines) == 2 and lines[0].startswith("2023-11-14T22:13:20Z,")
    assert "incoming from +218912345678: first, in the main file" in lines[0]
    body = cli("timeline", "--case", case_dir, "--exhibit", "PHT").stdout.splitlines()
    event = [b for b in body if "[sms message sms:2]" in b]
    assert len(event) == 1 and event[0].endswith("|0|0|0|1700000060")
    hits = _jsonl(cli("search", "٠٩١-٢٣٤-٥٦٧٨", "--case", case_dir, "--format", "jsonl"))
    assert sorted(h["source"] for h in hits) == ["message", "message"]
    assert {h["location"] for h in hits} == {f"/{SMS_DIR}/mmssms.db sms:1", f"/{SMS_DIR}/mmssms.db sms:2"}
    words = _jsonl(cli("search", "القارب", "--case", case_dir, "--format", "jsonl"))
    assert [(w["source"], w["match"]) for w in words] == [("message", "text")]


def test_truncated_database_is_one_warning(cli: Any, case_dir: Path, tmp_path: Path,
                                           testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    (ext / SMS_DIR).mkdir(parents=True)
    (ext / SMS_DIR / "mmssms.db").write_bytes(testdata("phone/android/plaso/mmssms.db").read_bytes()[:40000])
    out = cli("parse", ext, "--exhibit", "PHT", "--case", case_dir, "--no-yara")
    assert out.stderr.count("android.sms: SQLite cannot open it: database disk image is malformed") == 1
    runs = _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert runs[0]["status"] == "unreadable"
    assert _jsonl(cli("files", "--case", case_dir, "--format", "jsonl"))[-1]["size"] == 40000
