"""Device and SIM facts: system/vendor build.prop and telephony.db siminfo (Android 5.1 and 11 schemas)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from android_sys_fixtures import (SIMINFO_V5_SCHEMA, SIMINFO_V11_SCHEMA, SYSTEM_BUILD_PROP, VENDOR_BUILD_PROP,
                                  parse, records, runs, sqlite_db, write)

TELEPHONY = "data/user_de/0/com.android.providers.telephony/databases/telephony.db"
SIM_V11 = ("INSERT INTO siminfo (_id, icc_id, sim_id, display_name, carrier_name, number, mcc, mnc, mcc_string, "
           "mnc_string, card_id, iso_country_code, carrier_id, imsi, is_embedded) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


def test_build_prop_facts(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / "system/build.prop", SYSTEM_BUILD_PROP)
    write(ext / "vendor/build.prop", VENDOR_BUILD_PROP)
    write(ext / "system/etc/prop.default", "ro.product.model=not read\n")   # not a build.prop path
    parse(cli, case_dir, ext, "D1")
    facts = [(r["source"]["path"], r["source"]["row"], r["title"], r["value"], r["time"], r["data"])
             for r in records(cli, case_dir, "device")]
    system = sorted(f[1:] for f in facts if f[0] == "/system/build.prop")
    assert system == [
        (9, "build_id", "PPKS29.68-16-36-2", None, {"property": "ro.build.id"}),
        (10, "build_display", "PPKS29.68-16-36-2 release-keys", None, {"property": "ro.build.display.id"}),
        (11, "build_incremental", "31659", None, {"property": "ro.build.version.incremental"}),
        (12, "sdk", "28", None, {"property": "ro.build.version.sdk"}),
        (13, "android_version", "9", None, {"property": "ro.build.version.release"}),
        (14, "security_patch", "2019-05-01", None, {"property": "ro.build.version.security_patch"}),
        (16, "build_date", "1556793289", "2019-05-02T10:34:49Z", {"property": "ro.build.date.utc"}),
        (17, "build_type", "user", None, {"property": "ro.build.type"}),
        (18, "build_tags", "release-keys", None, {"property": "ro.build.tags"}),
        (19, "model", "motorola one", None, {"property": "ro.product.model"}),
        (20, "brand", "motorola", None, {"property": "ro.product.brand"}),
        (21, "product", "deen_retail", None, {"property": "ro.product.name"}),
        (22, "device", "deen_sprout", None, {"property": "ro.product.device"}),
        (25, "manufacturer", "motorola", None, {"property": "ro.product.manufacturer"}),
        (28, "thumbprint", "9/PPKS29.68-16-36-2/31659:user/release-keys", None, {"property": "ro.build.thumbprint"}),
    ]
    vendor = sorted(f[1:] for f in facts if f[0] == "/vendor/build.prop")
    assert vendor == [
        (2, "build_date", "1556793000", "2019-05-02T10:30:00Z",
         {"property": "ro.vendor.build.date.utc", "partition": "vendor"}),
        (3, "fingerprint", "motorola/deen_retail/deen_sprout:9/PPKS29.68-16-36-2/31659:user/release-keys", None,
         {"property": "ro.vendor.build.fingerprint", "partition": "vendor"}),
        (4, "security_patch", "2019-05-01", None, {"property": "ro.vendor.build.security_patch", "partition": "vendor"}),
        (5, "model", "motorola one", None, {"property": "ro.product.vendor.model", "partition": "vendor"}),
        (6, "manufacturer", "motorola", None, {"property": "ro.product.vendor.manufacturer", "partition": "vendor"}),
    ]
    assert len(facts) == 20


def test_a_build_prop_without_build_properties_is_a_warning(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / "system/build.prop", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    parse(cli, case_dir, ext, "D2")
    [run] = runs(cli, case_dir)
    assert run["warnings"] == ["no ro.product.* or ro.build.* property found (not a build.prop?)"]
    assert records(cli, case_dir, "device") == []


def test_sim_cards_android_11_schema(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    sqlite_db(ext / TELEPHONY, SIMINFO_V11_SCHEMA, [
        (SIM_V11, (1, "8921800012345678901", 0, "Libyana", "Libyana", "091 234 5678", 606, 1, "606", "01",
                   "8921800012345678901", "ly", 1911, "606010123456789", 0)),
        (SIM_V11, (2, "8944110068256270054", -1, "EE", "EE", "07700 900123", 234, 30, "234", "30",
                   "8944110068256270054", "gb", 1492, "234301234567890", 1)),
        (SIM_V11, (3, "89000000000000000000", 1, None, "Orange", "", 0, 0, None, None, "EID0001", None, -1, None, 0)),
    ])
    parse(cli, case_dir, ext, "S1")   # the case's region is LY
    sims = sorted(records(cli, case_dir, "sim"), key=lambda r: r["source"]["row"])
    assert [(s["value"], s["title"], s["data"]) for s in sims] == [
        ("+218912345678", "Libyana", {
            "iccid": "8921800012345678901", "imsi": "606010123456789", "display_name": "Libyana",
            "carrier": "Libyana", "country": "ly", "slot": 0, "card_id": "8921800012345678901", "carrier_id": 1911,
            "esim": False, "number_as_stored": "091 234 5678", "mcc": "606", "mnc": "01"}),
        ("+447700900123", "EE", {                                   # read for its own country, not the case's
            "iccid": "8944110068256270054", "imsi": "234301234567890", "display_name": "EE", "carrier": "EE",
            "country": "gb", "slot": -1, "card_id": "8944110068256270054", "carrier_id": 1492, "esim": True,
            "number_as_stored": "07700 900123", "mcc": "234", "mnc": "30"}),
        (None, "Orange", {"iccid": "89000000000000000000", "carrier": "Orange", "slot": 1, "card_id": "EID0001",
                          "carrier_id": -1, "esim": False}),
    ]
    assert sims[0]["source"] == {"path": "/" + TELEPHONY, "table": "siminfo", "row": 1}


def test_sim_cards_android_5_schema_and_a_telephony_db_without_siminfo(cli: Any, case_dir: Path,
                                                                      tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    sqlite_db(ext / "data/data/com.android.providers.telephony/databases/telephony.db", SIMINFO_V5_SCHEMA, [
        ("INSERT INTO siminfo (icc_id, sim_id, display_name, carrier_name, number, mcc, mnc) VALUES (?,?,?,?,?,?,?)",
         ("8921801111111111111", 0, "SIM 1", "Almadar", "٠٩٢١٢٣٤٥٦٧", 606, 0)),
    ])
    sqlite_db(ext / TELEPHONY, "CREATE TABLE carriers (_id INTEGER PRIMARY KEY, name TEXT, numeric TEXT)", [])
    parse(cli, case_dir, ext, "S2")
    [sim] = records(cli, case_dir, "sim")
    assert (sim["value"], sim["title"]) == ("+218921234567", "SIM 1")
    assert sim["data"] == {"iccid": "8921801111111111111", "display_name": "SIM 1", "carrier": "Almadar", "slot": 0,
                           "number_as_stored": "٠٩٢١٢٣٤٥٦٧", "mcc": "606", "mnc": "0"}
    by_path = {r["path"]: r["warnings"] for r in runs(cli, case_dir)}
    assert by_path["/" + TELEPHONY] == ["table siminfo: no siminfo table with _id and icc_id (unknown schema version)"]
