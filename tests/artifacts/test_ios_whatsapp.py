"""WhatsApp on iOS: iLEAPP's josh_ios15 slices (32 messages, 4 calls, 9 contacts in iLEAPP's expected
output) and a ChatStorage.sqlite built with the same schema holding a LID sender and Arabic text."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

from ios_fixtures import LID, whatsapp_contacts_db, whatsapp_db

ILEAPP = "phone/ios/ileapp/"


def _jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _iso(unix_seconds: int) -> str:
    return dt.datetime.fromtimestamp(unix_seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _expected(testdata: Callable[[str], Path], name: str) -> list[list[Any]]:
    return list(json.loads(testdata(ILEAPP + name).read_text())["data"])


def test_whatsapp_messages(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    cli("parse", testdata(ILEAPP + "testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip"), "--exhibit", "WA",
        "--case", case_dir, "--no-yara")
    rows = sorted(_jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--app", "whatsapp")),
                  key=lambda r: r["source"]["row"])
    expected = _expected(testdata, "whatsApp.whatsAppMessages.josh_ios15_ffs.20250621193412.json")
    assert len(rows) == len(expected) == 32
    # iLEAPP lists them in Z_PK order: timestamp, sender name, from, receiver, to, text, …, latitude, longitude
    for row, want in zip(rows, expected):
        assert row["time"].startswith(_iso(want[0]))
        assert row["text"] == want[5]
        assert row["direction"] == ("outgoing" if want[1] == "Local User" else "incoming")
        if want[11] != "":
            assert row["location"] == {"lat": want[11], "lon": want[12]}
        else:
            assert row["location"] is None  # an image's ZLATITUDE/ZLONGITUDE are not a place
    groups = {r["thread_name"] for r in rows if r["thread"].startswith("group:")}
    assert groups == {"Our Test Group", "Med Report Review", "Med Report 2", "Working Group"}
    one = [r for r in rows if r["thread"] == "+19198887386"]
    assert len(one) == 22 and {r["thread_name"] for r in one} == {"This Is DFIR Two"}
    assert {r["sender"] for r in one if r["direction"] == "incoming"} == {"+19198887386"}
    assert {tuple(r["recipients"]) for r in one if r["direction"] == "outgoing"} == {("+19198887386",)}
    photos = [a for r in rows for a in r["attachments"]]
    assert [(a["name"], a["mime"], a["size"]) for a in photos] == [
        ("d041d159-fd7d-4abb-9192-0e97c10ddb00.jpg", "image/jpeg", 42073),
        ("074dc9c5-d1e2-418b-8bcc-8c4ed1f67f7e.jpg", "image/jpeg", 55290)]
    assert photos[0]["path"] == "Message/Media/19198887386@s.whatsapp.net/d/0/d041d159-fd7d-4abb-9192-0e97c10ddb00.jpg"


def test_whatsapp_calls(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    cli("parse", testdata(ILEAPP + "testdata.whatsApp.whatsAppCallHistory.josh_ios15_ffs.zip"), "--exhibit", "WAC",
        "--case", case_dir, "--no-yara")
    calls = _jsonl(cli("calls", "--case", case_dir, "--format", "jsonl", "--app", "whatsapp"))
    expected = _expected(testdata, "whatsApp.whatsAppCallHistory.josh_ios15_ffs.20250621193412.json")
    assert len(calls) == len(expected) == 4
    for call, row in zip(calls, expected):  # iLEAPP: start, end, H:M:S, direction, cause, JID, name, number
        assert call["time"].startswith(_iso(row[0]))
        assert call["direction"] == row[3].lower() and call["extra"]["outcome"] == row[4].lower()
        assert call["number"] == "+" + row[5].split("@")[0] and call["name"] == row[6]
        hours, minutes, seconds = (int(x) for x in row[2].split(":"))
        assert call["duration"] == hours * 3600 + minutes * 60 + seconds
    assert [c["video"] for c in calls] == [False, False, True, True]


def test_whatsapp_contacts(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    cli("parse", testdata(ILEAPP + "testdata.whatsApp.whatsAppContacts.josh_ios15_ffs.zip"), "--exhibit", "WAB",
        "--case", case_dir, "--no-yara")
    contacts = _jsonl(cli("contacts", "--case", case_dir, "--format", "jsonl", "--app", "whatsapp"))
    expected = _expected(testdata, "whatsApp.whatsAppContacts.josh_ios15_ffs.20250621193412.json")
    assert len(contacts) == len(expected) == 9
    # iLEAPP: full name, about, about time, number, label, WhatsApp id, identifier
    assert sorted(str((c["name"], c["extra"].get("whatsapp_id"), c["extra"].get("label"),
                       c["extra"].get("contact_identifier"))) for c in contacts) == sorted(
        str((row[0], row[5], row[4] or None, row[6])) for row in expected)
    two = next(c for c in contacts if c["extra"].get("about"))
    assert two["phones"] == ["+19198887386"] and two["extra"]["about_at"].startswith(_iso(1683042855))


def test_lid_sender_is_a_handle_never_a_number(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "backup"
    whatsapp_db(ext)
    cli("parse", ext, "--exhibit", "LID", "--case", case_dir, "--no-yara")
    rows = {r["source"]["row"]: r for r in _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))}
    first = rows[1]
    assert first["sender"] == f"lid:{LID}" and first["sender_name"] == "Abu Salem"
    assert first["thread"] == "group:120363000000000001" and first["thread_name"] == "رحلة زوارة"
    assert first["text"] == "الانطلاق الليلة" and first["time"] == "2023-05-28T20:53:20Z"
    assert "sender_number" not in first["extra"]  # the phone holds no mapping for this LID
    assert rows[2]["location"] == {"lat": 32.9312, "lon": 12.0819} and rows[2]["extra"]["media_title"] == \
        "Zuwara beach"
    assert rows[3]["recipients"] == ["+218912345678"] and rows[3]["direction"] == "outgoing"
    assert rows[3]["source"]["path"] == "/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite"
    as_number = _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--thread", "+" + LID))
    assert as_number == []  # the LID's digits are no phone number taking part


def test_not_whatsapp_and_truncated(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    other = ext / "private/var/mobile/Containers/Shared/AppGroup/1111/ChatStorage.sqlite"
    other.parent.mkdir(parents=True)
    sqlite3.connect(other).execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)").connection.commit()
    good = whatsapp_db(ext / "good")
    cut = ext / "cut" / good.parent.name / "ChatStorage.sqlite"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(good.read_bytes()[:5000])  # truncated mid-database
    cli("parse", ext, "--exhibit", "NWA", "--case", case_dir, "--no-yara")
    runs = {r["path"].split("/")[1]: r for r in _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))}
    assert runs["private"]["warnings"] == ["table ZWAMESSAGE: no ZWAMESSAGE table with Z_PK, ZCHATSESSION, ZISFROMME "
                                           "and ZMESSAGEDATE (not WhatsApp's, or an unknown schema version)"]
    assert (runs["cut"]["status"], runs["cut"]["warnings"]) == (
        "unreadable", ["SQLite cannot open it: database disk image is malformed"])
    assert runs["good"]["counts"] == {"messages": 4}



def test_names_from_the_address_book_beside_the_chats(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """With ContactsV2.sqlite in the same app group, a sender is named as the phone's address book has
    them (the chat keeps the name WhatsApp showed, the profile the name the person chose)."""
    alone, together = tmp_path / "alone", tmp_path / "together"
    whatsapp_db(alone)
    whatsapp_contacts_db(whatsapp_db(together).parent)
    for ext, exhibit in ((alone, "W1"), (together, "W2")):
        cli("parse", ext, "--exhibit", exhibit, "--case", case_dir, "--no-yara")
    names = {r["exhibit"]: r["sender_name"] for r in _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))
             if r["source"]["row"] == 4}
    assert names == {"W1": "Driver", "W2": "السائق أبو علي"}
