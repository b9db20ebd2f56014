"""A plain non-editable install gives a working `dalil` with its data files."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_has_packages_and_data_and_runs(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                            str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("dalil-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("triage", "triage/core", "triage/cli", "triage/image", "triage/analyzers", "triage/browser",
                    "triage/browser/pages", "collectors",
                    "collectors/spiders", "reports", "rules"):
        assert f"{package}/__init__.py" in names, package
    assert "triage/demo_data/phone_extraction.zip" in names
    assert any(n.startswith("dalil-") and n.endswith("entry_points.txt") for n in names)
    for data in (ROOT / "rules").rglob("*"):
        if data.is_file() and data.suffix in (".yar", ".txt", ".yaml", ".json"):
            assert str(data.relative_to(ROOT)) in names, data
    for folder in (ROOT / "reports" / "templates", ROOT / "triage" / "browser" / "templates",
                   ROOT / "triage" / "browser" / "static"):
        for data in folder.rglob("*"):
            if data.is_file():
                assert str(data.relative_to(ROOT)) in names, data
    target = tmp_path / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheel)], capture_output=True, text=True)
    assert inst.returncode == 0, inst.stderr[-2000:]
    env = dict(os.environ, PYTHONPATH=str(target))
    run = subprocess.run([sys.executable, "-c", "import triage, sys; print(triage.__file__); "
                          "from triage.cli.main import app; sys.argv=['dalil','--version']; app()"],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(target))
    assert run.stdout.splitlines()[1] == "dalil 0.1.0"
