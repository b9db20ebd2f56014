"""Saved Wi-Fi networks: WifiConfigStore.xml (text and ABX) and wpa_supplicant.conf, through the CLI.
Keys are noted, never copied into the case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from android_sys_fixtures import (WIFI_CONFIG_STORE_XML, WPA_SUPPLICANT_CONF, abx_from_xml, parse, records, runs,
                                  tree_hashes, write)

STORE = "data/misc/wifi/WifiConfigStore.xml"
APEX_STORE = "data/misc/apexdata/com.android.wifi/WifiConfigStore.xml"
SUPPLICANT = "data/misc/wifi/wpa_supplicant.conf"
SECRETS = ("boat-leaves-at-night", "passengers123")


def _value_type(tag: str, name: str, value: str) -> str:
    """How XmlUtils types the `value` of <int>, <long> and <boolean> entries when it writes ABX."""
    if name == "value":
        return {"int": "int", "long": "long", "boolean": "bool"}.get(tag, "string")
    return "int" if name == "num" else "string"


EXPECTED = [
    ("Cafe Zuwara", "NONE", None, {
        "security": "NONE", "key_stored": False, "randomized_mac": "da:a1:19:c4:26:fa",
        "creator": "android.uid.system:1000", "config_key": '"Cafe Zuwara"NONE',
        "creation_time_text": "time=06-15 12:34:56.789", "hidden": False, "creator_uid": 1000, "associations": 0,
        "metered": False, "has_ever_connected": False, "selection_status": "NETWORK_SELECTION_ENABLED",
        "ip_assignment": "DHCP"}),
    ("Marsa-5G", "WPA_PSK", None, {
        "security": "WPA_PSK", "key_stored": True, "key_type": "psk", "bssid": "0a:1b:2c:3d:4e:5f",
        "default_gateway_mac": "10:20:30:40:50:60", "randomized_mac": "02:00:00:00:00:00",
        "creator": "android.uid.system:1000", "config_key": '"Marsa-5G"WPA_PSK',
        "creation_time_text": "time=07-01 22:10:05.120", "hidden": True, "creator_uid": 1000, "associations": 7,
        "has_ever_connected": True, "selection_status": "NETWORK_SELECTION_ENABLED", "ip_assignment": "DHCP"}),
    ("مقهى الميناء", "SAE", "2023-11-14T22:15:23.456Z", {
        "security": "SAE", "key_stored": True, "key_type": "psk", "config_key": '"مقهى الميناء"SAE',
        "has_ever_connected": True, "created": "2023-07-22T04:26:40Z", "updated": "2023-09-18T01:20:00Z",
        "last_connected": "2023-11-14T22:15:23.456Z"}),
]


def _case_text(case_dir: Path) -> bytes:
    return (case_dir / "case.db").read_bytes() + b"".join(
        p.read_bytes() for p in case_dir.glob("case.db-wal"))


def test_wifi_config_store_networks_without_their_keys(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / STORE, WIFI_CONFIG_STORE_XML)
    before = tree_hashes(ext)
    parse(cli, case_dir, ext, "W1")
    assert tree_hashes(ext) == before
    rows = records(cli, case_dir, "wifi")
    got = sorted(((r["value"], r["title"], r["time"], r["data"]) for r in rows), key=lambda t: t[0])
    assert got == sorted(EXPECTED, key=lambda t: t[0])
    assert {r["source"]["path"] for r in rows} == {"/" + STORE}
    assert sorted(r["source"]["row"] for r in rows) == [1, 2, 3] and rows[0]["source"]["table"] == "NetworkList"
    listing = cli("records", "--case", case_dir, "--format", "jsonl").stdout
    assert b"Marsa-5G" in _case_text(case_dir)            # the records are there to be searched…
    for secret in SECRETS:                                 # …and the keys are not
        assert secret not in listing and secret.encode() not in _case_text(case_dir)
    assert [(r["status"], r["warnings"]) for r in runs(cli, case_dir)] == [("parsed", [])]


def test_the_same_store_written_as_abx(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    body = WIFI_CONFIG_STORE_XML.split("?>", 1)[1]
    write(ext / APEX_STORE, abx_from_xml(body, _value_type))
    parse(cli, case_dir, ext, "W2")
    rows = records(cli, case_dir, "wifi")
    assert sorted((r["value"], r["title"], r["time"], r["data"]) for r in rows) == sorted(EXPECTED)
    assert {r["source"]["path"] for r in rows} == {"/" + APEX_STORE}


def test_wpa_supplicant_networks(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / SUPPLICANT, WPA_SUPPLICANT_CONF)
    parse(cli, case_dir, ext, "W3")
    rows = sorted(records(cli, case_dir, "wifi"), key=lambda r: r["source"]["row"])
    assert [(r["value"], r["title"], r["time"], r["data"], r["source"]["row"]) for r in rows] == [
        ("Hotel Sabratha", "WPA_PSK", None, {"security": "WPA_PSK", "key_stored": True, "key_type": "psk",
                                             "priority": 3}, 1),
        ("Marsa West", "NONE", None, {"security": "NONE", "key_stored": False, "ssid_hex": "4d617273612057657374",
                                      "bssid": "aa:bb:cc:dd:ee:ff", "priority": 1, "hidden": True}, 2),
    ]
    assert "passengers123" not in cli("records", "--case", case_dir, "--format", "jsonl").stdout


def test_hostile_and_damaged_files_are_warnings(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / STORE, '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                       "<WifiConfigStoreData>&b;</WifiConfigStoreData>")
    write(ext / APEX_STORE, WIFI_CONFIG_STORE_XML.replace("Cafe Zuwara", "Cafe & Bar"))   # bare '&'
    write(ext / SUPPLICANT, WPA_SUPPLICANT_CONF.rsplit("}", 1)[0])                          # last block cut
    out = parse(cli, case_dir, ext, "W4")
    assert "android.wifi" in out.stderr
    by_path = {r["path"]: r for r in runs(cli, case_dir)}
    assert by_path["/" + STORE]["warnings"] == [
        "table WifiConfigStoreData: not read: refused: DTDForbidden "
        "(DTDForbidden(name='d', system_id=None, public_id=None))"]
    assert by_path["/" + STORE]["counts"] == {}
    repaired = by_path["/" + APEX_STORE]
    assert repaired["counts"] == {"items": 3} and "escaping bare '&'" in repaired["warnings"][0]
    assert by_path["/" + SUPPLICANT]["warnings"] == [
        "table network: network block 2 is not closed (file cut short?): read as far as it goes"]
    ssids = sorted(r["value"] for r in records(cli, case_dir, "wifi"))
    assert ssids == ["Cafe & Bar", "Hotel Sabratha", "Marsa West", "Marsa-5G", "مقهى الميناء"]
