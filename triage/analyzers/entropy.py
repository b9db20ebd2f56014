"""Shannon entropy of the head; flags likely encrypted containers (random bytes, no known type)."""

from __future__ import annotations

from typing import Any

import math
from collections import Counter
from types import ModuleType

from . import Analyzer, Blob

numpy: ModuleType | None
try:  # optional speed-up; the result is the same
    import numpy
except ImportError:  # pragma: no cover - depends on the environment
    numpy = None

SAMPLE = 64 * 1024
LARGE = 1024 * 1024
MIN_SIZE = 64 * 1024
THRESHOLD = 7.99  # bits per byte over a 64 KiB sample
OPAQUE = {"application/octet-stream", "application/x-encrypted", "application/pgp-encrypted"}


def shannon(data: bytes) -> float:
    """Bits per byte (0..8)."""
    if not data:
        return 0.0
    if numpy is not None:
        counts = numpy.bincount(numpy.frombuffer(data, dtype=numpy.uint8), minlength=256)
        p = counts[counts > 0] / len(data)
        return float(-(p * numpy.log2(p)).sum())
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in Counter(data).values())


class Entropy(Analyzer):
    NAME = "entropy"
    VERSION = "1.0"
    ORDER = 35

    def analyse(self, blob: Blob) -> dict[str, Any]:
        mime = blob.found.get("mime")
        if blob.size < 4096 or (mime not in OPAQUE and blob.size < LARGE):
            return {}  # only opaque or large files can be containers: skip the rest
        value = round(shannon(blob.head[:SAMPLE]), 4)
        flag = blob.size >= MIN_SIZE and value >= THRESHOLD and mime in OPAQUE
        return {"entropy": value, "encrypted_flag": int(flag)}
