"""iOS Messages (sms.db): plaso's imessage_chat.db as ground truth, and an iOS 16+ sms.db built with
the real schema (nanosecond dates, Arabic text only in attributedBody, an attachment, deletions)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

import pytest
from ios_fixtures import SMS_ARABIC, SMS_ATTACHMENT, attributed_body, place, sms_db

from triage.artifacts.ios._typedstream import TypedStreamError, attributed_string

SMS = "private/var/mobile/Library/SMS/sms.db"


def _jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_plaso_imessage_database(cli: Any, case_dir: Path, tmp_path: Path,
                                 testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    place(testdata("phone/ios/plaso/imessage_chat.db"), ext / SMS)
    out = cli("parse", ext, "--exhibit", "IPH", "--case", case_dir, "--no-yara")
    assert "10 messages" in out.stdout
    rows = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))
    assert len(rows) == 10 and {r["app"] for r in rows} == {"imessage"}
    seventh = sorted(rows, key=lambda r: r["source"]["row"])[7]  # plaso's event 7: the 8th row
    assert seventh["text"] == "Did you try to send me a message?"
    assert seventh["sender"] == "xxxxxx2015@icloud.com" and seventh["direction"] == "incoming"
    assert seventh["time"] == "2015-11-30T10:48:40Z"
    assert seventh["extra"]["service"] == "iMessage" and seventh["extra"]["read"] is True
    assert seventh["source"] == {"path": "/" + SMS, "table": "message", "row": 8}
    assert sum(r["direction"] == "outgoing" for r in rows) == 5
    runs = _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert [(r["parser"], r["counts"], r["status"]) for r in runs] == [("ios.sms", {"messages": 10}, "parsed")]
    warnings = runs[0]["warnings"]
    assert any(w.startswith("table deleted_messages: 226 message(s) were deleted") and "only their GUIDs" in w
               for w in warnings)
    assert any(w.startswith("table chat_message_join: 225 message row(s)") for w in warnings)


def test_attributed_body_decoded_from_the_real_blobs(tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    """Every archived body of imessage_chat.db decodes whole; 8 of 10 equal `text` exactly. The other two
    differ from `text` (the archive says "Microsoft Office" where `text` says "Open Office"): the parser
    keeps `text` and gives the archived wording in extra.attributed_text."""
    db = place(testdata("phone/ios/plaso/imessage_chat.db"), tmp_path / "copy.db")
    rows = sqlite3.connect(db).execute("SELECT ROWID, text, attributedBody FROM message ORDER BY ROWID").fetchall()
    decoded = {rowid: attributed_string(blob) for rowid, _text, blob in rows}
    assert all(d.complete for d in decoded.values())
    assert [rowid for rowid, text, _ in rows if decoded[rowid].text == text] == [1, 2, 3, 4, 5, 7, 8, 9]
    for rowid, text, _ in rows:  # the attribute runs cover the whole text, in UTF-16 units
        runs = decoded[rowid].runs
        assert runs[0][0] == 0 and sum(length for _, length, _ in runs) == len(decoded[rowid].text.encode(
            "utf-16-le")) // 2
    assert decoded[10].text.endswith("with Microsoft Office on it.")
    assert decoded[2].runs[1][2]["__kIMMessagePartAttributeName"] == 0


def test_typedstream_rejects_what_it_is_not() -> None:
    for blob in (b"", b"bplist00\xd4\x01", b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84"):
        with pytest.raises(TypedStreamError):
            attributed_string(blob)
    whole = attributed_string(attributed_body("قارب"))
    assert (whole.text, whole.complete, [(s, n) for s, n, _ in whole.runs]) == ("قارب", True, [(0, 4)])
    cut = attributed_string(attributed_body("قارب")[:-40])  # the text is read before the cut
    assert (cut.text, cut.complete) == ("قارب", False)


def test_ios16_sms_database(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    sms_db(ext)
    cli("parse", ext, "--exhibit", "I16", "--case", case_dir, "--no-yara")
    rows = {r["source"]["row"]: r for r in _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))}
    assert len(rows) == 4
    arabic = rows[1]
    assert arabic["text"] == SMS_ARABIC and arabic["extra"]["text_source"] == "attributedBody"
    assert arabic["time"] == "2023-06-01T01:02:03.123456Z"     # nanoseconds since 2001, to the microsecond
    assert arabic["app"] == "sms" and arabic["sender"] == "+218912345678"  # national number read in Libya
    assert arabic["thread"] == "+218912345678" and arabic["extra"]["account"] == "+218910000001"
    photo = rows[2]
    assert photo["text"] is None and photo["direction"] == "outgoing"
    assert photo["thread"] == "chat4711" and photo["thread_name"] == "رحلة الجمعة"
    assert photo["recipients"] == ["smuggler.x@icloud.com", "+33612345678"]
    assert photo["attachments"] == [{"name": "IMG_0001.JPG", "mime": "image/jpeg",
                                     "sha256": hashlib.sha256(SMS_ATTACHMENT).hexdigest(),
                                     "path": "Library/SMS/Attachments/cd/13/8E1A2F3C-0000-4000-8000-00000000ABCD/"
                                             "IMG_0001.JPG", "size": len(SMS_ATTACHMENT)}]
    deleted = rows[3]
    assert deleted["text"] == "OK, tomorrow" and deleted["extra"]["recently_deleted"] is True
    assert deleted["extra"]["recently_deleted_at"] == "2023-06-01T06:13:20Z"
    assert rows[4]["text"] is None and rows[4]["extra"]["attributed_body"].startswith("not decoded")
    runs = _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert runs[0]["warnings"] == [
        "table message: 1 message(s) have an attributedBody that is not a readable typedstream and no text: "
        "listed without text",
        "table deleted_messages: 2 message(s) were deleted on the phone: this table keeps only their GUIDs (added "
        "by a trigger on each deletion), not their text, time or parties; their content is only where it "
        "survives in the database's free space"]
    found = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--contains", "زوارة"))
    assert [r["source"]["row"] for r in found] == [1]
    by_number = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--thread", "091 234 5678"))
    assert [r["source"]["row"] for r in by_number] == [1]


def test_unknown_schema_and_damaged_file_are_warnings(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    old = ext / "a" / SMS
    old.parent.mkdir(parents=True)
    db = sqlite3.connect(old)
    db.execute("CREATE TABLE message (ROWID INTEGER PRIMARY KEY, address TEXT, flags INTEGER)")  # iOS 5 layout
    db.commit()
    db.close()
    broken = ext / "b" / SMS
    broken.parent.mkdir(parents=True)
    broken.write_bytes(old.read_bytes()[:100])  # a truncated database
    sms_db(ext / "c")
    cli("parse", ext, "--exhibit", "BAD", "--case", case_dir, "--no-yara")
    runs = {r["path"].split("/")[1]: r for r in _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))}
    assert runs["a"]["warnings"] == ["table message: no message table with ROWID, date and is_from_me (unknown "
                                     "schema version)"] and runs["a"]["counts"] == {}
    assert runs["b"]["status"] == "unreadable" and runs["b"]["warnings"][0].startswith("SQLite cannot open it")
    assert runs["c"]["counts"] == {"messages": 4}
