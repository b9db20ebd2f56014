"""Perceptual hashes of images: a 64-bit DCT hash (pHash), Hamming distances, the match threshold.

The image is turned upright (EXIF orientation), made grey, reduced to 32×32 (Lanczos), and its 2-D
DCT-II taken; the 8×8 lowest frequencies are compared with their median, one bit each (the scheme of
`imagehash.phash`, computed here with numpy so no SciPy is needed). A re-compressed, re-sized or
re-encoded copy keeps nearly all bits; unrelated photos differ in about half of them.

Images too small (under `MIN_SIDE` pixels a side) or too plain (the reduced image's grey levels vary
by less than `MIN_SPREAD`) get no hash: icons and flat colours would all look alike. `THRESHOLD` is
the largest distance still taken for the same picture; see README ("Links") for the measurements.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import numpy as np

SIZE = 32
LOW = 8
MIN_SIDE = 32
MIN_SPREAD = 8.0  # standard deviation of the 32x32 grey image, 0-255 scale
THRESHOLD = 10
MAX_PIXELS = 200_000_000  # Pillow's decompression-bomb guard for hashing (raises above twice this)


class NotComparable(Exception):
    """An image that gets no perceptual hash (too small, too plain); not a failure."""


@lru_cache(maxsize=1)
def _dct_matrix() -> Any:
    n = np.arange(SIZE)
    k = n.reshape(-1, 1)
    return np.cos(np.pi * (2 * n + 1) * k / (2 * SIZE))


def _pillow() -> Any:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    return Image


def _hash(img: Any) -> str:
    """The 16 hex digits of an image already decoded and turned upright (its size checked from the
    header: JPEG draft decoding never goes below 256 px a side); NotComparable when nearly one colour."""
    grey = img.convert("L").resize((SIZE, SIZE), _pillow().Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    if float(pixels.std()) < MIN_SPREAD:
        raise NotComparable("too plain to compare (nearly one colour)")
    matrix = _dct_matrix()
    dct = matrix @ pixels @ matrix.T
    low = dct[:LOW, :LOW]
    bits = (low > median(low)).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def median(values: Any) -> float:
    """np.median of an array with an even number of values, to the bit (the mean of the two middle
    ones), without np.median's first call importing numpy.ma (12 ms in every worker)."""
    flat = np.sort(values, axis=None)
    middle = flat[flat.size // 2 - 1:flat.size // 2 + 1]
    return float((middle[0] + middle[1]) / 2)


def phash_bytes(data: bytes) -> tuple[str, int, int]:
    """The perceptual hash of encoded image bytes (JPEG decoded at a reduced scale: only 32x32 is used).

    Raises NotComparable for images too small or plain, and Pillow's errors for undecodable ones
    (`PIL.UnidentifiedImageError` when the format is not an image Pillow reads, OSError when it is
    truncated or damaged)."""
    from PIL import ImageFile, ImageOps

    image_mod = _pillow()
    with image_mod.open(io.BytesIO(data)) as img:
        size = img.size
        if min(size) < MIN_SIDE:  # known from the header: not decoded for nothing
            raise NotComparable(f"too small to compare ({size[0]}x{size[1]})")
        if img.format == "JPEG":
            img.draft("RGB", (SIZE * 8, SIZE * 8))  # DCT scaling: never below 256 px a side
        # a truncated image is not hashed, whoever else set Pillow to fill what is missing (WeasyPrint does)
        lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            img.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = lenient
        ImageOps.exif_transpose(img, in_place=True)  # upright without a copy of the decoded image
        return _hash(img), size[0], size[1]


def distance(a: str, b: str) -> int:
    """Hamming distance of two hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def to_ints(values: list[str]) -> Any:
    """Hex hashes as a numpy uint64 array (for many distances at once)."""
    return np.array([int(v, 16) for v in values], dtype=np.uint64)


def within(needle: int, hay: Any, threshold: int = THRESHOLD) -> Any:
    """Indices of `hay` (uint64 array) within `threshold` bits of `needle`."""
    if len(hay) == 0:
        return np.empty(0, dtype=np.int64)
    return np.nonzero(np.bitwise_count(hay ^ np.uint64(needle)) <= threshold)[0]
