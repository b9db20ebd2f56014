"""HTML (offline, autoescaped, no scripts) and PDF (WeasyPrint) forms of the examination report."""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from triage.core.case import Case
from triage.core.clock import rfc3339
from triage.core.textsafe import hidden

from .data import CaseData, flat_indicators
from .labels import RTL, labels

TEMPLATES = Path(__file__).parent / "templates"
MAX_EMBEDDED_SCREENSHOT = 8 * 1024 * 1024
MAX_TABLE_ROWS = 2000  # calls and contacts in the HTML/PDF report (every row is in the CSV files)
IMAGE_TYPES = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


# Characters a suspect can use to make displayed text lie (textsafe.hidden): bidi controls reorder
# what follows them ("txt.exe" shown as "exe.txt"), controls and zero-width characters are
# invisible. The report shows each as a visible [U+XXXX] marker; tab and line ends stay.
KEPT = frozenset("\t\n\r")


def visible(text: str) -> str:
    """`text` with bidi controls, invisible and control characters replaced by [U+XXXX] markers."""
    return "".join(f"[U+{ord(c):04X}]" if c not in KEPT and hidden(c) else c for c in text)


def text_dir(value: Any) -> str:
    """The direction HTML's dir="auto" would give `value` (first strong character), computed here
    because WeasyPrint ignores dir="auto" and lays the text out in the surrounding direction."""
    for ch in str(value or ""):
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def _finalize(value: Any) -> Any:
    """Every {{ value }}: None shows as nothing, text from evidence with its hidden characters made visible."""
    if value is None:
        return ""
    if isinstance(value, Markup):  # already rendered by a macro from finalized values
        return value
    if isinstance(value, str):
        return visible(value)
    return value


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"],
                      default_for_string=True, default=True), trim_blocks=True, lstrip_blocks=True,
                      finalize=_finalize)
    env.filters["textdir"] = text_dir
    env.filters["jsontext"] = lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return env


def css_string(text: str) -> str:
    """Escape `text` for a CSS double-quoted string: everything but letters, digits and spaces as hex."""
    return "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)


def _screenshot_uri(case: Case, sha256: str | None) -> str | None:
    """A data: URI for a stored screenshot (PNG/JPEG/WebP only), so the report needs no file beside it."""
    if not sha256 or not case.objects.has(sha256):
        return None
    path = case.objects.path_for(sha256)
    if path.stat().st_size > MAX_EMBEDDED_SCREENSHOT:
        return None
    data = path.read_bytes()
    mime = next((m for magic, m in IMAGE_TYPES.items() if data.startswith(magic)), None)
    if mime is None:
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def render_html(case: Case, data: CaseData, lang: str, tools: list[dict[str, str]], for_pdf: bool = False) -> str:
    """The report as one self-contained HTML document."""
    L = labels(lang)
    captures = []
    for row in data.captures_sorted():
        row["indicator_pairs"] = flat_indicators(row.get("indicators"))
        row["screenshot_uri"] = _screenshot_uri(case, row.get("screenshot_sha256"))
        captures.append(row)
    template = _env().get_template("report.html.j2")
    return template.render(
        lang=lang, rtl=lang in RTL, L=L, meta=data.meta, data=data, generated=rfc3339(),
        findings=data.findings(), captures=captures, indicators=data.indicators(),
        timeline=data.timeline(), tools=tools, css_case_id=css_string(data.meta.get("case_id", "")),
        css_page=css_string(L["page"]), css_of=css_string(L["of"]), for_pdf=for_pdf, max_rows=MAX_TABLE_ROWS,
    )


def write_pdf(html: str, out: Path) -> None:
    """Lay out the HTML with WeasyPrint (Pango shapes Arabic; the page footer carries case id and page X of Y)."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    from weasyprint.urls import URLFetcher

    # Only data: URIs (embedded screenshots): never the network or the file system.
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf(str(out))
