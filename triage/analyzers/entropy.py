"""Shannon entropy of the head; flags likely encrypted containers (random bytes, no container format).

The flag does not trust libmagic's type: libmagic gives random bytes a weak match about 1% of the
time (an MS-DOS executable, zlib, MPEG audio, even text/PGP), and a VeraCrypt container is random
bytes. What lets high entropy go unflagged is a container or compressed format that may hold
random-looking data, recognised by its own signature (fixed bytes at a fixed offset, which random
bytes carry with a chance of 2^-24 or less): see `container_signature`.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from types import ModuleType
from typing import Any

from . import Analyzer, Blob

SAMPLE = 64 * 1024
LARGE = 1024 * 1024
MIN_SIZE = 64 * 1024
THRESHOLD = 7.99  # bits per byte over a 64 KiB sample
OPAQUE = {"application/octet-stream", "application/x-encrypted", "application/pgp-encrypted"}
# a byte value 2,048 times in a 64 KiB sample caps its entropy at 7.95 bits: no need to count the rest
CROWDED = 2048
# (offset, bytes) of formats that can carry random-looking content (compressed, media, archives)
SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (0, b"PK\x03\x04"), (0, b"PK\x05\x06"), (0, b"PK\x07\x08"),  # zip and its kin (docx, apk, jar, odt)
    (0, b"\x1f\x8b\x08"), (0, b"BZh"), (0, b"\xfd7zXZ\x00"), (0, b"7z\xbc\xaf\x27\x1c"),  # gzip, bzip2, xz, 7z
    (0, b"Rar!\x1a\x07"), (0, b"\x28\xb5\x2f\xfd"), (0, b"\x04\x22\x4d\x18"), (0, b"MSCF\x00\x00\x00\x00"),
    (0, b"!<arch>\n"), (257, b"ustar"), (0, b"\xed\xab\xee\xdb"),  # ar (.deb), tar, rpm
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), (0, b"%PDF-"),  # OLE2 (doc, msi), PDF
    (0, b"\x89PNG\r\n\x1a\n"), (0, b"\xff\xd8\xff"), (0, b"GIF87a"), (0, b"GIF89a"), (0, b"\x00\x00\x00\x0cjP  "),
    (4, b"ftyp"), (0, b"RIFF"), (0, b"OggS\x00"), (0, b"\x1a\x45\xdf\xa3"), (0, b"fLaC"),  # mp4/mov/heic, wav/avi/webp
    (0, b"ID3\x02"), (0, b"ID3\x03"), (0, b"ID3\x04"), (0, b"wOFF"), (0, b"wOF2"),
)
# numpy counts a 64 KiB sample in 0.15 ms against 3.6 ms for Counter, but importing it costs about
# 0.2 s: it is loaded only once a process has counted this many samples (a phone full of videos),
# not for the few large files of a document folder (unless the process has it already). Both give
# the same counts, so the same value.
NUMPY_AFTER = 48
NUMPY_IF_LOADED = True  # numpy from the first sample when the process has imported it already

_numpy: ModuleType | None = None
_numpy_missing = False  # the import failed once: not tried again for every sample
_counted = 0


def _load_numpy() -> ModuleType | None:
    global _numpy, _numpy_missing
    if _numpy is None and not _numpy_missing:
        try:
            import numpy
        except ImportError:  # pragma: no cover - depends on the environment
            _numpy_missing = True
            return None
        _numpy = numpy
    return _numpy


def byte_counts(data: bytes) -> list[int]:
    """How often each byte value 0..255 occurs in `data`."""
    global _counted
    _counted += 1
    # numpy at once when this process has it already (dalil parse imports it before its workers fork)
    numpy = _load_numpy() if _counted > NUMPY_AFTER or (NUMPY_IF_LOADED and "numpy" in sys.modules) else None
    if numpy is not None:
        return [int(c) for c in numpy.bincount(numpy.frombuffer(data, dtype=numpy.uint8), minlength=256)]
    counts = Counter(data)
    return [counts.get(value, 0) for value in range(256)]


def shannon(data: bytes) -> float:
    """Bits per byte (0..8)."""
    if not data:
        return 0.0
    total = len(data)
    return -sum(c / total * math.log2(c / total) for c in byte_counts(data) if c)


def container_signature(head: bytes) -> bool:
    """True when the content starts as a compressed, media or archive format does."""
    if head.startswith(b"\x1f\x8b\x08") and len(head) > 3 and head[3] & 0xE0:
        return False  # gzip's reserved flag bits are never set
    if head.startswith(b"BZh") and head[3:10] not in {bytes([d]) + b"1AY&SY" for d in b"123456789"}:
        return False
    return any(head[offset:offset + len(magic)] == magic for offset, magic in SIGNATURES)


def looks_random(sample: bytes) -> bool:
    """Whether `sample` (a full SAMPLE) can reach THRESHOLD: text and most binaries are ruled out by
    counting one or two byte values (C speed) before a full count."""
    return sample.count(b" ") < CROWDED and sample.count(b"\x00") < CROWDED


class Entropy(Analyzer):
    NAME = "entropy"
    VERSION = "1.1"
    ORDER = 35

    def analyse(self, blob: Blob) -> dict[str, Any]:
        if blob.size < 4096:
            return {}
        mime = blob.found.get("mime")
        measured = mime in OPAQUE or blob.size >= LARGE  # the files whose entropy is recorded
        sample = blob.head[:SAMPLE]
        candidate = blob.size >= MIN_SIZE and len(sample) == SAMPLE and not container_signature(blob.head)
        if not measured and not (candidate and looks_random(sample)):
            return {}  # neither recorded nor possibly random: skip the count
        value = round(shannon(sample), 4)
        flag = candidate and value >= THRESHOLD
        if not measured and not flag:
            return {}
        return {"entropy": value, "encrypted_flag": int(flag)}
