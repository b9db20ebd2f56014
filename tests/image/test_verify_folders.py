"""`dalil verify --evidence` on folder exhibits (logical extractions registered in place)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def test_a_fifo_put_in_a_files_place_fails_the_check_instead_of_hanging(cli: Any, case_dir: Path,
                                                                        tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a\n")
    (folder / "b.txt").write_bytes(b"b\n")
    cli("parse", folder, "--exhibit", "DIR", "--no-yara", "--case", case_dir)
    (folder / "b.txt").unlink()
    os.mkfifo(folder / "b.txt")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "triage.cli.main", "verify", str(case_dir), "--evidence"],
                          capture_output=True, text=True, timeout=60, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)})  # it used to block for ever
    assert done.returncode == 1 and "not a regular file" in done.stdout


def test_an_empty_folder_exhibit_verifies(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """No files, no segments: it used to fall back to opening the folder itself ('Is a directory')."""
    folder = tmp_path / "empty"
    folder.mkdir()
    cli("parse", folder, "--exhibit", "EMPTY", "--no-yara", "--case", case_dir)
    out = cli("verify", case_dir, "--evidence").stdout
    assert "PASS  evidence in place" in out


def test_a_file_added_to_a_folder_exhibit_fails_the_check(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """Every registered file still matched, so verify passed; yet parse and export would take the
    new file as evidence."""
    folder = tmp_path / "dump"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"a\n")
    cli("parse", folder, "--exhibit", "DIR", "--no-yara", "--case", case_dir)
    assert "PASS  evidence in place" in cli("verify", case_dir, "--evidence").stdout
    (folder / "sub" / "planted.jpg").write_bytes(b"not there before")
    out = cli("verify", case_dir, "--evidence", code=1).stdout
    assert "1 file(s) in" in out and "planted.jpg" in out
