"""The portable case: `data/viewer/` in the court bundle, a static offline viewer (index.html opens
from file:// in any browser, no server) of the report's findings, the tagged files with thumbnails,
captures with screenshots, conversations, links (when the entity index exists) and a map.

Everything it shows is in the bag (so covered by its manifests and signature): thumbnails are made
from the evidence (through the same reader as `dalil serve`) into data/viewer/thumbs/, screenshots are
those the bundle already holds under data/captures/. Text is escaped as the report escapes it (the
report's Jinja environment: autoescape, hidden characters as [U+XXXX]); the map's labels go in as
text nodes. The page's Content-Security-Policy allows only its own files."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from triage.core.case import Case
from triage.core.clock import rfc3339

from .data import CaseData, flat_indicators
from .html import _env, visible

VIEWER = "data/viewer"
ASSETS = {"leaflet/leaflet.js": "leaflet.js", "leaflet/leaflet.css": "leaflet.css",
          "topojson-client/topojson-client.min.js": "topojson-client.min.js",
          "leaflet/LICENSE": "LICENSE-leaflet.txt", "topojson-client/LICENSE": "LICENSE-topojson-client.txt",
          "world-atlas/LICENSE": "LICENSE-world-atlas.txt", "SOURCES.md": "SOURCES.md"}
MAX_THUMBS = 500


class Counter(Protocol):
    def add(self, what: str, n: int = 1) -> None: ...


def _vendor(name: str) -> Path:
    return Path(str(resources.files("triage.browser") / "static" / "vendor" / name))


def _static(name: str) -> Path:
    return Path(str(resources.files("triage.browser") / "static" / name))


def _js_data(name: str, value: Any) -> str:
    """`window.NAME = <JSON>;` safe in a script file ("<" escaped, line separators as escapes)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    text = text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"window.{name} = {text};\n"


def _thumb(case: Case, row: dict[str, Any], out: Path) -> str | None:
    from triage.core.errors import DalilError
    from triage.image import thumbs

    if not str(row.get("mime") or "").startswith("image/") or not row.get("sha256"):
        return None
    try:
        png = thumbs.thumbnail(case, row)
    except (DalilError, OSError):
        return None
    if png is None:
        return None
    name = f"thumbs/{row['sha256']}.png"
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    (out / name).write_bytes(png)
    return name


def _screenshot(stage: Path, out: Path, cap: dict[str, Any]) -> str | None:
    """The capture's screenshot as the bundle holds it (data/captures/…), else copied beside the viewer."""
    from .bundle import safe_name

    sha = cap.get("screenshot_sha256")
    if not sha:
        return None
    in_bag = stage / "data/captures" / safe_name(cap.get("exhibit") or "") / f"{sha}.png"
    if in_bag.is_file():
        return f"../captures/{safe_name(cap.get('exhibit') or '')}/{sha}.png"
    return None


def _points(data: CaseData, thumbs: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for row in data.files:
        if row.get("gps_lat") is not None and row.get("gps_lon") is not None:
            out.append({"lat": row["gps_lat"], "lon": row["gps_lon"], "kind": "file", "exhibit": row.get("exhibit"),
                        "label": visible(str(row.get("path") or "")), "time": row.get("mtime"),
                        "thumb": thumbs.get(row.get("sha256") or "")})
    for m in data.messages + data.phone_items:
        loc = m.get("location")
        if isinstance(loc, dict) and loc.get("lat") is not None:
            out.append({"lat": loc["lat"], "lon": loc["lon"], "kind": f"{m.get('app')} {m.get('kind') or 'message'}",
                        "exhibit": m.get("exhibit"), "label": visible(str(m.get("text") or m.get("title") or "")[:200]),
                        "time": m.get("time"), "thumb": None})
    return out


def add_viewer(case: Case, data: CaseData, stage: Path, payload: Counter) -> int:
    """Write data/viewer/ into the bag being staged at `stage`; returns how many files it wrote."""
    out = stage / VIEWER
    (out / "assets").mkdir(parents=True, exist_ok=True)
    for src, dest in ASSETS.items():
        shutil.copyfile(_vendor(src), out / "assets" / dest)
    world = json.loads(_vendor("world-atlas/countries-110m.json").read_text(encoding="utf-8"))
    (out / "assets/world.js").write_text(_js_data("DALIL_WORLD", world), encoding="utf-8")
    shutil.copyfile(_static("viewer.js"), out / "assets/viewer.js")
    shutil.copyfile(_static("viewer.css"), out / "assets/viewer.css")

    findings = data.findings()
    thumbs: dict[str, str] = {}
    for row in findings[:MAX_THUMBS]:
        sha = row.get("sha256") or ""
        if sha and sha not in thumbs:
            name = _thumb(case, row, out)
            if name:
                thumbs[sha] = name
    for row in data.files:  # located pictures get theirs too (the map shows them)
        sha = row.get("sha256") or ""
        if row.get("gps_lat") is not None and sha and sha not in thumbs and len(thumbs) < MAX_THUMBS:
            name = _thumb(case, row, out)
            if name:
                thumbs[sha] = name
    captures = []
    for cap in data.captures_sorted():
        cap["indicator_pairs"] = flat_indicators(cap.get("indicators"))
        cap["screenshot_href"] = _screenshot(stage, out, cap)
        captures.append(cap)
    from triage.browser.links_adapter import shared_entities

    entities = shared_entities(case, data.exhibits)  # the bundle's exhibits only
    points = _points(data, thumbs)
    (out / "assets/data.js").write_text(_js_data("DALIL_POINTS", points), encoding="utf-8")
    html = _env().get_template("viewer/index.html.j2").render(
        meta=data.meta, generated=rfc3339(), findings=findings, tagged=[f for f in findings if f["tagged"]],
        thumbs=thumbs, captures=captures, threads=data.threads(), calls=data.calls, contacts=data.contacts,
        entities=entities, points=len(points), exhibits=data.exhibits, tags=data.tags)
    (out / "index.html").write_text(html, encoding="utf-8")
    written = sum(1 for p in out.rglob("*") if p.is_file())
    payload.add("viewer files", written)
    return written
