"""Suspect-written names in `dalil files` output: the table shows them escaped (no terminal control,
no bidi reordering, one line per file), jsonl keeps them exact, and every CSV we write reads back
with the header's column count (a bare CR in a name is quoted)."""

from __future__ import annotations

import csv
import io
import json
import tarfile
from pathlib import Path
from typing import Any, Callable

import pytest

from parse_helpers import parse_rows
from triage.core.textsafe import csv_cell, display

NAMES = {
    "ansi\x1b[31mRED\x1b[0m.txt": "ansi\\x1b[31mRED\\x1b[0m.txt",
    "bell\x07\x1b]0;TITLE\x07": "bell\\x07\\x1b]0;TITLE\\x07",
    "evil\u202etxt.exe": "evil\\u202etxt.exe",
    "two\nlines.txt": "two\\nlines.txt",
    "cr\r.txt": "cr\\r.txt",
    "c1\x9b31m.txt": "c1\\x9b31m.txt",
    "sep\u2028x\u2029y\u2066z.txt": "sep\\u2028x\\u2029y\\u2066z.txt",
    "[bold]markup[/bold].txt": "[bold]markup[/bold].txt",
    "back\\slash.txt": "back\\\\slash.txt",  # (a \\ before xNN is stored as \\x5c: see logical.py)
    "=HYPERLINK(1).txt": "=HYPERLINK(1).txt",
    "ملاحظة.txt": "ملاحظة.txt",
}


def _tar(tmp_path: Path, names: list[str]) -> Path:
    archive = tmp_path / "names.tar"
    with tarfile.open(archive, "w") as tf:
        for n, name in enumerate(names):
            data = f"file {n}\n".encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1700000000
            tf.addfile(info, io.BytesIO(data))
    return archive


@pytest.fixture
def named_case(cli: Any, case_dir: Path, tmp_path: Path) -> Path:
    rows = parse_rows(cli, case_dir, _tar(tmp_path, list(NAMES)), "NAMES", "--no-yara")
    assert sorted(r["path"] for r in rows) == sorted("/" + n for n in NAMES)  # jsonl: the exact names
    return case_dir


def test_display_escapes_controls_bidi_and_backslash() -> None:
    for raw, shown in NAMES.items():
        assert display(raw) == shown
    assert display("\udcff") == "\\udcff"  # an undecodable byte kept as a lone surrogate
    assert display("\x7f\x00\t\u200f\u061c") == "\\x7f\\x00\\t\\u200f\\u061c"
    assert display("plain name (1).jpg") == "plain name (1).jpg"


def test_table_shows_names_escaped_one_line_each(cli: Any, named_case: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # no folding: each row on one line
    out = cli("files", "--exhibit", "NAMES", "--case", named_case).stdout
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\x9b" not in out
    assert not any(c in out for c in "\u202e\u2028\u2029\u2066")
    lines = out.splitlines()
    for shown in NAMES.values():
        assert sum(("/" + shown + " ") in line for line in lines) == 1, shown
    assert sum("NAMES" in line for line in lines) == len(NAMES)  # one table line per file


def test_warnings_on_the_console_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    from triage.cli import common

    common.warn("cannot read /evil\u202etxt.exe\x1b]0;TITLE\x07 [red]x[/red]")
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\u202e" not in err
    assert "/evil\\u202etxt.exe\\x1b]0;TITLE\\x07 [red]x[/red]" in err


def _read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_keeps_names_exact_and_round_trips(cli: Any, named_case: Path) -> None:
    out = cli("files", "--exhibit", "NAMES", "--case", named_case, "--format", "csv").stdout
    rows = _read_csv(out)
    assert {len(r) for r in rows} == {len(rows[0])} and len(rows) == len(NAMES) + 1
    path = rows[0].index("path")
    assert sorted(r[path] for r in rows[1:]) == sorted("/" + n for n in NAMES)


def test_csv_cell_neutralises_formulas_and_keeps_numbers() -> None:
    assert csv_cell("=1+2") == "'=1+2" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("\rx") == "'\rx"
    assert csv_cell("-1.5") == "-1.5" and csv_cell(None) == "" and csv_cell(["a"]) == '["a"]'


def test_bare_cr_in_every_csv_writer(tmp_path: Path) -> None:
    from reports import bundle, csv_export
    from triage.core.textsafe import csv_writer

    buf = io.StringIO(newline="")
    csv_writer(buf).writerows([["a", "b", "c"], ["\r", "x\ry", "z"]])
    assert _read_csv(buf.getvalue()) == [["a", "b", "c"], ["\r", "x\ry", "z"]]
    rows = [{"exhibit": "E", "path": "/\r", "name": "\r"}]
    csv_export._write(tmp_path / "files.csv", csv_export.FILE_COLUMNS, rows)
    bundle._write_index(tmp_path / "index.csv", rows)
    for name in ("files.csv", "index.csv"):
        with open(tmp_path / name, encoding="utf-8", newline="") as fh:
            back = list(csv.reader(fh))
        assert {len(r) for r in back} == {len(back[0])} and "/\r" in back[1], name


def test_hfs_private_directory_name_with_cr(cli: Any, case_dir: Path, testdata: Callable[[str], Path]) -> None:
    """Real data: HFS+ names its hard-link directory `.HFS+ Private Directory Data\\r`."""
    rows = parse_rows(cli, case_dir, testdata("disk_images/dfvfs/hfsplus.raw"), "HFS", "--no-yara")
    assert any(r["path"].endswith("\r") for r in rows)
    out = cli("files", "--exhibit", "HFS", "--case", case_dir, "--format", "csv").stdout
    back = _read_csv(out)
    assert {len(r) for r in back} == {len(back[0])} and len(back) == len(rows) + 1
    listed = [json.loads(x) for x in cli("files", "--exhibit", "HFS", "--case", case_dir,
                                         "--format", "jsonl").stdout.splitlines()]
    path = back[0].index("path")
    assert [r[path] for r in back[1:]] == [r["path"] for r in listed]


def test_tag_confirmation_line_is_escaped(cli: Any, named_case: Path) -> None:
    out = cli("tag", "--exhibit", "NAMES", "/evil\u202etxt.exe", "--label", "x\x1b[2J", "--case", named_case).stdout
    assert out == "tagged file /evil\\u202etxt.exe (NAMES): x\\x1b[2J\n"


def test_display_shows_invisible_characters_but_keeps_zwnj() -> None:
    """A zero-width space, soft hyphen, BOM or tag character would let two names look alike;
    ZWNJ stays (Persian and Arabic words are written with it)."""
    assert display("a\u200bb\u00adc\ufeffd\U000e0041e") == "a\\u200bb\\xadc\\ufeffd\\U000e0041e"
    assert display("\u0646\u0627\u0645\u0647\u200c\u0647\u0627") == "\u0646\u0627\u0645\u0647\u200c\u0647\u0627"
