"""Chrome and Samsung Internet history: plaso's real History databases placed where the phone keeps them,
read through `dalil parse` and `dalil records`; counts and values as plaso's own tests assert them."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any, Callable

from android_sys_fixtures import parse, records, runs, tree_hashes

CHROME = "data/data/com.android.chrome/app_chrome/Default/History"
SBROWSER = "data/data/com.sec.android.app.sbrowser/app_sbrowser/Default/History"
EDGE = "data/data/com.microsoft.emmx/app_chrome/Default/History"


def _place(testdata: Callable[[str], Path], name: str, ext: Path, where: str) -> Path:
    """A copy of a shared History (with its -wal/-journal, if any) at `where` inside the extraction."""
    source = testdata(f"phone/android/plaso/chrome/{name}")
    target = ext / where
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-journal"):
        if Path(str(source) + suffix).exists():
            shutil.copyfile(str(source) + suffix, str(target) + suffix)
    return target


def test_visits_downloads_and_searches_of_two_browsers(cli: Any, case_dir: Path, tmp_path: Path,
                                                        testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    _place(testdata, "History", ext, CHROME)                  # Chrome 8-era schema (meta.version 20)
    _place(testdata, "History-59.0.3071.86", ext, SBROWSER)   # Chrome 59 schema (meta.version 36)
    before = tree_hashes(ext)
    parse(cli, case_dir, ext, "PH1")
    assert tree_hashes(ext) == before

    visits = records(cli, case_dir, "visit")
    assert len(visits) == 70
    assert {v["app"] for v in visits} == {"chrome", "samsung-internet"}
    assert sum(v["app"] == "chrome" for v in visits) == 69   # plaso: 69 visits (urls JOIN visits)
    first = next(v for v in visits if v["source"]["row"] == 1 and v["app"] == "chrome")
    assert (first["time"], first["title"], first["value"]) == (
        "2011-04-07T12:03:11Z", "Ubuntu Start Page", "http://start.ubuntu.com/10.04/Google/")
    assert first["data"]["visit_count"] == 4 and first["data"]["transition"] == "link"
    assert first["data"]["transition_qualifiers"] == ["chain_start", "chain_end"]
    assert first["source"] == {"path": "/" + CHROME, "table": "visits", "row": 1}
    samsung = next(v for v in visits if v["app"] == "samsung-internet")
    assert samsung["value"] == "https://raw.githubusercontent.com/dfirlabs/chrome-specimens/master/generate-specimens.sh"
    assert samsung["time"] == "2018-01-21T14:08:52.037692Z"
    assert samsung["data"]["transition"] == "auto_toplevel"

    downloads = records(cli, case_dir, "download")
    assert [(d["app"], d["time"], d["title"], d["data"]["size"]) for d in downloads] == [
        ("chrome", "2011-05-23T08:35:30Z", "/home/john/Downloads/funcats_scr.exe", 1132155),
        ("chrome", "2011-05-23T08:36:05Z", "/home/john/Downloads/Cats Demo.exe", 1308799),
        ("samsung-internet", "2018-01-21T14:08:51.811123Z", "/home/ubuntu/Downloads/plaso-20171231.1.win32.msi",
         3080192),
    ]
    msi = downloads[2]
    assert msi["value"] == "https://raw.githubusercontent.com/log2timeline/l2tbinaries/master/win32/plaso-20171231.1.win32.msi"
    assert msi["data"]["end"] == "2018-01-21T14:08:52.662377Z"
    assert msi["data"]["state"] == "complete" and msi["data"]["mime_type"] == "application/octet-stream"
    assert msi["data"]["url_chain"] == [msi["value"]]
    assert msi["source"] == {"path": "/" + SBROWSER, "table": "downloads", "row": 1}
    assert downloads[0]["value"] == "http://fatloss4idiotsx.com/download/funcats/funcats_scr.exe"

    searches = records(cli, case_dir, "search")
    assert [(s["value"], s["time"]) for s in searches] == [
        ("funny cats", "2011-05-23T08:34:40.436195Z"),
        ("really really funny cats", "2011-05-23T08:34:48.648849Z"),
        ("funnycats.exe", "2011-05-23T08:34:56.327602Z"),
    ]
    assert searches[0]["data"]["url"] == "http://www.google.ch/search?sourceid=chrome&ie=UTF-8&q=funny+cats"

    done = runs(cli, case_dir)
    assert [(r["parser"], r["counts"], r["status"], r["warnings"]) for r in done] == [
        ("android.chrome_history", {"items": 74}, "parsed", []),
        ("android.chrome_history", {"items": 2}, "parsed", []),
    ]


def test_other_chromium_browsers_are_named_by_their_package(cli: Any, case_dir: Path, tmp_path: Path,
                                                             testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    _place(testdata, "History-59.0.3071.86", ext, EDGE)
    parse(cli, case_dir, ext, "PH2")
    assert [d["app"] for d in records(cli, case_dir, "download")] == ["edge"]


def test_unknown_columns_and_a_damaged_table_are_warnings(cli: Any, case_dir: Path, tmp_path: Path,
                                                          testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    changed = _place(testdata, "History-59.0.3071.86", ext, CHROME)
    db = sqlite3.connect(changed)   # a later schema this parser does not know: downloads lose target_path
    db.execute("ALTER TABLE downloads RENAME COLUMN target_path TO target")
    db.commit()
    db.close()
    damaged = _place(testdata, "History", ext, SBROWSER)
    with open(damaged, "r+b") as fh:  # page 35 (page size 1024) is the root page of `downloads`
        fh.seek(34 * 1024)
        fh.write(b"\xff" * 1024)
    out = parse(cli, case_dir, ext, "PH3")
    assert "table downloads" in out.stderr
    visits = records(cli, case_dir, "visit")
    assert sum(v["app"] == "chrome" for v in visits) == 1 and sum(v["app"] == "samsung-internet" for v in visits) == 69
    assert len(records(cli, case_dir, "search")) == 3      # the tables after the damaged one are still read
    assert records(cli, case_dir, "download") == []
    by_path = {r["path"]: r for r in runs(cli, case_dir)}
    assert by_path["/" + CHROME]["warnings"] == [
        "table downloads: downloads table with columns this parser does not know (unknown schema version)"]
    assert by_path["/" + SBROWSER]["warnings"] == [
        "table downloads: reading stopped: database disk image is malformed"]
    assert {r["status"] for r in by_path.values()} == {"parsed"}


def test_a_cut_short_database_is_one_warning(cli: Any, case_dir: Path, tmp_path: Path,
                                             testdata: Callable[[str], Path]) -> None:
    ext = tmp_path / "ext"
    cut = _place(testdata, "History", ext, CHROME)
    cut.write_bytes(cut.read_bytes()[:3 * 1024])           # the file ends after 3 of its 78 pages
    (ext / "sdcard").mkdir()
    (ext / "sdcard" / "note.txt").write_text("meet at the port")
    parse(cli, case_dir, ext, "PH4")
    [run] = runs(cli, case_dir)
    assert run["status"] == "unreadable" and run["counts"] == {}
    assert run["warnings"] == ["SQLite cannot open it: database disk image is malformed"]
