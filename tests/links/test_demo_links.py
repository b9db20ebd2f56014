"""`make demo` shows a link: the demo phone extraction's "+218 91 234 5678" is the demo ad site's
"٠٩١٢٣٤٥٦٧٨" (the links stage itself runs here, through the real CLI)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from collectors.adsite import DEMO_CONTACT, AdSite
from triage.demo import DemoContext, demo_file
from triage.links import demo


def test_demo_data_share_a_number(cli: Any, case_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli("parse", demo_file("phone_extraction.zip"), "--exhibit", "EXH-001", "--case", case_dir, "--no-yara")
    with AdSite(ads=2, contact=DEMO_CONTACT) as site:
        cli("collect", site.url, "--exhibit", "WEB-001", "--depth", "0", "--no-screenshot", "--case", case_dir)
    ctx = DemoContext(out=tmp_path, case=case_dir, env=dict(os.environ))
    demo.run(ctx)
    shown = capsys.readouterr().out
    links = shown[shown.index("$ dalil links --case"):shown.index("$ dalil links --entity")]
    assert "phone" in links and "EXH-001" in links and "WEB-001" in links
    assert "$ dalil repository search" in shown
    assert (tmp_path / "links.graphml").stat().st_size > 0
    from triage.links.repository import open_repository

    repo = open_repository(f"sqlite:///{tmp_path / 'data' / 'dalil' / 'repository.db'}")  # kept in the demo folder
    try:
        found = repo.find([("phone", "+218912345678")])
    finally:
        repo.close()
    assert {r["exhibit"] for r in found} == {"EXH-001", "WEB-001"}
