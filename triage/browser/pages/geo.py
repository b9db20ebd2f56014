"""Map of every located item (pictures with GPS, located messages and phone records), drawn by the
shipped Leaflet over a bundled low-resolution world (Natural Earth 1:110m) or, with `--tiles FILE`,
tiles read from a local MBTiles file. No request ever goes to a tile server."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reports.html import visible
from triage.artifacts import query as phone
from triage.core.errors import NotFound
from triage.image.query import located

from ..tiles import MBTiles


def points(case: Any) -> list[dict[str, Any]]:
    """Located items as {lat, lon, kind, label, exhibit, time, href}; labels with hidden characters
    made visible (the map sets them as text, never as HTML)."""
    out: list[dict[str, Any]] = []
    from .common import has_table

    if has_table(case, "files"):
        for r in located(case):
            out.append({"lat": r["gps_lat"], "lon": r["gps_lon"], "kind": "file", "label": visible(r["path"]),
                        "exhibit": r["exhibit"], "time": r["mtime"], "href": f"/files/{r['id']}",
                        "thumb": f"/files/{r['id']}/thumb.png" if str(r["mime"] or "").startswith("image/") else None})
    for r in phone.located(case):
        href = f"/comms/message/{r['id']}" if r["source"] == "messages" else f"/comms/record/{r['id']}"
        out.append({"lat": r["lat"], "lon": r["lon"], "kind": f"{r['app']} {r['kind']}",
                    "label": visible(str(r["label"] or "")[:200]), "exhibit": r["exhibit"], "time": r["time"],
                    "href": href, "thumb": None})
    return out


def routes(ctx: Any) -> list[Route]:
    tiles = MBTiles(ctx.config.tiles) if ctx.config.tiles else None

    def page(request: Request) -> Response:
        return ctx.render.page(request, "map.html", nav="map", tiles=tiles is not None,
                               tiles_max=tiles.max_zoom if tiles else 0)

    def api(request: Request) -> Response:
        return JSONResponse({"points": points(ctx.access.read())})

    def tile(request: Request) -> Response:
        if tiles is None:
            raise NotFound("no --tiles file")
        z, x, y = (int(request.path_params[k]) for k in ("z", "x", "y"))
        found = tiles.tile(z, x, y)
        if found is None:
            return Response(status_code=204)
        data, mime = found
        return Response(data, media_type=mime)

    return [Route("/map", page), Route("/api/points", api), Route("/tiles/{z:int}/{x:int}/{y:int}", tile)]
