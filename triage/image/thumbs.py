"""Thumbnails of pictures in the evidence, made on demand with Pillow from bytes read back through
`content.read`, cached in the case (`CASE/.cache/thumbs/`, named by the file's SHA-256), never
written next to the evidence. A picture that Pillow cannot open, or that is too large, has none."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from ..core.case import Case
from . import content

SIZE = 256
MAX_BYTES = 64 * 1024 * 1024      # a picture larger than this is not read for a thumbnail
MAX_PIXELS = 80_000_000           # decompression bombs are refused
CACHE = Path(".cache") / "thumbs"


def cache_path(case_root: Path, sha256: str) -> Path:
    return case_root / CACHE / f"{sha256}-{SIZE}.png"


def make(data: bytes) -> bytes | None:
    """A PNG thumbnail (at most SIZE×SIZE) of an image's bytes, or None when it is not one."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as opened:
            img: Image.Image = ImageOps.exif_transpose(opened) or opened
            img.thumbnail((SIZE, SIZE))
            if img.mode not in ("RGB", "RGBA", "L"):
                img = img.convert("RGBA")
            out = io.BytesIO()
            img.save(out, "PNG", optimize=True)
            return out.getvalue()
    except Exception:  # noqa: BLE001 - hostile or broken pictures are many; none of them stops the page
        return None


def thumbnail(case: Case, row: dict[str, Any], cache: bool = True) -> bytes | None:
    """The thumbnail of a `files` row (from the cache, else made, and cached when `cache`), or None."""
    sha = row.get("sha256")
    if not sha or not row.get("size") or int(row["size"]) > MAX_BYTES:
        return None
    path = cache_path(case.root, sha)
    if path.is_file():
        return path.read_bytes()
    png = make(content.read(case, row, 0, int(row["size"])))
    if png is None or not cache:
        return png
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(png)
    os.replace(tmp, path)
    return png
