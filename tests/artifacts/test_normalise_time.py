"""Cocoa times keep the precision the store holds: seconds, milliseconds or microseconds."""

from __future__ import annotations

from triage.artifacts.normalise import cocoa, unix_ms, webkit


def test_cocoa_precision_is_what_the_store_keeps() -> None:
    assert unix_ms(1383065788038) == "2013-10-29T16:56:28.038Z"                 # Android: milliseconds
    assert cocoa(470573320) == "2015-11-30T10:48:40Z"                            # Cocoa seconds
    assert cocoa(531955468.829571) == "2017-11-09T21:24:28.829571Z"              # Safari: microseconds
    assert cocoa(606520077.068197) == "2020-03-21T21:47:57.068197Z"              # Core Data
    assert cocoa(707098883123456789) == "2023-05-30T00:21:23.123456Z"            # iOS 11+ nanoseconds
    assert webkit(13158837312123456) == "2017-12-27T08:35:12.123456Z"            # past 2**53: exact


def test_every_microsecond_of_a_cocoa_float_survives() -> None:
    for micro in range(0, 1_000_000, 997):
        value = float(f"700000000.{micro:06d}")
        assert cocoa(value) == (f"2023-03-08T20:26:40.{micro:06d}Z" if micro % 1000
                                else f"2023-03-08T20:26:40.{micro // 1000:03d}Z" if micro else "2023-03-08T20:26:40Z")
