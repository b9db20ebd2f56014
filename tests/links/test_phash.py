"""Perceptual hashes: copies of a photo stay within the threshold, different photos never do, and
images too small or plain to compare get no hash."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image, ImageEnhance

from triage.analyzers import Blob, Settings
from triage.analyzers.phash import PerceptualHash
from triage.links import phash

PHOTOS = ["exif/jpg/gps/DSCN00%s.jpg" % n for n in ("10", "12", "21", "25", "27", "29", "38", "40", "42")] + [
    "exif/jpg/Canon_40D.jpg", "exif/jpg/Nikon_D70.jpg", "exif/jpg/Pentax_K10D.jpg", "exif/jpg/Kodak_CX7530.jpg",
    "exif/jpg/Samsung_Digimax_i50_MP3.jpg", "exif/jpg/Canon_DIGITAL_IXUS_400.jpg", "exif/jpg/Olympus_C8080WZ.jpg"]


def _save(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def _copies(data: bytes) -> dict[str, bytes]:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    half = img.resize((img.width // 2, img.height // 2), Image.Resampling.BILINEAR)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned, shown upright: what phones write
    return {"jpeg q30": _save(img, "JPEG", quality=30), "half size q60": _save(half, "JPEG", quality=60),
            "png": _save(img, "PNG"), "webp q50": _save(img, "WEBP", quality=50),
            "double size": _save(img.resize((img.width * 2, img.height * 2)), "JPEG", quality=85),
            "brighter": _save(ImageEnhance.Brightness(img).enhance(1.15), "JPEG", quality=70),
            "turned, EXIF orientation": _save(img.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90, exif=exif)}


def test_copies_match_and_other_photos_do_not(testdata: Callable[[str], Path]) -> None:
    hashes = {}
    for rel in PHOTOS:
        data = testdata(rel).read_bytes()
        original, _, _ = phash.phash_bytes(data)
        hashes[rel] = original
        for name, copy in _copies(data).items():
            assert phash.distance(original, phash.phash_bytes(copy)[0]) <= phash.THRESHOLD, (rel, name)
    closest = min(phash.distance(a, b) for a, b in itertools.combinations(hashes.values(), 2))
    assert closest > phash.THRESHOLD + 4  # a margin between the closest different photos and the threshold


def test_too_small_or_plain_is_not_compared() -> None:
    with pytest.raises(phash.NotComparable):
        phash.phash_bytes(_save(Image.new("RGB", (24, 24), (200, 10, 10)), "PNG"))
    with pytest.raises(phash.NotComparable):
        phash.phash_bytes(_save(Image.new("RGB", (400, 300), (20, 90, 200)), "JPEG"))
    with pytest.raises(Exception):  # not an image at all
        phash.phash_bytes(b"GIF89a but not really")


def test_analyser_fills_the_phash_column(testdata: Callable[[str], Path]) -> None:
    data = testdata("exif/jpg/gps/DSCN0010.jpg").read_bytes()
    analyser = PerceptualHash(Settings())
    blob = Blob("/DCIM/boat.jpg", "boat.jpg", len(data), data[:1024], data=data, found={"mime": "image/jpeg"})
    assert analyser.analyse(blob) == {"phash": phash.phash_bytes(data)[0]}
    assert analyser.analyse(Blob("/a.txt", "a.txt", 3, b"abc", data=b"abc", found={"mime": "text/plain"})) == {}
    known = Blob("/w.jpg", "w.jpg", len(data), data[:1024], data=data, found={"mime": "image/jpeg", "known": "good"})
    assert analyser.analyse(known) == {}
    odd = Blob("/x.jpg", "x.jpg", 12, b"not an image", data=b"not an image", found={"mime": "image/jpeg"})
    assert analyser.analyse(odd) == {}  # Pillow does not recognise it: no hash, no failure
    truncated = data[: len(data) // 3]
    with pytest.raises(OSError):
        phash.phash_bytes(truncated)
    from PIL import ImageFile

    before, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, True  # as WeasyPrint leaves it
    try:
        with pytest.raises(OSError):
            phash.phash_bytes(truncated)
        assert analyser.analyse(Blob("/t.jpg", "t.jpg", len(truncated), truncated[:1024], data=truncated,
                                     found={"mime": "image/jpeg"})) == {}  # recovered files are often cut: no warning
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


def test_within_uses_the_threshold() -> None:
    hay = phash.to_ints(["0000000000000000", "00000000000003ff", "00000000000007ff", "ffffffffffffffff"])
    assert list(phash.within(0, hay)) == [0, 1]  # distances 0, 10, 11, 64


def test_median_is_numpys_to_the_bit() -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    for i in range(2000):
        low = rng.normal(size=(8, 8)) * (10.0 ** rng.integers(-6, 9))
        if i % 3 == 0:
            low = np.round(low)  # ties in the middle
        assert phash.median(low) == float(np.median(low))
