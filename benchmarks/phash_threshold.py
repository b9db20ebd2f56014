"""Measurement behind `triage.links.phash.THRESHOLD`: Hamming distances between each photo of the
shared test data and copies of it (re-compressed, re-sized, re-encoded, brightened, cropped), and
between different photos. The threshold must sit above the copies and well below different photos.

    python benchmarks/phash_threshold.py [--testdata ../shared/testdata]
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import statistics
import sys
from pathlib import Path

from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from triage.links.phash import THRESHOLD, NotComparable, distance, phash_bytes  # noqa: E402


def _save(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def copies(img: Image.Image) -> dict[str, bytes]:
    w, h = img.size
    return {
        "jpeg q75": _save(img, "JPEG", quality=75), "jpeg q50": _save(img, "JPEG", quality=50),
        "jpeg q30": _save(img, "JPEG", quality=30), "jpeg q15": _save(img, "JPEG", quality=15),
        "half size q60": _save(img.resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.BILINEAR), "JPEG", quality=60),
        "double size q85": _save(img.resize((w * 2, h * 2), Image.Resampling.BICUBIC), "JPEG", quality=85),
        "png": _save(img, "PNG"), "webp q50": _save(img, "WEBP", quality=50),
        "grey q70": _save(img.convert("L"), "JPEG", quality=70),
        "brighter q70": _save(ImageEnhance.Brightness(img).enhance(1.15), "JPEG", quality=70),
        "crop 3% q70": _save(img.crop((int(w * .03), int(h * .03), int(w * .97), int(h * .97))), "JPEG", quality=70),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("DALIL_TESTDATA") or str(Path(__file__).resolve().parents[2] / "shared" / "testdata")
    parser.add_argument("--testdata", default=default)
    root = Path(parser.parse_args().testdata)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    originals: dict[str, str] = {}
    by_copy: dict[str, list[int]] = {}
    skipped = []
    for path in files:
        data = path.read_bytes()
        try:
            value, _, _ = phash_bytes(data)
        except NotComparable as exc:
            skipped.append(f"{path.name} ({exc})")
            continue
        except Exception as exc:  # noqa: BLE001 - a damaged sample: not a photo to measure
            skipped.append(f"{path.name} (undecodable: {type(exc).__name__})")
            continue
        originals[str(path)] = value
        img = Image.open(io.BytesIO(data)).convert("RGB")
        for name, copy in copies(img).items():
            try:
                by_copy.setdefault(name, []).append(distance(value, phash_bytes(copy)[0]))
            except NotComparable:
                pass
    print(f"{len(originals)} photos ({len(skipped)} skipped: {'; '.join(skipped)})")
    print(f"threshold: {THRESHOLD} bits of 64")
    print("copy of the same photo    max  mean  over threshold")
    for name, found in by_copy.items():
        over = sum(d > THRESHOLD for d in found)
        print(f"  {name:22s} {max(found):4d} {statistics.mean(found):5.2f}  {over}/{len(found)}")
    others = [distance(a, b) for a, b in itertools.combinations(originals.values(), 2)]
    print(f"different photos: {len(others)} pairs, min {min(others)}, 1st percentile "
          f"{sorted(others)[len(others) // 100]}, mean {statistics.mean(others):.1f}; "
          f"at or under the threshold: {sum(d <= THRESHOLD for d in others)}")


if __name__ == "__main__":
    main()
