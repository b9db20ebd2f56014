"""`dalil serve` end to end in Debian's Chromium against a real case (FAT image, SMS extraction,
ad site and hostile page captures): search, filter, open a file, tag it (seen by `dalil tags`, `dalil
log` and the ledger), map, conversations, the hostile capture kept inert, screenshots of every page."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from casebuild import PHOTO_AT, dalil

pytestmark = [pytest.mark.chromium, pytest.mark.slow]


def _until(pg: Any, js: str, timeout: float = 20.0) -> None:
    """Wait until the expression `js` is true in the page (polled with page.evaluate: Playwright's own
    wait_for_function evaluates strings with eval, which the pages' CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not _true(pg, js):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {js}")
        pg.wait_for_timeout(100)


def _true(pg: Any, js: str) -> bool:
    """`js` evaluated in the page; False while a navigation (a filter form submitted by a click)
    replaces the document under the evaluation, so the next poll reads the new page."""
    from playwright.sync_api import Error

    try:
        return bool(pg.evaluate(js))
    except Error as exc:
        if "Execution context was destroyed" in str(exc) or "navigat" in str(exc).lower():
            return False
        raise


def _shot(pg: Any, artifacts: Path, name: str) -> None:
    pg.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def _no_leak(recorder: Any, seen: dict[str, list[str]]) -> None:
    assert recorder.refused == [], recorder.refused          # no request ever left this server
    assert seen["dialogs"] == [] and seen["errors"] == [], seen


def test_every_page_renders(ui: Any, artifacts: Path, server: Any) -> None:
    pg, recorder, seen = ui
    pg.wait_for_selector("#ledger-status")
    assert "PASS" in pg.inner_text("#ledger-status")
    assert {"SD-1", "PH-1", "WEB-1", "WEB-2"} <= set(pg.inner_text("#exhibits").split())
    _shot(pg, artifacts, "overview")
    for nav, marker, name in [("#nav-files", "#file-table", "files"), ("#nav-comms", "#threads", "comms"),
                              ("#nav-captures", "#captures", "captures"), ("#nav-timeline", "#histogram", "timeline"),
                              ("#nav-links", "#links", "links"), ("#nav-tags", "#tags", "tags")]:
        pg.click(nav)
        pg.wait_for_selector(marker)
        _shot(pg, artifacts, name)
    pg.goto(server.base + "/links")  # built by parse and collect: the SD card's advert and the phone's SMS
    row = pg.inner_text("#links tbody tr:first-child")
    assert "+218912345678" in row and "PH-1, SD-1" in row
    assert pg.locator("#links a[href^='/comms/message/']").count() >= 1  # an occurrence opens its record
    pg.goto(server.base + "/files?view=gallery")
    pg.wait_for_selector("#gallery img")
    _until(pg, "[...document.querySelectorAll('#gallery img')].some(i => i.complete && i.naturalWidth > 0)")
    _shot(pg, artifacts, "gallery")
    _no_leak(recorder, seen)


def test_search_filter_open_and_tag(ui: Any, artifacts: Path, server: Any, built: dict[str, Any]) -> None:
    pg, recorder, seen = ui
    pg.click("#nav-search")
    pg.fill("#search-q", "٠٩١-٢٣٤-٥٦٧٨")          # Arabic-Indic digits find the E.164 number's messages
    pg.press("#search-q", "Enter")
    pg.wait_for_selector("#search-results tr.hit")
    assert pg.locator("#search-results tr.hit.message").count() == 2
    assert "message" in pg.inner_text("#facets")
    _shot(pg, artifacts, "search")
    pg.fill("#search-q", "lampedusa")
    pg.press("#search-q", "Enter")
    pg.wait_for_selector("#search-results tr.hit.capture")
    pg.click("#facets >> text=capture")
    _until(pg, "document.querySelectorAll('#search-results tr.hit').length > 0 && "
                         "[...document.querySelectorAll('#search-results tr.hit')].every(r => r.classList.contains('capture'))")

    pg.click("#nav-files")
    pg.check("#flag-deleted")
    # the unfiltered page lists passengers.txt too: wait for the filtered one (a filter that never
    # applies times out here), then check it
    _until(pg, "document.querySelector('#file-table').innerText.includes('passengers') && "
               "!document.querySelector('#file-table').innerText.includes('IMG_0002')")
    assert "/NOTES/passengers.txt" in pg.inner_text("#file-table")
    assert "/DCIM/IMG_0002.JPG" not in pg.inner_text("#file-table")
    pg.uncheck("#flag-deleted")
    pg.fill("#filter-name", "IMG_0002")
    pg.press("#filter-name", "Enter")
    _until(pg, "document.querySelectorAll('#file-table tbody tr').length === 1 && "
                         "document.querySelector('#file-table').innerText.includes('IMG_0002')")
    pg.click("#file-table a")
    pg.wait_for_selector("#hashes")
    assert pg.inner_text("#file-path") == "/DCIM/IMG_0002.JPG"
    assert len(pg.inner_text("#sha256").strip()) == 64
    assert "ff d8 ff" in pg.inner_text("#hexdump")      # read back from the image through the walker
    assert "GPS" in pg.inner_text("#exif") or "GPS" in pg.content()
    pg.fill("#tag-label", "boat photo")
    pg.fill("#tag-note", "Sabratha beach, departure point")
    pg.click("#tag-submit")
    _until(pg, "document.querySelector('#tag-list').innerText.includes('boat photo')")
    _shot(pg, artifacts, "file")
    _no_leak(recorder, seen)

    env, case = built["env"], built["case"]
    tags = [json.loads(line) for line in dalil(env, "tags", "--case", case, "--format", "jsonl").stdout.splitlines()]
    mine = [t for t in tags if t["label"] == "boat photo"]
    assert len(mine) == 1 and mine[0]["path"] == "/DCIM/IMG_0002.JPG" and mine[0]["exhibit"] == "SD-1"
    assert mine[0]["examiner"] == "Browser Examiner" and mine[0]["note"] == "Sabratha beach, departure point"
    assert "tagged" in dalil(env, "log", "--case", case).stdout
    entries = [json.loads(line) for line in (case / "custody.jsonl").read_text(encoding="utf-8").splitlines()]
    tagged = [e for e in entries if e["action"] == "tagged" and e["details"]["label"] == "boat photo"]
    assert len(tagged) == 1 and tagged[0]["details"]["tag_id"] == mine[0]["id"]
    assert tagged[0]["examiner"] == "Browser Examiner"
    assert dalil(env, "verify", case).returncode == 0
    pg.goto(server.base + "/tags")
    assert "boat photo" in pg.inner_text("#tags") and f"seq {tagged[0]['seq']}" in pg.inner_text("#tags")


def test_map_and_thread(ui: Any, artifacts: Path, server: Any) -> None:
    pg, recorder, seen = ui
    pg.click("#nav-map")
    pg.wait_for_selector("#map[data-loaded]")
    assert pg.get_attribute("#map", "data-loaded") == "2"           # two pictures with GPS
    # the map is fitted to the points without animation: a click right after loading lands on the marker
    # (an animated zoom made this test fail at random: the click went where the marker was moving from)
    assert pg.evaluate("document.querySelector('.leaflet-zoom-anim') === null")
    pg.wait_for_selector("path.leaflet-interactive")
    assert pg.locator("path.leaflet-interactive").count() == 2
    # the bundled world outline is drawn (Natural Earth's 177 countries, no tile server)
    _until(pg, "document.querySelectorAll('.leaflet-overlay-pane svg path:not(.leaflet-interactive)').length > 100")
    pg.locator("path.leaflet-interactive").first.click(force=True)
    pg.wait_for_selector(".leaflet-popup-content a")
    assert "/DCIM/IMG_000" in pg.inner_text(".leaflet-popup-content")
    _shot(pg, artifacts, "map")

    pg.click("#nav-comms")
    pg.click("#threads a.thread-link >> nth=0")
    pg.wait_for_selector("#chat .msg")
    arabic = pg.locator("#chat .msg .body", has_text="متى يغادر القارب")
    assert arabic.get_attribute("dir") == "rtl"
    assert pg.locator("#chat img").count() == 0                       # the message's <img onerror> is text
    assert "<img src=x onerror=alert(1)>" in pg.inner_text("#chat")
    _shot(pg, artifacts, "thread")
    pg.goto(server.base + "/search?q=gnp")
    pg.wait_for_selector("#search-results tr.hit")
    assert "[U+202E]" in pg.inner_text("#search-results") and "\u202e" not in pg.content()
    _no_leak(recorder, seen)


def test_hostile_capture_is_inert(ui: Any, artifacts: Path, server: Any, built: dict[str, Any]) -> None:
    pg, recorder, seen = ui
    pg.click("#nav-captures")
    pg.click(f"#captures a[href^='/captures/'] >> text={built['hostile_url']}")
    pg.wait_for_selector("#replay")
    frame = pg.frame_locator("#replay")
    frame.locator("h1").wait_for()
    pg.wait_for_timeout(500)                      # time for an onerror handler or a script, had they run
    assert pg.get_attribute("#replay", "sandbox") == ""
    assert pg.evaluate("window.PWNED") is None
    assert not [c for c in seen["console"] if "PWNED" in c]
    frame.locator("#jslink").click(force=True)    # a javascript: link in a sandbox without scripts
    pg.wait_for_timeout(300)
    assert "[U+202E]" in pg.inner_text("#capture-title") and "\u202e" not in pg.inner_text("#capture-title")
    assert "+218915550101" in pg.inner_text("#indicators")
    assert pg.locator("#screenshot").evaluate("i => i.naturalWidth") > 0
    _shot(pg, artifacts, "capture-hostile")
    _no_leak(recorder, seen)
    assert not [u for u in recorder.requests if "198.51.100.7" in u]  # never even asked for


def test_ad_capture_page(ui: Any, artifacts: Path, built: dict[str, Any]) -> None:
    pg, recorder, seen = ui
    pg.click("#nav-captures")
    pg.click(f"#captures a >> text={built['ad_url']}")
    pg.wait_for_selector("#provenance")
    assert "WEB-1" in pg.inner_text("#provenance")
    _until(pg, "document.querySelector('#screenshot') && document.querySelector('#screenshot').naturalWidth > 0")
    _shot(pg, artifacts, "capture")
    _no_leak(recorder, seen)


def test_timeline_zoom(ui: Any, server: Any) -> None:
    pg, recorder, seen = ui
    pg.click("#nav-timeline")
    pg.click("#histogram a.bar >> text=2023")      # the SMS messages of November 2023
    pg.wait_for_selector("#histogram a.bar >> text=2023-11")
    assert "sms message" in pg.inner_text("#events")
    _no_leak(recorder, seen)


def test_photo_position(built: dict[str, Any]) -> None:
    rows = [json.loads(line) for line in dalil(built["env"], "files", "--case", built["case"], "--has-gps",
                                              "--format", "jsonl").stdout.splitlines()]
    got = {r["path"]: r["gps"] for r in rows}
    assert abs(got["/DCIM/IMG_0002.JPG"]["lat"] - PHOTO_AT[0]) < 1e-3


def test_portable_viewer_from_file_url(chromium: Any, artifacts: Path, built: dict[str, Any], tmp_path: Path) -> None:
    import zipfile

    env, case = built["env"], built["case"]
    dalil(env, "tag", "--exhibit", "SD-1", "/DCIM/IMG_0002.JPG", "--label", "viewer photo", "--case", case)
    dalil(env, "tag", "--capture", built["ad_url"], "--label", "smuggling ad \u202eevil", "--case", case)
    bundle = tmp_path / "bundle.zip"
    dalil(env, "bundle", "--out", bundle, "--case", case)
    assert dalil(env, "verify", bundle).returncode == 0              # the viewer is inside the signed bag
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        manifest = zf.read("bundle/manifest-sha256.txt").decode()
        zf.extractall(tmp_path / "open")
    assert "bundle/data/viewer/index.html" in names
    assert "data/viewer/index.html" in manifest and "data/viewer/thumbs/" in manifest
    index = tmp_path / "open/bundle/data/viewer/index.html"
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("dialog", lambda d: (problems.append(d.message), d.dismiss()))
    pg.goto(index.as_uri())
    pg.wait_for_selector("#map[data-loaded]")
    card = pg.locator(".tagged-file", has_text="viewer photo")
    assert card.count() == 1 and "/DCIM/IMG_0002.JPG" in card.inner_text()
    assert card.locator("img").evaluate("i => i.naturalWidth") > 0     # the thumbnail, from the bag
    ad = pg.locator(".capture.tagged", has_text=built["ad_url"])
    assert "smuggling ad [U+202E]evil" in ad.inner_text()
    assert ad.locator("img.shot").evaluate("i => i.naturalWidth") > 0  # its screenshot, from the bag
    assert "متى يغادر القارب" in pg.inner_text("#chats") and pg.locator("#chats img").count() == 0
    assert pg.get_attribute("#map", "data-loaded") == "2"
    pg.screenshot(path=str(artifacts / "viewer.png"), full_page=True)
    context.close()
    assert problems == []
    assert requests and all(u.startswith("file://") for u in requests), [u for u in requests if not u.startswith("file:")]
