"""Perceptual hash (pHash, 64-bit DCT) of images, so a re-compressed or re-sized copy of a photo
(the boat in an ad, the same boat on a phone) is found by `dalil links` (see `triage.links.phash`).

Images too small or too plain to compare, known-good files and formats Pillow does not read
(HEIC) get no hash; an image Pillow recognises but cannot decode (truncated) is an error on the row.
"""

from __future__ import annotations

from typing import Any

from . import Analyzer, Blob

MAX_BYTES = 64 * 1024 * 1024  # larger images are not decoded for a pHash


class PerceptualHash(Analyzer):
    NAME = "phash"
    VERSION = "1.0"
    ORDER = 45

    def analyse(self, blob: Blob) -> dict[str, Any]:
        mime = blob.found.get("mime") or ""
        if not mime.startswith("image/") or blob.found.get("known") == "good" or not 0 < blob.size <= MAX_BYTES:
            return {}
        from PIL import UnidentifiedImageError

        from ..links.phash import NotComparable, phash_bytes

        data = blob.data if blob.data is not None else b"".join(blob.chunks())
        try:
            value, _width, _height = phash_bytes(data)
        except (NotComparable, UnidentifiedImageError):
            return {}
        return {"phash": value}
