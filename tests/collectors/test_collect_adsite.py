"""`dalil collect` against the local ad site: WARC, hashes, screenshots, indicators, ledger."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from collect_helpers import check_captures_against_warc, jsonl, rows
from collectors.adsite import AdSite, phone

CAPTURE_FIELDS = ["url", "captured_at", "status", "sha256", "warc", "warc_record_id", "screenshot_sha256", "title",
                  "text", "indicators", "post_id"]


@pytest.mark.chromium
def test_collect_ad_site(cli, case_dir: Path, adsite: AdSite) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs /usr/bin/chromium")
    result = cli("collect", adsite.url, "--exhibit", "WEB-001", "--depth", "1", "--case", case_dir,
                 "--reason", "warrant 12/2026")
    assert "7 page(s)" in result.stdout

    caps = jsonl(cli("captures", "--exhibit", "WEB-001", "--format", "jsonl", "--case", case_dir).stdout)
    assert len(caps) == 7  # the listing and its six ads
    for cap in caps:
        assert set(CAPTURE_FIELDS) <= set(cap)
        assert cap["status"] == 200 and cap["captured_at"].endswith("Z")
    ads = {c["url"].rsplit("/", 1)[1]: c for c in caps if "/ad/" in c["url"]}
    assert sorted(ads) == [f"{n}.html" for n in range(6)]
    for n in range(6):
        ind = ads[f"{n}.html"]["indicators"]
        assert ind["phones"] == [phone(n)]  # Arabic-Indic digits, '00' forms and wa.me links all agree
        assert ind["prices"][0]["currency"] == "EUR" and ind["prices"][0]["amount"] == 2000 + 100 * n
        assert ind["places"]
        assert ind["profiles"] == [f"{adsite.url}user/{n % 7}.html"]  # the seller's profile link
    assert ads["1.html"]["indicators"]["handles"] == ["@passeur_1"]
    assert "https://wa.me/218910000000" in ads["0.html"]["indicators"]["links"]

    # Screenshots: a PNG per page, stored under its SHA-256, with browser, viewport and time zone.
    shot = rows(case_dir, "SELECT screenshot_sha256, details FROM captures WHERE url LIKE '%/ad/0.html'")[0]
    png = (case_dir / "objects" / shot["screenshot_sha256"][:2] / shot["screenshot_sha256"]).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and hashlib.sha256(png).hexdigest() == shot["screenshot_sha256"]
    info = json.loads(shot["details"])["screenshot"]
    assert info["browser"].startswith("Chromium ") and info["viewport"] == {"width": 1280, "height": 900}
    assert info["timezone"] == "UTC"

    # Every capture's and resource's hash equals its WARC record's payload and its stored object.
    assert check_captures_against_warc(case_dir) >= 14  # 7 pages + 6 images + robots.txt
    warc = case_dir / caps[0]["warc"]
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(warc)], capture_output=True, text=True)
    if check.returncode != 0 and "No module named" in check.stderr:
        check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", str(warc)],
                               capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    # The WARC is the exhibit's evidence file; one `captured` entry in the ledger names it.
    ev = rows(case_dir, "SELECT kind, sha256, path FROM evidence WHERE exhibit = 'WEB-001'")[0]
    assert ev["kind"] == "web" and ev["path"] == caps[0]["warc"]
    assert hashlib.sha256(warc.read_bytes()).hexdigest() == ev["sha256"]
    entries = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    captured = [e for e in entries if e["action"] == "captured"]
    assert len(captured) == 1
    assert captured[0]["subject"] == {"exhibit": "WEB-001", "sha256": "sha256:" + ev["sha256"]}
    assert captured[0]["reason"] == "warrant 12/2026"
    hashlist = (case_dir / "objects" / captured[0]["details"]["hashlist_sha256"][:2]
                / captured[0]["details"]["hashlist_sha256"]).read_text()
    for cap in caps:
        assert cap["sha256"] in hashlist
    cli("verify", case_dir)


def test_warcinfo_and_records(cli, case_dir: Path, adsite: AdSite) -> None:
    cli("collect", adsite.url + "ad/3.html", "--exhibit", "WEB-002", "--depth", "0", "--no-screenshot",
        "--ignore-robots", "--user-agent", "TestAgent/1.0", "--case", case_dir)
    warc = case_dir / rows(case_dir, "SELECT warc FROM collections")[0]["warc"]
    from collect_helpers import warc_payloads

    records = list(warc_payloads(warc).values())
    info = records[0][2].decode()
    assert records[0][0] == "warcinfo"
    assert "http-header-user-agent: TestAgent/1.0" in info and "robots: ignore" in info
    assert "re-serialises" in info and "operator: Test Examiner" in info
    assert "dalil-accept-encoding: gzip, deflate" in info
    types = [r[0] for r in records]
    assert types.count("response") == 2 and types.count("request") == 2  # the ad and its image, no robots.txt
    request = next(r for r in records if r[0] == "request")
    with open(warc, "rb") as fh:
        from warcio.archiveiterator import ArchiveIterator

        for rec in ArchiveIterator(fh):
            if rec.rec_type == "response":
                assert rec.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
                assert rec.rec_headers.get_header("WARC-Date").endswith("Z")
            if rec.rec_type == "request":
                assert rec.http_headers.get_header("User-Agent") == "TestAgent/1.0"
                assert rec.http_headers.get_header("Accept-Encoding") == "gzip, deflate"  # no br: warcio reads it
                assert rec.http_headers.get_header("Host").startswith("127.0.0.1:")
                assert rec.rec_headers.get_header("WARC-Concurrent-To")
    assert request


def test_collect_refuses_bad_input(cli, case_dir: Path, tmp_path: Path) -> None:
    assert "not an http(s) URL" in cli("collect", "ftp://x/", "--exhibit", "W", "--case", case_dir, code=2).stderr
    assert "unknown spider" in cli("collect", "http://127.0.0.1:9/", "--exhibit", "W", "--spider", "nope",
                                   "--case", case_dir, code=2).stderr
    assert "not a size" in cli("collect", "http://127.0.0.1:9/", "--exhibit", "W", "--max-size", "lots",
                               "--case", case_dir, code=2).stderr
    assert "--exhibit" in cli("collect", "http://127.0.0.1:9/", "--case", case_dir, code=2).stderr
    assert "invalid exhibit" in cli("collect", "http://127.0.0.1:9/", "--exhibit", "../x", "--no-screenshot",
                                    "--case", case_dir, code=2).stderr
    disk = tmp_path / "disk.bin"
    disk.write_bytes(b"\0" * 1024)
    cli("evidence", "add", disk, "--exhibit", "DISK-1", "--case", case_dir)
    assert "not a web collection" in cli("collect", "http://127.0.0.1:9/", "--exhibit", "DISK-1",
                                         "--case", case_dir, code=2).stderr
    assert "proxy socks5h://127.0.0.1:9 unreachable" in cli(
        "collect", "http://127.0.0.1:9/", "--exhibit", "W", "--proxy", "socks5h://127.0.0.1:9", "--no-screenshot",
        "--case", case_dir, code=1).stderr


def test_missing_chromium_is_a_warning(cli, case_dir: Path, adsite: AdSite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DALIL_CHROMIUM", "/nonexistent/chromium")
    result = cli("collect", adsite.url + "ad/0.html", "--exhibit", "WEB-N", "--depth", "0", "--case", case_dir)
    assert "Chromium not found" in result.stderr
    caps = jsonl(cli("captures", "--format", "jsonl", "--case", case_dir).stdout)
    assert len(caps) == 1 and caps[0]["screenshot_sha256"] is None and caps[0]["sha256"]
    assert any("Chromium not found at /nonexistent/chromium" in w["message"]
               for w in rows(case_dir, "SELECT message FROM warnings WHERE exhibit = 'WEB-N'"))


def test_client_hanging_up_is_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    """A browser closing a page mid-answer (BrokenPipe, reset) must not print a traceback (the demo's
    output is read by investigators, and the demo test refuses tracebacks); other errors still print."""
    with AdSite(ads=1) as site:
        for exc in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
            try:
                raise exc
            except ConnectionError:
                site.server.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a real bug")
        except ValueError:
            site.server.handle_error(None, ("127.0.0.1", 1))
        assert "a real bug" in capsys.readouterr().err
