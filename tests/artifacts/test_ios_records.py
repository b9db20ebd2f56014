"""Other iOS records: Safari visits and accounts (plaso's test files), photo places (Photos.sqlite
built with the iOS 11.2 schema, as ZGENERICASSET and as iOS 14's ZASSET), SIM and Wi-Fi plists
(plaso's, and iLEAPP's mvs_ios_2023 slices)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from ios_fixtures import legacy_wifi_plist, photos_db, place

ILEAPP = "phone/ios/ileapp/"


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


def test_sim_and_wifi_plists(cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    place(testdata("phone/ios/plaso/com.apple.commcenter.data.plist"),
          ext / "private/var/wireless/Library/Preferences/com.apple.commcenter.data.plist")
    place(testdata("phone/ios/plaso/com.apple.wifi.known-networks.plist"),
          ext / "private/var/preferences/com.apple.wifi.known-networks.plist")
    cli("parse", ext, "--exhibit", "PL", "--case", case_dir, "--no-yara")
    sims = _jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "sim"))
    assert [(s["value"], s["time"], s["data"]["label"], s["data"]["type"]) for s in sims] == [
        ("+19195794674", "2023-05-17T12:26:22Z", "E8B6082D-F391-46CB-9780-0AF46534D89F", "sim")]
    wifi = _jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "wifi"))
    assert len(wifi) == 1 and wifi[0]["value"] == "Matt_Foley" and len(wifi[0]["data"]["bss"]) == 9
    assert (wifi[0]["app"], wifi[0]["title"]) == ("ios", "WPA2 Personal")
    first = wifi[0]["data"]["bss"][0]  # plaso's event 0
    assert first == {"bssid": "76:a7:41:e7:7c:9d", "channel": 1, "last_associated": "2023-05-14T01:15:45.013600Z"}
    assert wifi[0]["data"]["added"] == "2023-04-15T13:53:47.476017Z"
    assert wifi[0]["data"]["last_joined"] == wifi[0]["time"] == "2023-05-20T19:55:03.073186Z"


def test_wifi_networks_mvs_slice(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    cli("parse", testdata(ILEAPP + "testdata.appleWifiPlist.appleWifiKnownNetworks.mvs_ios_2023.zip"),
        "--exhibit", "MVS", "--case", case_dir, "--no-yara")
    wifi = _jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "wifi"))
    expected = json.loads(testdata(ILEAPP + "appleWifiPlist.appleWifiKnownNetworks.mvs_ios_2023.20241022183618.json")
                          .read_text())["data"]
    assert len(wifi) == len(expected) == 5
    assert sorted((w["value"], w["data"]["bssid"]) for w in wifi) == sorted(
        (row[0], ":".join(f"{int(x, 16):02x}" for x in row[1].split(":"))) for row in expected)
    spinner = next(w for w in wifi if w["value"] == "Spinner Place")
    assert "44:1e:98:43:cd:0c" in spinner["data"]["bssids"]  # stored unpadded as …:cd:c
    assert sum(len(w["data"]["bss"]) for w in wifi) == 37       # iLEAPP's BSSList rows
    frankfurt = next(w for w in wifi if w["value"] == "Airport-Frankfurt")
    assert frankfurt["data"]["portal"] == "https://hotspot.t-mobile.net/wlan/redirect.do"


def test_sim_slices(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    cli("parse", testdata(ILEAPP + "testdata.celWireless.celWireless.mvs_ios_2023.zip"), "--exhibit", "CW",
        "--case", case_dir, "--no-yara")
    sims = _jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "sim"))
    assert sorted(s["data"]["iccid"] for s in sims) == ["89014102270842269970", "89148000008588244776"]
    assert all(s["value"] and s["value"].startswith("+1") and s["data"].get("imsi") for s in sims)
    devices = _jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "device"))
    assert sorted(d["title"] for d in devices) == ["IMEI", "IMEI", "MEID"]
    assert all(d["value"].isdigit() for d in devices)
    assert sorted(d["data"].get("slot") or "" for d in devices) == ["", "1:kOne", "2:kTwo"]


def test_wifi_before_ios16(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    legacy_wifi_plist(tmp_path / "backup")
    cli("parse", tmp_path / "backup", "--exhibit", "OLD", "--case", case_dir, "--no-yara")
    wifi = _jsonl(cli("records", "--case", case_dir, "--format", "jsonl", "--kind", "wifi"))
    assert [(w["value"], w["title"], w["time"], w["data"]["bssid"]) for w in wifi] == [
        ("Zuwara-Port", "WPA2 Personal", "2023-05-29T01:30:00Z", "0a:0b:0c:0d:0e:0f")]
    assert wifi[0]["data"]["joined_by_user"] == "2023-05-28T20:00:00.250Z"
    assert wifi[0]["data"]["bss"] == [{"bssid": "0a:0b:0c:0d:0e:0f", "channel": 6,
                                       "last_associated": "2023-05-29T01:30:00Z"}]
    assert wifi[0]["source"]["table"] == "List of known networks"
