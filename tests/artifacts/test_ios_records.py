"""Other iOS records: Safari visits and accounts (plaso's test files), photo places (Photos.sqlite
built with the iOS 11.2 schema, as ZGENERICASSET and as iOS 14's ZASSET)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from ios_fixtures import photos_db, place

def _jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_safari_history(cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    place(testdata("phone/ios/plaso/safari/History.db"), ext / "HomeDomain/Library/Safari/History.db")
    cli("parse", ext, "--exhibit", "SAF", "--case", case_dir, "--no-yara")
    visits = _jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "visit"))
    assert len(visits) == 25 and {v["app"] for v in visits} == {"safari"}
    first = sorted(visits, key=lambda v: v["source"]["row"])[1]  # plaso's event 1
    assert (first["value"], first["time"], first["title"]) == ("http://facebook.com/", "2017-11-09T21:24:28.829571Z",
                                                              None)
    assert first["data"]["visit_count"] == 2 and first["data"]["redirect_destination"] == 38
    assert first["source"] == {"path": "/HomeDomain/Library/Safari/History.db", "table": "history_visits", "row": 37}
    cleared = _jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "history cleared"))
    assert len(cleared) == 6 and sum(bool(c["data"].get("all_history")) for c in cleared) == 4


def test_accounts(cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    place(testdata("phone/ios/plaso/Accounts3.sqlite"), ext / "private/var/mobile/Library/Accounts/Accounts3.sqlite")
    cli("parse", ext, "--exhibit", "ACC", "--case", case_dir, "--no-yara")
    accounts = sorted(_jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "account")),
                      key=lambda a: a["source"]["row"])
    assert len(accounts) == 18
    icloud = accounts[3]  # plaso's event 3
    assert (icloud["title"], icloud["value"], icloud["time"]) == ("iCloud", "thisisdfir@gmail.com",
                                                                 "2020-03-21T21:47:57.068197Z")
    assert icloud["data"]["identifier"] == "1589F4EC-8F6C-4F37-929F-C6F121B36A59"
    assert icloud["data"]["bundle"] == "com.apple.purplebuddy" and icloud["data"]["type"] == \
        "com.apple.account.AppleAccount"


@pytest.mark.parametrize("table", ["ZASSET", "ZGENERICASSET"])
def test_photo_places(cli: Any, case_dir: Path, tmp_path: Path, table: str) -> None:
    ext = tmp_path / "ext"
    photos_db(ext, table)
    cli("parse", ext, "--exhibit", "PH", "--case", case_dir, "--no-yara")
    places = {p["source"]["row"]: p for p in _jsonl(cli("records", "--case", case_dir, "--format", "jsonl",
                                                        "--kind", "location"))}
    assert sorted(places) == [1, 3]  # asset 2 stores -180.0: no place
    zuwara = places[1]
    assert (zuwara["app"], zuwara["location"], zuwara["time"]) == ("photos", {"lat": 32.9312, "lon": 12.0819},
                                                                   "2023-05-28T20:53:20.500Z")
    assert zuwara["data"]["path"] == "Media/DCIM/100APPLE/IMG_0001.HEIC" and zuwara["title"] == "IMG_0001.HEIC"
    assert zuwara["data"]["original_name"] == "WhatsApp Image 2023-05-28.jpeg"
    assert zuwara["source"] == {"path": "/private/var/mobile/Media/PhotoData/Photos.sqlite", "table": table, "row": 1}
    assert places[3]["data"]["trashed"] is True and places[3]["data"]["kind"] == "video"
