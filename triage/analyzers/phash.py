"""Perceptual hash (pHash, 64-bit DCT) of images, so a re-compressed or re-sized copy of a photo
(the boat in an ad, the same boat on a phone) is found by `dalil links` (see `triage.links.phash`).

Images too small or too plain to compare, known-good files, formats Pillow does not read (HEIC) and
images it cannot decode (truncated, damaged: common among recovered files) get no hash, and no
warning: the pHash only adds look-alike matching; such images are still linked by SHA-256.
"""

from __future__ import annotations

from typing import Any

from . import Analyzer, Blob

MAX_BYTES = 64 * 1024 * 1024  # larger images are not decoded for a pHash
NOT_PILLOW = frozenset({"image/svg+xml"})  # vector text Pillow has no reader for (trying loads every plug-in)


class PerceptualHash(Analyzer):
    NAME = "phash"
    VERSION = "1.0"
    ORDER = 45

    def analyse(self, blob: Blob) -> dict[str, Any]:
        mime = blob.found.get("mime") or ""
        if not mime.startswith("image/") or mime in NOT_PILLOW or blob.found.get("known") == "good" \
                or not 0 < blob.size <= MAX_BYTES:
            return {}
        from PIL import UnidentifiedImageError

        from ..links.phash import NotComparable, phash_bytes

        data = blob.data if blob.data is not None else b"".join(blob.chunks())
        try:
            value, _width, _height = phash_bytes(data)
        except (NotComparable, UnidentifiedImageError, OSError, ValueError, SyntaxError):  # Pillow's decode errors
            return {}
        return {"phash": value}
