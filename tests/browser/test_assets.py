"""The shipped front-end: vendored files as SOURCES.md records them, and templates and scripts that
the pages' CSP allows (no inline script, no inline style, no event-handler attributes, no CDN)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BROWSER = ROOT / "triage" / "browser"
VENDOR = BROWSER / "static" / "vendor"


def test_vendored_files_match_their_recorded_sha256() -> None:
    listed = re.findall(r"^([0-9a-f]{64})  (\S+)$", (VENDOR / "SOURCES.md").read_text(encoding="utf-8"), re.M)
    assert len(listed) == 14
    for digest, rel in listed:
        assert hashlib.sha256((VENDOR / rel).read_bytes()).hexdigest() == digest, rel
    shipped = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()} - {"SOURCES.md"}
    assert shipped == {rel for _, rel in listed}


def test_templates_have_nothing_the_csp_would_block() -> None:
    templates = list((BROWSER / "templates").glob("*.html")) + [ROOT / "reports/templates/viewer/index.html.j2"]
    assert len(templates) > 10
    for path in templates:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path          # no inline script
        assert not re.search(r"\sstyle=", text) and "<style" not in text, path  # no inline style
        assert not re.search(r"\son[a-z]+=", text), path                    # no event handler attributes
        assert not re.search(r"""(src|href)=["']https?://""", text), path   # nothing from another origin
        assert "|safe" not in text and "Markup(" not in text, path         # nothing bypasses autoescape
    for script in (BROWSER / "static").glob("*.js"):
        code = script.read_text(encoding="utf-8")
        assert "innerHTML" not in code and "eval(" not in code and "insertAdjacentHTML" not in code, script
