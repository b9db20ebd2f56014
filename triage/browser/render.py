"""Pages rendered with Jinja: autoescaped, and every value from the case shown with its hidden
characters made visible (`reports.html.visible`, the report's own rule: bidi controls, zero-width and
control characters become [U+XXXX]); `textdir` gives Arabic text its direction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from reports.html import text_dir, visible

from .config import ServeConfig

TEMPLATES = Path(__file__).parent / "templates"


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return visible(value)
    return value


def _query(params: dict[str, Any], **changes: Any) -> str:
    """A query string from `params` with `changes` applied (None removes a key)."""
    merged = {**params, **changes}
    pairs: list[tuple[str, str]] = []
    for k, v in merged.items():
        if v is None or v == "" or v is False:
            continue
        for item in v if isinstance(v, list) else [v]:
            pairs.append((k, str(item)))
    return "?" + urlencode(pairs) if pairs else "?"


def _size(n: Any) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True,
                      default_for_string=True), trim_blocks=True, lstrip_blocks=True, finalize=_finalize)
    env.filters["textdir"] = text_dir
    env.filters["visible"] = lambda v: visible(str(v)) if v is not None else ""
    env.filters["jsontext"] = lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True, indent=1, default=str)
    env.filters["size"] = _size
    env.globals["query"] = _query
    return env


class Renderer:
    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.env = environment()

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A whole page, or only its `content` block when htmx asks for a fragment (HX-Request)."""
        partial = request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"
        tpl = self.env.get_template(template)
        ctx = {"request": request, "cfg": self.config, "csrf": self.config.csrf, "nav": context.pop("nav", ""),
               "params": dict(request.query_params), **context}
        if partial and "content" in tpl.blocks:
            html = "".join(tpl.blocks["content"](tpl.new_context(ctx)))
        else:
            html = tpl.render(ctx)
        return HTMLResponse(html, status_code=status)
