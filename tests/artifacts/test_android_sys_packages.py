"""Installed apps: packages.xml as text (Android ≤ 11 layout) and as ABX (Android 14 layout), packages.list
for what packages.xml does not list, and broken files as warnings, all through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from android_sys_fixtures import (PACKAGE_RESTRICTIONS_A14, PACKAGES_LIST, PACKAGES_XML, package_restrictions_abx,
                                  packages_abx, parse, records, runs, write)

XML = "data/system/packages.xml"
LIST = "data/system/packages.list"


def test_text_packages_xml_and_list(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / XML, PACKAGES_XML)
    write(ext / LIST, PACKAGES_LIST)
    parse(cli, case_dir, ext, "A1")
    apps = {r["value"]: r for r in records(cli, case_dir, "app")}
    assert sorted(apps) == ["com.android.providers.telephony", "com.example.sideloaded", "com.whatsapp",
                            "org.telegram.messenger.web"]
    whatsapp = apps["com.whatsapp"]
    assert (whatsapp["title"], whatsapp["time"]) == ("com.android.vending", "2020-05-20T18:40:00Z")
    assert whatsapp["data"] == {
        "version_code": 201292004, "code_path": "/data/app/com.whatsapp-Xk2Q7w==", "uid": 10153,
        "first_install": "2020-05-20T18:40:00Z", "last_update": "2020-09-13T12:26:40Z",
        "apk_modified": "2020-09-13T12:26:40Z", "time_is": "first_install", "installer": "com.android.vending",
        "system": False, "updated_system": False,
        "permissions": ["android.permission.INTERNET", "android.permission.RECEIVE_SMS"]}
    assert whatsapp["source"] == {"path": "/" + XML, "table": "package", "row": 1}
    telegram = apps["org.telegram.messenger.web"]
    assert telegram["title"] == "com.android.packageinstaller"
    assert telegram["data"]["install_initiator"] == "com.android.chrome"     # side-loaded from a browser download
    assert telegram["time"] == "2022-04-15T05:20:00Z"
    provider = apps["com.android.providers.telephony"]
    assert provider["title"] is None and provider["time"] == "2009-01-01T00:00:00Z"
    assert {k: provider["data"][k] for k in ("system", "updated_system", "shared_uid", "uid")} == {
        "system": True, "updated_system": True, "shared_uid": True, "uid": 1001}
    listed = apps["com.example.sideloaded"]                                   # only in packages.list
    assert listed["data"] == {"uid": 10250, "debuggable": True, "data_dir": "/data/user/0/com.example.sideloaded",
                              "seinfo": "default:targetSdkVersion=28", "version_code": 7, "from": "packages.list"}
    assert listed["source"] == {"path": "/" + LIST, "table": None, "row": 4}
    assert sorted((r["path"], r["counts"]) for r in runs(cli, case_dir)) == [
        ("/" + LIST, {"items": 1}), ("/" + XML, {"items": 3})]


def test_abx_packages_xml_of_android_14(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / XML, packages_abx())
    assert (ext / XML).read_bytes()[:4] == b"ABX\x00"
    parse(cli, case_dir, ext, "A2")
    apps = sorted(records(cli, case_dir, "app"), key=lambda r: r["source"]["row"])
    assert [(a["value"], a["title"], a["time"]) for a in apps] == [
        ("com.whatsapp", "com.android.vending", "2024-07-03T09:46:40Z"),
        ("com.example.تطبيق", None, "2024-03-09T16:00:00Z"),
    ]
    assert apps[0]["data"] == {
        "version_code": 241012003, "code_path": "/data/app/~~Q1w2e3==/com.whatsapp-R5t6y7==", "uid": 10214,
        "first_install": None, "last_update": "2024-07-03T09:46:40Z", "apk_modified": "2024-07-03T09:46:40Z",
        "time_is": "last_update", "installer": "com.android.vending", "install_initiator": "com.android.vending",
        "target_sdk": 34, "system": False, "updated_system": False,
        "permissions": ["android.permission.RECORD_AUDIO"]}
    assert [(r["status"], r["warnings"]) for r in runs(cli, case_dir)] == [("parsed", [])]


def test_android_14_first_install_times_per_user(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / XML, packages_abx())
    write(ext / "data/system/users/0/package-restrictions.xml", package_restrictions_abx())
    write(ext / "data/system/users/10/package-restrictions.xml",      # a second user (work profile)
          package_restrictions_abx(PACKAGE_RESTRICTIONS_A14.replace("17233629c00", "18bcfe56800")
                                   .replace('<pkg name="com.example', '<pkg name="not.installed.here')))
    parse(cli, case_dir, ext, "A5")
    apps = sorted(records(cli, case_dir, "app"), key=lambda r: r["source"]["row"])
    assert [(a["value"], a["time"], a["data"]["time_is"], a["data"]["first_install_by_user"]) for a in apps] == [
        ("com.whatsapp", "2020-05-20T18:40:00Z", "first_install",
         {"0": "2020-05-20T18:40:00Z", "10": "2023-11-14T22:13:20Z"}),
        ("com.example.تطبيق", "2024-03-09T16:00:00Z", "first_install", {"0": "2024-03-09T16:00:00Z"}),
    ]
    assert [r["path"] for r in runs(cli, case_dir)] == ["/" + XML]     # read beside packages.xml, not on its own


def test_broken_packages_files_are_warnings_and_the_list_stands_in(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / XML, packages_abx()[:200])                     # ABX cut short
    write(ext / LIST, PACKAGES_LIST + "garbage\n")
    parse(cli, case_dir, ext, "A3")
    by_path = {r["path"]: r for r in runs(cli, case_dir)}
    [warning] = by_path["/" + XML]["warnings"]
    assert warning.startswith("table packages: not read: ABX truncated at byte ")
    assert by_path["/" + LIST]["warnings"] == [
        "table packages.list: line 5 does not have the name, uid, debuggable, data-folder layout"]
    assert sorted(r["value"] for r in records(cli, case_dir, "app")) == [
        "com.android.providers.telephony", "com.example.sideloaded", "com.whatsapp", "org.telegram.messenger.web"]


def test_an_xml_that_is_not_a_package_list(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    write(ext / XML, "<settings><setting id='1' name='x' value='y'/></settings>")
    parse(cli, case_dir, ext, "A4")
    [run] = runs(cli, case_dir)
    assert run["warnings"] == ["table packages: not read: root element is 'settings', not 'packages' "
                               "(unknown layout)"]
    assert records(cli, case_dir, "app") == []
