"""TSK times to RFC 3339 text: a converted time is remembered, and remembering changes nothing."""

from __future__ import annotations

import random
from typing import Any

import pytest

from triage.image import walk
from triage.image.walk import time_converter

TIMES = [(sec + extra, nano) for sec in (0, -86400 * 400, 1, 1_700_000_000, 253402300801, 2**40) for extra in (0, 3)
         for nano in (0, 1, 500_000_000, 999_999_999, 1_000_000_001, 2**32 - 1)]


@pytest.mark.parametrize("cache", [walk.TIME_CACHE, 7])  # 7: forgotten and converted again, many times
def test_remembered_times_are_the_times_computed_afresh(monkeypatch: Any, cache: int) -> None:
    monkeypatch.setattr(walk, "TIME_CACHE", cache)
    order = TIMES * 3
    random.Random(5).shuffle(order)
    for fs_type, tz in (("ext4", "UTC"), ("FAT32", "Africa/Tripoli"), ("NTFS", "UTC")):
        cached = time_converter(fs_type, tz)
        for sec, nano in order:
            assert cached(sec, nano) == time_converter(fs_type, tz)(sec, nano), (fs_type, sec, nano)
    assert time_converter("ext4", "UTC")(1_700_000_000, 500_000_000) == "2023-11-14T22:13:20.5Z"
    assert time_converter("ext4", "UTC")(1_700_000_000, 1_000_000_001) == "2023-11-14T22:13:20.1000000001Z"
    assert time_converter("ext4", "UTC")(0, 5) is None
