"""Issue 14's bar: a parsed phone extraction and a captured ad site that share numbers written
differently; `dalil links` finds every shared entity and only those, and a re-compressed copy of a
photo links by perceptual hash while an unrelated photo does not."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from links_helpers import SMS_DIR, jsonl, recompress, serve, sms_db

WALLET = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # USDT-TRC20, base58check valid
AD = ("<!doctype html><html><head><meta charset='utf-8'><title>رحلة مضمونة</title></head><body dir='rtl'>"
      "<h1>رحلة مضمونة إلى لامبيدوزا</h1><p>للحجز اتصل +218 91 234 5678 أو ٠٩١٢٣٤٥٦٧٨"
      " — <a href='https://wa.me/218912345678'>واتساب</a></p>"
      f"<p>الدفع USDT TRC20: {WALLET}</p><p>Telegram @boat_captain_ly, captain.boat@mail.ly</p>"
      "<img src='/img/boat.jpg' alt='boat'><img src='/img/sea.jpg' alt='sea'></body></html>")


@pytest.fixture
def linked_case(cli: Any, case_dir: Path, tmp_path: Path, testdata: Callable[[str], Path]) -> dict[str, Any]:
    boat = testdata("exif/jpg/gps/DSCN0010.jpg").read_bytes()
    other = testdata("exif/jpg/gps/DSCN0021.jpg").read_bytes()
    sea = testdata("exif/jpg/gps/DSCN0040.jpg").read_bytes()
    ext = tmp_path / "extraction"
    sms_db(ext / SMS_DIR, [
        (1, "0912345678", 1, f"القارب جاهز، حوّل على المحفظة {WALLET}"),
        (2, "0923456789", 2, "see t.me/other_channel for the next trip"),
    ])
    (ext / "sdcard/DCIM").mkdir(parents=True)
    (ext / "sdcard/DCIM/boat.jpg").write_bytes(boat)
    (ext / "sdcard/DCIM/family.jpg").write_bytes(other)
    cli("parse", ext, "--exhibit", "PH-001", "--case", case_dir, "--no-yara")
    pages = {"/ad.html": ("text/html; charset=utf-8", AD.encode()),
             "/img/boat.jpg": ("image/jpeg", recompress(boat)), "/img/sea.jpg": ("image/jpeg", sea)}
    with serve(pages) as base:
        cli("collect", f"{base}/ad.html", "--exhibit", "WEB-001", "--depth", "0", "--no-screenshot",
            "--ignore-robots", "--case", case_dir)
    return {"case": case_dir, "boat": boat, "base": base}


def test_every_shared_entity_and_only_those(cli: Any, linked_case: dict[str, Any]) -> None:
    case_dir = linked_case["case"]
    rows = jsonl(cli("links", "--format", "jsonl", "--case", case_dir))
    assert [(r["kind"], r["exhibits"]) for r in rows] == [
        ("wallet", ["PH-001", "WEB-001"]), ("phone", ["PH-001", "WEB-001"]), ("image", ["PH-001", "WEB-001"])]
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["phone"]["value"] == "+218912345678" and by_kind["wallet"]["value"] == WALLET
    phone = by_kind["phone"]
    assert {(o["exhibit"], o["source"], o["role"]) for o in phone["occurrences"]} == {
        ("PH-001", "message", "sender"), ("WEB-001", "capture", "link,text")}  # one occurrence per place
    sms = next(o for o in phone["occurrences"] if o["source"] == "message")
    assert sms["ref"] == f"/{SMS_DIR}/mmssms.db sms:1 thread sms:1" and sms["time"].startswith("2026-")
    capture = next(o for o in phone["occurrences"] if o["source"] == "capture")
    assert capture["ref"].startswith(f"{linked_case['base']}/ad.html <urn:uuid:")  # URL and WARC record id
    image = by_kind["image"]
    places = sorted((o["exhibit"], o["ref"].split(" ")[0]) for o in image["occurrences"])
    assert places == [("PH-001", "/sdcard/DCIM/boat.jpg"), ("WEB-001", f"{linked_case['base']}/img/boat.jpg")]
    hashes = [o["detail"]["phash"] for o in image["occurrences"]]
    from triage.links.phash import THRESHOLD, distance

    assert distance(*hashes) <= THRESHOLD and image["value"] == "phash:" + min(hashes)
    assert image["occurrences"][0]["detail"]["sha256"] != image["occurrences"][1]["detail"]["sha256"]

    # strongest first: the wallet and the number are in a message and a capture, the photo in a file and a capture
    assert rows[0]["sources"] == ["capture", "message"] and rows[2]["sources"] == ["capture", "file"]
    # what is in one exhibit only is indexed, not linked
    singles = jsonl(cli("links", "--min-exhibits", "1", "--format", "jsonl", "--case", case_dir))
    alone = {(r["kind"], r["value"]) for r in singles if len(r["exhibits"]) == 1}
    assert {("phone", "+218923456789"), ("handle", "@other_channel"), ("handle", "@boat_captain_ly"),
            ("email", "captain.boat@mail.ly")} <= alone
    assert len([r for r in singles if r["kind"] == "image"]) == 3  # boat (linked), family photo, sea photo


def test_any_written_form_finds_the_number(cli: Any, linked_case: dict[str, Any]) -> None:
    for written in ("0912345678", "+218 91 234 5678", "٠٩١٢٣٤٥٦٧٨", "00218912345678", "091-234-5678",
                    "\u200f+218 (91) 234-5678\u200e", "https://wa.me/218912345678"):
        rows = jsonl(cli("links", "--entity", written, "--format", "jsonl", "--case", linked_case["case"]))
        assert {r["value"] for r in rows} == {"+218912345678"}, written
        assert {(r["exhibit"], r["source"]) for r in rows} == {("PH-001", "message"), ("WEB-001", "capture")}
    wallet = jsonl(cli("links", "--entity", WALLET, "--format", "jsonl", "--case", linked_case["case"]))
    assert {(r["kind"], r["exhibit"]) for r in wallet} == {("wallet", "PH-001"), ("wallet", "WEB-001")}
    image = jsonl(cli("links", "--entity", "sha256:" + __import__("hashlib").sha256(linked_case["boat"]).hexdigest(),
                      "--format", "jsonl", "--case", linked_case["case"]))
    assert {r["exhibit"] for r in image} == {"PH-001", "WEB-001"}  # the phone's photo finds the ad's copy
    nothing = cli("links", "--entity", "0945555555", "--format", "jsonl", "--case", linked_case["case"])
    assert nothing.stdout == "" and "no occurrence" in nothing.stderr


def test_filters_and_formats(cli: Any, linked_case: dict[str, Any]) -> None:
    case_dir = linked_case["case"]
    assert [r["kind"] for r in jsonl(cli("links", "--kind", "phone", "--format", "jsonl", "--case", case_dir))] == ["phone"]
    assert len(jsonl(cli("links", "--exhibit", "PH-001", "--format", "jsonl", "--case", case_dir))) == 3
    assert jsonl(cli("links", "--min-exhibits", "3", "--format", "jsonl", "--case", case_dir)) == []
    csv_text = cli("links", "--format", "csv", "--case", case_dir).stdout
    assert csv_text.splitlines()[0] == "kind,value,exhibits,count,first_seen,last_seen,occurrences,sources"
    table = cli("links", "--case", case_dir).stdout
    assert "Links between exhibits" in table and "wallet" in table and "PH-001" in table
    cli("links", "--kind", "person", "--case", case_dir, code=2)
    cli("links", "--exhibit", "NOPE", "--case", case_dir, code=1)
    cli("links", "--graph", "--case", case_dir, code=2)  # needs --out


def test_rebuild_gives_the_same_links_and_is_recorded(cli: Any, linked_case: dict[str, Any]) -> None:
    case_dir = linked_case["case"]
    before = cli("links", "--format", "jsonl", "--min-exhibits", "1", "--case", case_dir).stdout
    out = cli("links", "--rebuild", "--reason", "index check", "--case", case_dir).stdout
    assert "PH-001:" in out and "WEB-001:" in out
    assert cli("links", "--format", "jsonl", "--min-exhibits", "1", "--case", case_dir).stdout == before
    import json

    entries = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    assert entries[-1]["action"] == "links-rebuilt" and entries[-1]["reason"] == "index check"
    assert set(entries[-1]["details"]["exhibits"]) == {"PH-001", "WEB-001"}
    parsed = next(e for e in entries if e["action"] == "parsed")
    assert parsed["details"]["links"]["by_kind"]["phone"] == 2  # the parse's own entry says what it indexed
    captured = next(e for e in entries if e["action"] == "captured")
    assert captured["details"]["links"]["by_kind"]["wallet"] == 1
    cli("verify", case_dir)
