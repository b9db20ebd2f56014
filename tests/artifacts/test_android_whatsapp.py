"""WhatsApp on Android through the real CLI, on msgstore.db/wa.db built with WhatsApp's real schemas:
both schemas, media resolved to the listed file, locations, LIDs with and without the phone's own
mapping, a WAL-only message, a deleted one, calls, wa.db contacts, and broken inputs."""

from __future__ import annotations

import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from triage.artifacts import load
from triage.artifacts.android._wa import Names
from triage.artifacts.android._wa_new import NewSchema
from triage.artifacts.collect import Collector
from triage.artifacts.context import ArtifactFile, Context

from android_fixtures import (MSGSTORE_LEGACY_SCHEMA, MSGSTORE_SCHEMA, JPEG, T0, WA_DIR, database, insert, jsonl,
                              whatsapp, whatsapp_legacy)

MSGSTORE = "/" + WA_DIR + "/msgstore.db"
GROUP = "group:120363041234567890"
ABU = "+218912345678"


def _parse(cli: Any, case_dir: Path, target: Path, exhibit: str = "PH") -> Any:
    return cli("parse", target, "--exhibit", exhibit, "--case", case_dir, "--no-yara")


def test_current_schema_messages(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    expected = whatsapp(ext)
    _parse(cli, case_dir, ext)
    rows = jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--app", "whatsapp"))
    rows = [r for r in rows if not r["recovered"]]  # the deleted one: test_deleted_message_recovered…
    assert [(r["thread"], r["direction"], r["sender"], r["recipients"], r["text"], r["time"], r["source"]["row"])
            for r in rows] == [
        (ABU, "incoming", ABU, [], "السلام عليكم", "2024-03-01T20:15:00Z", 2),
        (ABU, "outgoing", None, [ABU], "كم السعر للشخص؟ ٢٠٠٠ دينار", "2024-03-01T20:16:00Z", 3),
        (ABU, "incoming", ABU, [], "صورة القارب", "2024-03-01T20:17:00Z", 4),
        (GROUP, "incoming", "+218925550001", [GROUP], "الانطلاق من زوارة", "2024-03-01T20:18:00Z", 5),
        (GROUP, "incoming", "+393331234567", [GROUP], "Boat leaves at 3am", "2024-03-01T20:19:00Z", 6),
        (GROUP, "incoming", "lid:987654321098765", [GROUP], None, "2024-03-01T20:20:00Z", 7),
        (GROUP, "outgoing", None, [GROUP], "تم", "2024-03-01T20:21:00Z", 8),
        (ABU, "incoming", ABU, [], None, "2024-03-01T20:22:00Z", 9),
        ("lid:987654321098765", "incoming", "lid:987654321098765", [], "who is this", "2024-03-01T20:23:00Z", 10),
        (ABU, "outgoing", None, [ABU], "رسالة في السجل فقط", "2024-03-01T20:26:00Z", 13),   # only in the WAL
    ]
    assert all(r["source"]["path"] == MSGSTORE and r["source"]["table"] == "message" for r in rows)
    assert all(r["app"] == "whatsapp" and not r["recovered"] for r in rows)
    assert [r["thread_name"] for r in rows][:5] == ["أبو محمد"] * 3 + ["رحلة ١٥ مارس"] * 2
    image, document = rows[2], rows[7]
    assert image["attachments"] == [{"name": "IMG-20240301-WA0001.jpg", "mime": "image/jpeg",
                                     "sha256": expected["image_sha256"],
                                     "path": "Media/WhatsApp Images/IMG-20240301-WA0001.jpg", "size": len(JPEG)}]
    assert image["extra"]["media"]["sha256"] == expected["image_sha256"]        # the hash WhatsApp recorded
    assert document["attachments"][0]["sha256"] is None                        # not in the extraction
    assert document["extra"]["media"] == {"file_path": "Media/WhatsApp Documents/list.pdf", "file_size": 48213,
                                          "mime_type": "application/pdf"}
    assert rows[5]["location"] == {"lat": 32.9312, "lon": 12.0819} and rows[5]["extra"]["place"] == "Zuwara"
    # a LID the phone maps to a number: the number, with the LID beside it; one it does not map stays a LID
    assert rows[4]["extra"]["lid"] == "lid:123456789012345" and rows[4]["sender_name"] == "Captain"
    assert "lid" not in rows[5]["extra"] and rows[5]["sender_name"] == "X"
    assert rows[6]["extra"]["quoted"] == {"key_id": "K6", "text": "Boat leaves at 3am", "from_me": False,
                                          "sender": "+393331234567"}
    assert rows[0]["extra"]["received"] == "2024-03-01T20:15:02Z"
    # the deleted message is in the file's free space, never listed as live
    assert "DELETED-MESSAGE-MARKER".encode() in (ext / WA_DIR / "msgstore.db").read_bytes()
    assert not any("DELETED-MESSAGE-MARKER" in (r["text"] or "") for r in rows)
    found = jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--contains", "زواره"))
    assert [r["source"]["row"] for r in found] == [5]
    in_thread = jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--thread", "٠٩١٢٣٤٥٦٧٨"))
    assert [r["source"]["row"] for r in in_thread if not r["recovered"]] == [2, 3, 4, 9, 13]
    assert [r["text"] for r in in_thread if r["recovered"]] == ["DELETED-MESSAGE-MARKER احذف هذه"]


def test_current_schema_calls_and_contacts(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    whatsapp(ext)
    _parse(cli, case_dir, ext)
    calls = jsonl(cli("calls", "--case", case_dir, "--format", "jsonl", "--app", "whatsapp"))
    assert [(c["direction"], c["number"], c["name"], c["time"], c["duration"], c["video"], c["source"]["row"])
            for c in calls] == [
        ("incoming", ABU, "أبو محمد", "2024-03-01T20:30:00Z", 62, False, 1),
        ("outgoing", "+393331234567", "Captain", "2024-03-01T20:31:00Z", 240, True, 2),
        ("missed", "lid:987654321098765", "X", "2024-03-01T20:32:00Z", 0, False, 3),
    ]
    assert calls[1]["extra"] == {"lid": "lid:123456789012345", "call_id": "C2", "call_result": 5}
    contacts = jsonl(cli("contacts", "--case", case_dir, "--format", "jsonl", "--app", "whatsapp"))
    assert [(c["name"], c["phones"], c["handles"], c["source"]["row"]) for c in contacts] == [
        ("Captain", ["+393331234567"], [], 2),
        ("X", [], ["lid:987654321098765"], 4),                      # a LID is never a phone number
        ("أبو محمد", [ABU], [], 1),
        ("رحلة ١٥ مارس", [], [GROUP], 3),
    ]
    assert contacts[2]["extra"]["status"] == "متاح" and contacts[2]["extra"]["status_time"] == "2024-03-01T20:15:00Z"
    assert contacts[3]["extra"]["kind"] == "group"
    runs = {r["parser"]: r for r in jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))}
    assert runs["android.whatsapp"]["counts"] == {"messages": 11, "calls": 3}  # one message recovered
    assert [f["path"].rsplit("/", 1)[1] for f in runs["android.whatsapp"]["files"]] == ["msgstore.db",
                                                                                       "msgstore.db-wal"]
    assert runs["android.whatsapp.contacts"]["counts"] == {"contacts": 4}


def test_deleted_message_recovered_when_recovery_is_available(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("triage.artifacts.recover", reason="SQLite deleted-row recovery has not landed yet")
    ext = tmp_path / "ext"
    whatsapp(ext)
    _parse(cli, case_dir, ext)
    rows = jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--recovered"))
    marked = [r for r in rows if "DELETED-MESSAGE-MARKER" in (r["text"] or "")]
    assert len(marked) == 1 and marked[0]["thread"] == ABU and marked[0]["direction"] == "incoming"
    assert marked[0]["time"] == "2024-03-01T20:25:00Z" and marked[0]["source"]["table"] == "message"


def test_legacy_schema_business_app_in_adb_backup_layout(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    expected = whatsapp_legacy(ext)
    _parse(cli, case_dir, ext)
    rows = jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))
    assert [(r["thread"], r["direction"], r["sender"], r["text"], r["time"], r["source"]) for r in rows] == [
        (ABU, "incoming", ABU, "مرحبا", "2019-03-01T00:00:00Z",
         {"path": "/apps/com.whatsapp.w4b/db/msgstore.db", "table": "messages", "row": 2}),
        (GROUP, "incoming", "+218925550001", "group hello", "2019-03-01T00:01:00Z",
         {"path": "/apps/com.whatsapp.w4b/db/msgstore.db", "table": "messages", "row": 3}),
        (ABU, "outgoing", None, "القارب", "2019-03-01T00:02:00Z",
         {"path": "/apps/com.whatsapp.w4b/db/msgstore.db", "table": "messages", "row": 4}),
        (ABU, "incoming", ABU, None, "2019-03-01T00:03:00Z",
         {"path": "/apps/com.whatsapp.w4b/db/msgstore.db", "table": "messages", "row": 5}),
    ]
    assert all(r["extra"]["package"] == "com.whatsapp.w4b" for r in rows)
    attachment = rows[2]["attachments"][0]
    assert attachment["sha256"] == expected["image_sha256"] and attachment["name"] == "IMG-20190301-WA0003.jpg"
    assert attachment["path"].endswith("/WhatsApp Business Images/Sent/IMG-20190301-WA0003.jpg")
    assert rows[2]["extra"]["media"]["sha256"] == expected["image_sha256"]
    assert rows[3]["location"] == {"lat": 32.9312, "lon": 12.0819}
    calls = jsonl(cli("calls", "--case", case_dir, "--format", "jsonl"))
    assert [(c["app"], c["direction"], c["number"], c["time"], c["source"]["row"]) for c in calls] == [
        ("whatsapp", "missed", ABU, "2019-03-01T00:04:00Z", 6)]


def test_both_schemas_in_one_database_reads_the_current_and_says_so(cli: Any, case_dir: Path,
                                                                   tmp_path: Path) -> None:
    ext = tmp_path / "ext"

    def rows(conn: sqlite3.Connection) -> None:
        insert(conn, "jid", [{"_id": 1, "user": "218912345678", "server": "s.whatsapp.net",
                              "raw_string": "218912345678@s.whatsapp.net"}])
        insert(conn, "chat", [{"_id": 1, "jid_row_id": 1}])
        insert(conn, "message", [{"_id": 2, "chat_row_id": 1, "from_me": 0, "key_id": "A", "timestamp": T0,
                                  "message_type": 0, "text_data": "migrated"}])
        insert(conn, "messages", [{"_id": 2, "key_remote_jid": "218912345678@s.whatsapp.net", "key_from_me": 0,
                                   "key_id": "A", "timestamp": T0, "data": "migrated"},
                                  {"_id": 3, "key_remote_jid": "218912345678@s.whatsapp.net", "key_from_me": 1,
                                   "key_id": "B", "timestamp": T0, "data": "older copy"}])

    database(ext / WA_DIR / "msgstore.db", MSGSTORE_SCHEMA + MSGSTORE_LEGACY_SCHEMA.replace(
        "CREATE TABLE props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);", ""), rows)
    out = _parse(cli, case_dir, ext)
    assert "table messages: 2 row(s) of the legacy messages table were not read" in out.stderr
    assert [r["text"] for r in jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))] == ["migrated"]


def test_a_jpeg_named_msgstore_in_a_zip_is_one_warning(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    built = tmp_path / "built"
    whatsapp(built)
    archive = tmp_path / "phone.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{WA_DIR}/msgstore.db", JPEG)
        zf.write(built / WA_DIR / "wa.db", f"{WA_DIR}/wa.db")
    out = _parse(cli, case_dir, archive)
    assert "android.whatsapp: not a SQLite database" in out.stderr
    runs = {r["parser"]: r for r in jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))}
    assert runs["android.whatsapp"]["status"] == "unreadable" and runs["android.whatsapp"]["counts"] == {}
    assert runs["android.whatsapp.contacts"]["counts"] == {"contacts": 4}       # everything else kept


def test_zip_extraction_gives_the_same_records(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    built = tmp_path / "built"
    whatsapp(built)
    archive = tmp_path / "phone.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(built.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(built).as_posix())
    _parse(cli, case_dir, archive)
    rows = [r for r in jsonl(cli("messages", "--case", case_dir, "--format", "jsonl")) if not r["recovered"]]
    assert len(rows) == 10 and rows[2]["attachments"][0]["sha256"] is not None


def test_unknown_schema_is_a_warning_naming_the_table(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    database(ext / WA_DIR / "msgstore.db", "CREATE TABLE props (_id INTEGER PRIMARY KEY, key TEXT, value TEXT);",
             lambda conn: None)
    out = _parse(cli, case_dir, ext)
    assert "android.whatsapp: table message: neither a message nor a messages table" in out.stderr
    runs = jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert [(r["parser"], r["status"], r["counts"]) for r in runs] == [("android.whatsapp", "parsed", {})]


@dataclass
class _Recovered:
    """A recovered row in the shape ctx.file.recovered() gives (triage.artifacts.recover.RecoveredRow)."""

    table: str
    rowid: int | None
    values: dict[str, Any]
    offset: int
    file: str
    where: str
    partial: bool


class _Entry:
    def __init__(self, root: Path, path: Path) -> None:
        self.partition, self.path, self.name = 0, "/" + path.relative_to(root).as_posix(), path.name
        self.data, self.deleted = path.read_bytes(), False
        self.size = len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset:offset + length]


def test_a_recovered_row_is_read_with_the_live_rows_code(tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    whatsapp(ext)
    collector = Collector(tmp_path / "work", load())
    for path in sorted((ext / WA_DIR).iterdir()):
        entry = _Entry(ext, path)
        collector.offer(entry, entry.data)
    files = [ArtifactFile(g) for g in collector.groups()]
    store = next(f for f in files if f.path == MSGSTORE)
    notes: list[str] = []
    ctx = Context("PH", "LY", "android.whatsapp", store, files, notes.append)
    schema = NewSchema(ctx, Names(ctx), None)
    gone = _Recovered("message", 12, {"_id": 12, "chat_row_id": 1, "from_me": 0, "key_id": "K12",
                                      "timestamp": T0 + 600_000, "message_type": 0, "text_data": "احذف هذه"},
                      20480, "main", "freeblock in page 5", False)
    msg = schema.message(schema._joined(dict(gone.values)), gone)
    assert (msg.thread, msg.direction, msg.sender, msg.thread_name, msg.text, msg.time, msg.recovered) == (
        ABU, "incoming", ABU, "أبو محمد", "احذف هذه", "2024-03-01T20:25:00Z", True)
    assert (msg.source.table, msg.source.row, msg.source.where) == ("message", 20480, "freeblock in page 5")
    # an older version of a live row (here the image message) still finds its media row
    older = _Recovered("message", 4, {"_id": 4, "chat_row_id": 1, "from_me": 0, "timestamp": T0 + 120_000,
                                      "message_type": 1}, 4100, "wal", "WAL frame 3", True)
    msg = schema.message(schema._joined(dict(older.values)), older)
    assert [a.path for a in msg.attachments] == ["Media/WhatsApp Images/IMG-20240301-WA0001.jpg"]
    assert msg.source.where == "WAL frame 3 (partial) [wal]" and notes == []
    for file in files:
        file.close()
    collector.cleanup()
