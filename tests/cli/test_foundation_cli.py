"""The foundation through the CLI: case, examiner, evidence, log, verify and bad input."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from triage.core.case import Case


def _src(tmp_path: Path, data: bytes = b"seized phone extraction\n" * 1000) -> Path:
    src = tmp_path / "evidence" / "phone.zip"
    src.parent.mkdir()
    src.write_bytes(data)
    os.utime(src, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    return src


def _ledger(case_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (case_dir / "custody.jsonl").read_text(encoding="utf-8").splitlines()]


def test_case_init_layout_and_show(case_dir: Path, cli) -> None:
    assert (case_dir / "case.db").is_file() and (case_dir / "custody.jsonl").is_file()
    assert (case_dir / "objects").is_dir() and (case_dir / "images").is_dir()
    case = Case.open(case_dir)
    assert case.store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert case.store.versions()["core"] == 1
    shown = json.loads(cli("case", "show", "--case", case_dir, "--format", "json").stdout)
    assert shown["case_id"] == "TEST-001" and shown["organisation"] == "Test Unit"
    assert shown["ledger_head"]["seq"] == 2
    assert [e["action"] for e in _ledger(case_dir)] == ["examiner-registered", "case-opened"]


def test_case_init_refuses_non_empty_dir(tmp_path: Path, cli) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "file").write_text("hi")
    r = cli("case", "init", tmp_path / "x", "--case-id", "A", "--title", "T", "--examiner", "E", code=2)
    assert "not empty" in r.stderr and "Traceback" not in r.stderr


def test_case_found_from_env_and_cwd(case_dir: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DALIL_CASE", str(case_dir))
    assert "TEST-001" in cli("case", "show").stdout
    monkeypatch.delenv("DALIL_CASE")
    (case_dir / "images" / "sub").mkdir()
    monkeypatch.chdir(case_dir / "images" / "sub")
    assert "TEST-001" in cli("case", "show").stdout
    monkeypatch.chdir(case_dir.parent)
    r = cli("case", "show", code=1)
    assert "no case here" in r.stderr


def test_examiner_key_mode_fingerprint_and_passphrase(cli, _isolated_config: Path, monkeypatch) -> None:
    out = cli("examiner", "init", "--name", "Karim Haddad").stdout
    fp = next(line.split(": ")[1] for line in out.splitlines() if line.startswith("fingerprint"))
    key = next(_isolated_config.glob("dalil/examiners/karim-haddad-*.key"))
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"ENCRYPTED" not in key.read_bytes()
    assert fp in cli("examiner", "show", "--name", "Karim Haddad").stdout
    monkeypatch.setenv("DALIL_KEY_PASSPHRASE", "s3cret")
    cli("examiner", "init", "--name", "Salma")
    enc = next(_isolated_config.glob("dalil/examiners/salma-*.key"))
    assert b"ENCRYPTED" in enc.read_bytes()
    # No passphrase in a pipeline: a clear error, never a prompt.
    monkeypatch.delenv("DALIL_KEY_PASSPHRASE")
    monkeypatch.setenv("DALIL_EXAMINER", "Salma")
    from triage.core import identity

    with pytest.raises(Exception, match="DALIL_KEY_PASSPHRASE"):
        identity.load("Salma")
    monkeypatch.setenv("DALIL_KEY_PASSPHRASE", "wrong")
    with pytest.raises(Exception, match="wrong passphrase"):
        identity.load("Salma")


def test_second_examiner_key_recorded_on_first_action(case_dir: Path, cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DALIL_EXAMINER", "Second Examiner")
    cli("evidence", "add", _src(tmp_path), "--exhibit", "EXH-9", "--case", case_dir)
    actions = [(e["action"], e["examiner"]) for e in _ledger(case_dir)]
    assert actions[-2:] == [("examiner-registered", "Second Examiner"), ("evidence-registered", "Second Examiner")]
    assert cli("verify", case_dir).exit_code == 0


def test_evidence_add_copy_hashes_and_leaves_source_untouched(case_dir: Path, cli, tmp_path: Path) -> None:
    src = _src(tmp_path)
    data = src.read_bytes()
    before = src.stat()
    out = cli("evidence", "add", src, "--exhibit", "EXH-001", "--description", "phone", "--reason",
              "Warrant 12/2026", "--expect", "sha256:" + hashlib.sha256(data).hexdigest(), "--case", case_dir).stdout
    assert hashlib.md5(data).hexdigest() in out
    after = src.stat()
    assert src.read_bytes() == data and after.st_mtime_ns == before.st_mtime_ns and after.st_size == before.st_size
    rows = [json.loads(line) for line in cli("evidence", "list", "--format", "jsonl", "--case", case_dir).stdout.splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert row["exhibit"] == "EXH-001" and row["size"] == len(data)
    assert row["md5"] == hashlib.md5(data).hexdigest()
    assert row["sha1"] == hashlib.sha1(data).hexdigest()
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    stored = case_dir / row["path"]
    assert stored.read_bytes() == data
    assert not (stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    entry = _ledger(case_dir)[-1]
    assert entry["action"] == "evidence-registered" and entry["reason"] == "Warrant 12/2026"
    assert entry["subject"] == {"exhibit": "EXH-001", "sha256": "sha256:" + row["sha256"]}
    assert entry["command"][:3] == ["dalil", "evidence", "add"]
    csv_out = cli("evidence", "list", "--format", "csv", "--case", case_dir).stdout.splitlines()
    assert csv_out[0].startswith("exhibit,path,size,md5,sha1,sha256")


def test_evidence_add_in_place_and_verify_evidence(case_dir: Path, cli, tmp_path: Path) -> None:
    src = _src(tmp_path)
    cli("evidence", "add", src, "--exhibit", "EXH-2", "--in-place", "--case", case_dir)
    row = json.loads(cli("evidence", "list", "--format", "jsonl", "--case", case_dir).stdout)
    assert row["path"] == str(src.resolve()) and row["in_place"] is True
    assert not any((case_dir / "objects").rglob("*" + row["sha256"]))
    assert cli("verify", case_dir, "--evidence").exit_code == 0
    src.chmod(0o644)
    src.write_bytes(b"changed")
    r = cli("verify", case_dir, "--evidence", code=1)
    assert "EXH-2" in r.stdout


def test_expect_mismatch_refused_and_recorded(case_dir: Path, cli, tmp_path: Path) -> None:
    src = _src(tmp_path)
    r = cli("evidence", "add", src, "--exhibit", "EXH-3", "--expect", "md5:" + "0" * 32, "--case", case_dir, code=1)
    assert "refused" in r.stderr and "Traceback" not in r.stderr
    last = _ledger(case_dir)[-1]
    assert last["action"] == "evidence-refused" and last["details"]["expected"] == "md5:" + "0" * 32
    assert cli("evidence", "list", "--format", "jsonl", "--case", case_dir).stdout == ""
    assert not [p for p in (case_dir / "objects").rglob("*") if p.is_file()]
    r = cli("evidence", "add", src, "--exhibit", "EXH-3", "--expect", "sha256:xyz", "--case", case_dir, code=2)
    assert "--expect" in r.stderr


@pytest.mark.parametrize("kind", ["missing", "directory", "unreadable", "duplicate", "bad-id"])
def test_evidence_bad_input_one_line(case_dir: Path, cli, tmp_path: Path, kind: str) -> None:
    src = _src(tmp_path)
    target: Path | str = src
    exhibit = "EXH-4"
    expected = 1
    if kind == "missing":
        target = tmp_path / "nope.E01"
    elif kind == "directory":
        target, expected = tmp_path, 2
    elif kind == "unreadable":
        if os.geteuid() == 0:
            target = Path("/proc/self/mem")  # root reads any mode-0 file; this one fails with EIO for everyone
        else:
            src.chmod(0)
    elif kind == "duplicate":
        cli("evidence", "add", src, "--exhibit", exhibit, "--case", case_dir)
        expected = 2
    else:
        exhibit, expected = "../../etc", 2
    r = cli("evidence", "add", target, "--exhibit", exhibit, "--case", case_dir, code=expected)
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_log_formats(case_dir: Path, cli, tmp_path: Path) -> None:
    lines = cli("log", "--format", "jsonl", "--case", case_dir).stdout.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2]
    assert "case-opened" in cli("log", "--case", case_dir).stdout
    cli("log", "--format", "xml", "--case", case_dir, code=2)
    src = _src(tmp_path)
    cli("evidence", "add", src, "--exhibit", "EXH-9", "--reason", "=HYPERLINK(\"x\")", "--case", case_dir)
    rows = list(csv.DictReader(io.StringIO(cli("log", "--format", "csv", "--case", case_dir).stdout)))
    assert [r["seq"] for r in rows] == ["1", "2", "3"] and rows[2]["exhibit"] == "EXH-9"
    assert rows[2]["sha256"].startswith("sha256:") and len(rows[2]["sha256"]) == 71  # never shortened
    assert rows[2]["reason"].startswith("'=")  # a formula a spreadsheet would run is defused
    assert json.loads(rows[2]["details"])["size"] == src.stat().st_size
    only = cli("log", "--format", "jsonl", "--exhibit", "EXH-9", "--case", case_dir).stdout.splitlines()
    assert [json.loads(line)["action"] for line in only] == ["evidence-registered"]


def test_verify_records_success(case_dir: Path, cli) -> None:
    r = cli("verify", case_dir)
    assert "RESULT: all checks passed" in r.stdout
    assert _ledger(case_dir)[-1]["action"] == "verified"
    n = len(_ledger(case_dir))
    cli("verify", case_dir, "--no-record")
    assert len(_ledger(case_dir)) == n


def test_corrupt_case_db_and_invalid_ledger_line(case_dir: Path, cli) -> None:
    ledger = case_dir / "custody.jsonl"
    ledger.write_bytes(ledger.read_bytes() + b"not json\n")
    r = cli("log", "--case", case_dir, code=1)
    assert "line 3" in r.stderr and "Traceback" not in r.stderr
    r = cli("verify", case_dir, code=1)
    assert "line 3" in r.stdout
    (case_dir / "case.db").write_bytes(b"garbage" * 100)
    for p in case_dir.glob("case.db-*"):
        p.unlink()
    r = cli("case", "show", "--case", case_dir, code=1)
    assert "not SQLite" in r.stderr and "Traceback" not in r.stderr
    assert cli("verify", case_dir, code=1).stdout.startswith("FAIL")


def test_debug_shows_traceback(case_dir: Path, cli, tmp_path: Path) -> None:
    r = cli("--debug", "evidence", "add", tmp_path / "missing", "--exhibit", "E1", "--case", case_dir, code=1)
    assert "Traceback" in r.stderr


def _modules_after(*argv: str) -> tuple[int, set[str]]:
    """Run `dalil ARGV` in a fresh interpreter; its exit code and the triage.cli modules it imported
    (written at exit: `main` ends the process itself)."""
    script = ("import atexit, sys\nfrom triage.cli.main import main\n"
              f"sys.argv = ['dalil', *{list(argv)!r}]\n"
              "atexit.register(lambda: sys.stderr.write("
              "repr(sorted(m for m in sys.modules if m.startswith('triage.cli.')))))\n"
              "main()\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    modules = ast.literal_eval(r.stderr.strip().splitlines()[-1])
    return r.returncode, set(modules)


def test_a_command_imports_only_its_own_module() -> None:
    code, modules = _modules_after("parse", "--help")
    assert code == 0
    assert modules == {"triage.cli.main", "triage.cli.common", "triage.cli.parse", "triage.cli._exit"}, modules
    code, modules = _modules_after("case", "init", "--help")
    assert code == 0 and "triage.cli.links" not in modules and "triage.cli.case" in modules


def test_help_and_other_names_build_the_whole_app() -> None:
    for argv in (["--help"], ["tags", "--help"], ["no-such-command"]):
        code, modules = _modules_after(*argv)
        assert "triage.cli.links" in modules and "triage.cli.parse" in modules, argv
        assert code == (2 if argv == ["no-such-command"] else 0), argv
