"""Files: a filtered, paged table (SQL paging over `files`), a gallery of pictures with thumbnails
made from the evidence, and each file's page (hashes, times, EXIF, YARA, hex and text preview)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from triage.core.errors import DalilError, NotFound
from triage.image import content, thumbs
from triage.image.query import PAGE_FLAGS, PageFilters, by_id, facets, page, rule_names
from triage.image.timeline import file_name_times

from .common import PAGE_SIZE, int_param, tags_for_file, text_param

PREVIEW = 4096
FLAG_LABELS = {"deleted": "deleted", "mismatch": "extension mismatch", "yara": "YARA hit", "known_bad": "known-bad",
               "gps": "has GPS", "image": "pictures"}


def filters_of(request: Request) -> PageFilters:
    flags = [f for f in request.query_params.getlist("flag") if f in PAGE_FLAGS]
    return PageFilters(exhibit=text_param(request, "exhibit"), mime=text_param(request, "mime"),
                       name=text_param(request, "name"), rule=text_param(request, "rule"), flags=flags)


def hexdump(data: bytes, start: int) -> list[tuple[str, str, str]]:
    """(offset, hex, ASCII) lines of 16 bytes; non-printable bytes shown as '.'."""
    out = []
    for i in range(0, len(data), 16):
        chunk = data[i:i + 16]
        hexpart = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        out.append((f"{start + i:08x}", hexpart, text))
    return out


def _json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def routes(ctx: Any) -> list[Route]:
    def listing(request: Request) -> Response:
        case = ctx.access.read()
        f = filters_of(request)
        gallery = request.query_params.get("view") == "gallery"
        if gallery and "image" not in f.flags:
            f.flags.append("image")
        size = 48 if gallery else PAGE_SIZE
        offset = int_param(request, "offset")
        result = page(case, f, offset, size)
        return ctx.render.page(request, "files.html", nav="files", page=result, f=f, gallery=gallery,
                               facets=facets(case), flag_labels=FLAG_LABELS, size=size, rule_names=rule_names)

    def detail(request: Request) -> Response:
        case = ctx.access.read()
        row = by_id(case, int(request.path_params["file_id"]))
        offset = int_param(request, "offset")
        mode = "text" if request.query_params.get("mode") == "text" else "hex"
        error = None
        data = b""
        try:
            data = content.read(case, row, offset, PREVIEW)
        except (DalilError, OSError) as exc:
            error = str(exc)
        yara = _json(row.get("yara_matches")) or []
        return ctx.render.page(
            request, "file.html", nav="files", row=row, exif=_json(row.get("exif")), yara=yara,
            indicators=_json(row.get("indicators")), fn_times=file_name_times(row), tags=tags_for_file(case, row),
            preview_error=error, hexlines=hexdump(data, offset) if mode == "hex" else [],
            text=data.decode("utf-8", "replace") if mode == "text" else "", mode=mode, offset=offset,
            preview=PREVIEW, is_image=str(row.get("mime") or "").startswith("image/"))

    def thumb(request: Request) -> Response:
        case = ctx.access.read()
        row = by_id(case, int(request.path_params["file_id"]))
        if not str(row.get("mime") or "").startswith("image/"):
            raise NotFound("not a picture")
        png = thumbs.thumbnail(case, row, cache=not ctx.config.read_only)
        if png is None:
            raise NotFound("no thumbnail: the picture cannot be read or decoded")
        return Response(png, media_type="image/png")

    return [Route("/files", listing), Route("/files/{file_id:int}", detail),
            Route("/files/{file_id:int}/thumb.png", thumb)]
