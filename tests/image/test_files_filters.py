"""`dalil files` filters: a --yara rule or --mime prefix that nothing in the case has gives a note on
stderr (exit 0, no rows); --deleted lists orphans, as its help says."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

from build_images import fat_image
from parse_helpers import parse_rows

RULE = "Phone_Numbers_Mediterranean_Route"


def _case_with_a_hit(cli: Any, case_dir: Path, tmp_path: Path) -> Path:
    image = fat_image(tmp_path, {"NOTE.TXT": b"call +218 91 234 5678\n", "A.BIN": b"\x00" * 600}, delete=[])
    rows = parse_rows(cli, case_dir, image, "CARD")
    assert any(RULE in r["yara"] for r in rows)
    return case_dir


def test_unknown_yara_rule_gives_a_note(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    case = _case_with_a_hit(cli, case_dir, tmp_path)
    result = cli("files", "--yara", "NOSUCHRULE", "--format", "jsonl", "--case", case)
    assert result.stdout == ""
    assert "no file in this case matched a YARA rule named 'NOSUCHRULE'" in result.stderr
    assert RULE in result.stderr and result.stderr.count("\n") == 1
    wrong_case = cli("files", "--yara", RULE.lower(), "--format", "jsonl", "--case", case)
    assert RULE in wrong_case.stderr  # names are case-sensitive: the note shows the right spelling
    found = cli("files", "--yara", RULE, "--format", "jsonl", "--case", case)
    assert [json.loads(x)["path"] for x in found.stdout.splitlines()] == ["/NOTE.TXT"] and found.stderr == ""


def test_unknown_mime_prefix_gives_a_note(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    case = _case_with_a_hit(cli, case_dir, tmp_path)
    result = cli("files", "--mime", "imagee/", "--format", "jsonl", "--case", case)
    assert result.stdout == "" and "no file in this case has a MIME type starting with 'imagee/'" in result.stderr
    assert "text/plain" in result.stderr
    found = cli("files", "--mime", "text/", "--format", "jsonl", "--case", case)
    assert found.stdout and found.stderr == ""
    none_deleted = cli("files", "--mime", "text/", "--deleted", "--format", "jsonl", "--case", case)
    assert none_deleted.stdout == "" and none_deleted.stderr == ""  # known type, just no deleted one: no note


def test_deleted_lists_orphans(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    rows = parse_rows(cli, case_dir, testdata("disk_images/plaso/syslog_image.dd"), "SYSLOG")
    orphans = {r["path"] for r in rows if r["orphan"]}
    assert orphans == {f"/$OrphanFiles/OrphanFile-{n}" for n in (14, 15, 16)}
    assert all(r["deleted"] for r in rows if r["orphan"])  # TSK's walk marks every orphan deleted

    def deleted() -> set[str]:
        out = cli("files", "--deleted", "--format", "jsonl", "--case", case_dir).stdout
        return {json.loads(x)["path"] for x in out.splitlines()}

    assert orphans <= deleted()
    # The filter's contract holds whatever the flag says: an orphan row marked not deleted is still listed.
    with sqlite3.connect(case_dir / "case.db") as db:
        db.execute("UPDATE files SET deleted = 0 WHERE path = '/$OrphanFiles/OrphanFile-14'")
    assert "/$OrphanFiles/OrphanFile-14" in deleted()
