"""iOS Contacts (AddressBook.sqlitedb), read straight from iLEAPP's extraction slices: Josh Hickman's
iOS 15 (9 persons, data in main file and WAL) and BelkaCTF 6 (all of it only in the -wal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

ILEAPP = "phone/ios/ileapp/"


def _jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _us_case(cli: Any, tmp_path: Path) -> Path:
    """The personas' numbers are written in US national form: a case whose default region is US."""
    case = tmp_path / "case-us"
    cli("case", "init", case, "--case-id", "US-1", "--title", "t", "--examiner", "Test Examiner",
        "--organisation", "Test Unit", "--region", "US")
    return case


def test_josh_ios15_address_book(cli: Any, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    case = _us_case(cli, tmp_path)
    cli("parse", testdata(ILEAPP + "testdata.addressBook.addressBook.josh_ios15_ffs.zip"), "--exhibit", "AB",
        "--case", case, "--no-yara")
    contacts = sorted(_jsonl(cli("contacts", "--case", case, "--format", "jsonl")), key=lambda c: c["source"]["row"])
    expected = json.loads(testdata(ILEAPP + "addressBook.addressBook.josh_ios15_ffs.20250621194251.json").read_text())
    assert len(contacts) == expected["metadata"]["number_of_rows"] == 9
    first = contacts[0]  # iLEAPP's row 0: This Is / DFIR Two, Mobile (919) 888-7386, Home e-mail, created 1681567229
    assert first["name"] == "This Is DFIR Two" and first["phones"] == ["+19198887386"]
    assert first["emails"] == ["thisisdfirtwo@gmail.com"] and first["time"] == "2023-04-15T14:00:29Z"
    assert first["extra"]["labels"] == {"+19198887386": "Mobile", "thisisdfirtwo@gmail.com": "Home"}
    assert first["extra"]["store"] == "Card" and first["recovered"] is False
    assert first["source"] == {"path": "/filesystem2/mobile/Library/AddressBook/AddressBook.sqlitedb",
                               "table": "ABPerson", "row": 1}
    # iLEAPP's rows: creation date, images, first name, last name, company, phones, e-mails, …, modified
    assert sorted(str((c["extra"].get("first"), c["extra"].get("last"), c["extra"].get("organisation"), c["time"],
                       c["extra"]["modified"])) for c in contacts) == sorted(
        str((row[3], row[4], row[5], _iso(row[0]), _iso(row[11]))) for row in expected["data"])
    phones = sorted(p for c in contacts for p in c["phones"])
    assert phones == ["+19192084530", "+19193912507", "+19195790479", "+19198027080", "+19198887386",
                      "+19198887386", "1-800-MY-APPLE"]  # 7 phone values, as ABMultiValue holds
    assert sum(len(c["emails"]) for c in contacts) == 4
    apple = next(c for c in contacts if c["name"] == "Apple Inc.")
    assert apple["extra"]["addresses"] == ["One Apple Park Way, Cupertino, CA, 95014, United States"]
    assert apple["extra"]["urls"] == ["http://www.apple.com"]
    assert [c["name"] for c in contacts if c["extra"].get("own_card")] == ["This Is DFIR"]
    runs = _jsonl(cli("artifacts", "--case", case, "--format", "jsonl"))
    assert [f["path"].rsplit("/", 1)[1] for f in runs[0]["files"]] == ["AddressBook.sqlitedb",
                                                                       "AddressBook.sqlitedb-wal"]


def test_belkasoft_address_book_lives_in_the_wal(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    cli("parse", testdata(ILEAPP + "testdata.addressBook.addressBook.belkasoft_ctf6_ios_device1.zip"),
        "--exhibit", "BK", "--case", case_dir, "--no-yara")
    contacts = _jsonl(cli("contacts", "--case", case_dir, "--format", "jsonl"))
    assert [(c["name"], c["emails"], c["time"]) for c in contacts] == [
        ("William Phorger", ["billthemegakill@icloud.com"], _iso(1712354864))]
    runs = _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert runs[0]["files"][0]["size"] == 4096 and runs[0]["files"][1]["path"].endswith("-wal")


def _iso(unix_seconds: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(unix_seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
