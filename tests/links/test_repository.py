"""The lab repository on SQLite and on a real PostgreSQL, the same tests: two cases find each other,
a push replaces the case's rows and is in the ledger, nothing but values, kinds and places leaves a case."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

import pytest

from links_helpers import jsonl, recompress
from triage.links.repository import open_repository, redact


def _case(cli: Any, root: Path, case_id: str, files: dict[str, bytes], exhibit: str) -> Path:
    case = root / case_id
    cli("case", "init", case, "--case-id", case_id, "--title", "t", "--examiner", "Test Examiner")
    folder = root / f"{case_id}-{exhibit}"
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    cli("parse", folder, "--exhibit", exhibit, "--case", case, "--no-yara")
    return case


@pytest.fixture
def two_cases(cli: Any, tmp_path: Path, testdata: Callable[[str], Path]) -> tuple[Path, Path]:
    boat = testdata("exif/jpg/gps/DSCN0010.jpg").read_bytes()
    first = _case(cli, tmp_path, "LY-2025-007", {
        "sdcard/notes.txt": "Captain: +218 91 234 5678, pay TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t secret-plan-alpha".encode(),
        "sdcard/DCIM/boat.jpg": boat}, "EXH-001")
    second = _case(cli, tmp_path, "LY-2026-014", {
        "sdcard/رسائل.txt": "اتصل ٠٩١٢٣٤٥٦٧٨ أو 0923456789".encode(),
        "sdcard/Download/ad.jpg": recompress(boat, 0.6, 50),
        "sdcard/DCIM/other.jpg": testdata("exif/jpg/gps/DSCN0040.jpg").read_bytes()}, "PH-9")
    return first, second


def test_two_cases_find_each_other(cli: Any, two_cases: tuple[Path, Path], repository: str) -> None:
    first, second = two_cases
    for case in (first, second):
        out = cli("repository", "push", "--case", case, "--reason", "lab policy").stdout
        assert f"to {repository}" in out
    rows = jsonl(cli("links", "--across-cases", "--format", "jsonl", "--case", second))
    assert [(r["kind"], r["value"] if r["kind"] != "image" else "image") for r in rows] == [
        ("phone", "+218912345678"), ("image", "image")]
    for r in rows:
        assert [c["case"] for c in r["cases"]] == ["LY-2025-007"] and r["cases"][0]["exhibits"] == ["EXH-001"]
    assert rows[0]["occurrences"][0]["ref"] == "/sdcard/رسائل.txt"  # the places in this case
    back = jsonl(cli("links", "--across-cases", "--format", "jsonl", "--case", first))
    assert {r["kind"] for r in back} == {"phone", "image"} and all(r["cases"][0]["case"] == "LY-2026-014" for r in back)

    found = jsonl(cli("repository", "search", "00218 91 234 5678", "--format", "jsonl"))
    assert sorted((r["case"], r["exhibit"]) for r in found) == [("LY-2025-007", "EXH-001"), ("LY-2026-014", "PH-9")]
    assert jsonl(cli("repository", "search", "0923456789", "--format", "jsonl"))[0]["case"] == "LY-2026-014"
    assert jsonl(cli("repository", "search", "0955555555", "--format", "jsonl")) == []
    cases = jsonl(cli("repository", "cases", "--format", "jsonl"))
    assert [c["case"] for c in cases] == ["LY-2025-007", "LY-2026-014"]

    entries = [json.loads(line) for line in (first / "custody.jsonl").read_text().splitlines()]
    pushed = [e for e in entries if e["action"] == "repository-pushed"]
    assert len(pushed) == 1 and pushed[0]["reason"] == "lab policy" and pushed[0]["details"]["repository"] == repository
    assert pushed[0]["details"]["by_kind"]["phone"] == 1
    cli("verify", first)

    repo = open_repository()
    try:
        held = repo._all("SELECT case_id, kind, value, exhibit, source FROM repo_entities")
    finally:
        repo.close()
    text = json.dumps(held, ensure_ascii=False)
    for content in ("secret-plan-alpha", "/sdcard", "notes.txt", "Captain", "رسائل"):
        assert content not in text  # values, kinds, case ids, exhibits and sources only


def test_push_replaces_the_case(cli: Any, two_cases: tuple[Path, Path], repository: str) -> None:
    first, _ = two_cases
    cli("repository", "push", "--case", first)
    repo = open_repository()
    try:
        before = repo._all("SELECT COUNT(*) FROM repo_entities")[0][0]
    finally:
        repo.close()
    cli("repository", "push", "--case", first)
    repo = open_repository()
    try:
        assert repo._all("SELECT COUNT(*) FROM repo_entities")[0][0] == before > 0
        assert [c["case"] for c in repo.cases()] == ["LY-2025-007"]
    finally:
        repo.close()


def test_the_default_repository_is_a_file_in_the_data_directory(cli: Any, two_cases: tuple[Path, Path],
                                                                 _data_home: Path) -> None:
    cli("repository", "push", "--case", two_cases[0])
    db = sqlite3.connect(_data_home / "dalil" / "repository.db")
    try:
        assert db.execute("SELECT case_id FROM repo_cases").fetchall() == [("LY-2025-007",)]
    finally:
        db.close()


def test_repository_settings(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert redact("postgresql://lab:s3cret@db.lab:5432/dalil") == "postgresql://lab:***@db.lab:5432/dalil"
    monkeypatch.setenv("DALIL_REPOSITORY", "mysql://x")
    assert "must be postgresql://" in cli("repository", "cases", code=2).stderr
    monkeypatch.setenv("DALIL_REPOSITORY", "postgresql://lab:s3cret@127.0.0.1:1/none")
    res = cli("repository", "cases", code=1)
    assert "unreachable" in res.stderr and "s3cret" not in res.stderr
