"""Streaming multi-algorithm hashing against hashlib on real data."""

from __future__ import annotations

import functools
import hashlib
import io
import os
from pathlib import Path
from typing import Any, Callable

import pytest

import sys

from triage.core.hashing import (DEFAULT_ALGORITHMS, GIVE_WAY_NICE, Digests, MultiHasher, hash_bytes, hash_stream,
                                 parse_expect, sha256_file, share_out)


@pytest.mark.parametrize("size", [0, 1, 2047, 8 * 1024 * 1024, 8 * 1024 * 1024 + 13, 20_000_000])
def test_hash_stream_matches_hashlib(size: int) -> None:
    data = os.urandom(size)
    copy = io.BytesIO()
    digests = hash_stream(io.BytesIO(data), sinks=[copy.write], chunk=4 * 1024 * 1024)
    assert digests.size == size
    assert digests.md5 == hashlib.md5(data).hexdigest()
    assert digests.sha1 == hashlib.sha1(data).hexdigest()
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert copy.getvalue() == data


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_any_number_of_hashing_threads_gives_the_same_digests(threads: int) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    copy = io.BytesIO()
    hasher = MultiHasher(sinks=[copy.write], threads=threads)
    assert len(hasher._consumers) == min(threads, 3) + 1  # the hashing threads and the sink's
    for i in range(0, len(data), 1024 * 1024):
        hasher.update(data[i:i + 1024 * 1024])
    digests = hasher.finish()
    assert digests.hexdigests == {a: hashlib.new(a, data).hexdigest() for a in DEFAULT_ALGORITHMS}
    assert copy.getvalue() == data


def test_algorithms_are_shared_out_by_cost_busiest_thread_first() -> None:
    costs = {"md5": 1.0, "sha1": 0.4, "sha256": 0.45}  # as measured with SHA extensions
    assert share_out(costs, 2) == [["md5"], ["sha256", "sha1"]]
    assert share_out(costs, 1) == [["md5", "sha256", "sha1"]]
    assert share_out(costs, 3) == share_out(costs, 16) == [["md5"], ["sha256"], ["sha1"]]
    slow_sha256 = {"md5": 1.0, "sha1": 0.6, "sha256": 2.2}  # without them
    assert share_out(slow_sha256, 2) == [["sha256"], ["md5", "sha1"]]
    assert share_out({"sha256": 1.0, "md5": 0.5, "sha1": 0.6}, 2) == [["sha1", "md5"], ["sha256"]]  # 1.1 > 1.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads have their own nice value on Linux")
def test_threads_other_than_the_busiest_give_way_to_it() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    hasher = MultiHasher(sinks=[lambda chunk: None], threads=2)
    hasher.update(os.urandom(1024 * 1024))
    hasher.finish()
    first, *others = hasher._consumers
    assert first.niceness == base
    assert others and all(c.niceness == min(19, base + GIVE_WAY_NICE) for c in others)
    assert os.getpriority(os.PRIO_PROCESS, 0) == base  # the caller's own thread is left alone


def test_known_vector() -> None:
    d = hash_bytes(b"abc")
    assert d.md5 == "900150983cd24fb0d6963f7d28e17f72"
    assert d.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_sink_error_propagates() -> None:
    def broken(_: bytes) -> None:
        raise OSError(28, "No space left on device")

    hasher = MultiHasher(sinks=[broken])
    hasher.update(b"x" * 4096)
    with pytest.raises(OSError):
        for _ in range(10):
            hasher.update(b"y" * 4096)
        hasher.finish()


def feed_through_ring(hasher: MultiHasher, ring: Any, data: bytes, give: Callable[[int], None]) -> Digests:
    """Hand `data` to `hasher` in the ring's reused buffers, as an acquisition does; its digests."""
    for at in range(0, len(data), ring.size):
        index, view = ring.take()
        part = data[at:at + ring.size]
        view[:len(part)] = part
        hasher.update(view[:len(part)], done=functools.partial(give, index))
    return hasher.finish()


def test_reused_buffers_come_back_only_after_every_consumer() -> None:
    """Three buffers refilled again and again: each returns (once) only when all four consumers
    are done with it, so the digests and the sink's copy are those of the whole stream."""
    from triage.image.ring import BufferRing

    data = os.urandom(3 * 1024 * 1024 + 777)
    piece = 64 * 1024
    copy = bytearray()
    ring = BufferRing(3, piece)
    given: list[int] = []

    def give(index: int) -> None:
        given.append(index)
        ring.give(index)

    hasher = MultiHasher(sinks=[copy.extend], depth=8)
    digests = feed_through_ring(hasher, ring, data, give)
    assert digests.sha256 == hashlib.sha256(data).hexdigest() and digests.md5 == hashlib.md5(data).hexdigest()
    assert bytes(copy) == data
    assert len(given) == -(-len(data) // piece)


def test_buffers_come_back_after_a_consumer_error() -> None:
    """A failing sink must not keep buffers: the reader would wait for a free one forever."""
    from triage.image.ring import BufferRing

    def broken(_: bytes) -> None:
        raise OSError(28, "No space left on device")

    ring = BufferRing(2, 4096)
    hasher = MultiHasher(sinks=[broken])
    with pytest.raises(OSError):
        for _ in range(50):  # far more than the ring holds: each take() needs a buffer given back
            index, view = ring.take()
            hasher.update(view, done=functools.partial(ring.give, index))
        hasher.finish()
    hasher.abort()
    assert sorted(ring.take()[0] for _ in range(2)) == [0, 1]


def test_a_gathering_sink_gets_the_waiting_chunks_together_in_order() -> None:
    """A slow gathering sink (a disk) receives lists of the chunks waiting for it, never more than
    `gather`, in stream order; each buffer still returns once all consumers are done with it."""
    import threading
    import time

    from triage.image.ring import BufferRing

    data = os.urandom(2 * 1024 * 1024 + 123)
    piece = 32 * 1024
    lists: list[int] = []
    copy = bytearray()
    first = threading.Event()

    def slow(chunks: list[bytes | memoryview]) -> None:
        if not first.is_set():
            first.set()
            time.sleep(0.2)  # meanwhile the ring fills behind this sink
        lists.append(len(chunks))
        for chunk in chunks:
            copy.extend(chunk)

    ring = BufferRing(8, piece)
    given: list[int] = []

    def give(index: int) -> None:
        given.append(index)
        ring.give(index)

    hasher = MultiHasher(gathering_sinks=[slow], depth=8, gather=4)
    digests = feed_through_ring(hasher, ring, data, give)
    assert bytes(copy) == data and digests.sha1 == hashlib.sha1(data).hexdigest()
    assert max(lists) == 4 and min(lists) >= 1, lists  # gathered while it was behind, never above gather
    assert sum(lists) == len(given) == -(-len(data) // piece)
    unthreaded = bytearray()

    def keep(chunks: list[bytes | memoryview]) -> None:
        for chunk in chunks:
            unthreaded.extend(chunk)

    plain = MultiHasher(gathering_sinks=[keep], threaded=False)
    plain.update(b"abc")
    assert plain.finish().size == 3 and bytes(unthreaded) == b"abc"


def test_buffers_come_back_after_a_gathering_sink_error() -> None:
    from triage.image.ring import BufferRing

    def broken(_: list[bytes | memoryview]) -> None:
        raise OSError(28, "No space left on device")

    ring = BufferRing(2, 4096)
    hasher = MultiHasher(gathering_sinks=[broken])
    with pytest.raises(OSError):
        for _ in range(50):
            index, view = ring.take()
            hasher.update(view, done=functools.partial(ring.give, index))
        hasher.finish()
    hasher.abort()
    assert sorted(ring.take()[0] for _ in range(2)) == [0, 1]


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"hello")
    assert sha256_file(path) == hashlib.sha256(b"hello").hexdigest()


@pytest.mark.parametrize("text,expected", [
    ("sha256:" + "A" * 64, ("sha256", "a" * 64)),
    ("md5:" + "0" * 32, ("md5", "0" * 32)),
    ("SHA1:" + "f" * 40, ("sha1", "f" * 40)),
])
def test_parse_expect_ok(text: str, expected: tuple[str, str]) -> None:
    assert parse_expect(text) == expected


@pytest.mark.parametrize("text", ["", "sha256", "sha256:abc", "crc32:00000000", "md5:" + "g" * 32, "0" * 64])
def test_parse_expect_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        parse_expect(text)



def test_a_hash_carried_on_from_states_equals_one_pass() -> None:
    """`states()` hands the hash objects over; a MultiHasher given them goes on (resume.py)."""
    data = os.urandom(3 * 1024 * 1024 + 17)
    first = MultiHasher(DEFAULT_ALGORITHMS)
    first.update(data[:1024 * 1024])
    second = MultiHasher(DEFAULT_ALGORITHMS, resume_from=first.states(), size=1024 * 1024)
    second.update(data[1024 * 1024:])
    got = second.finish()
    assert got.size == len(data)
    assert got.hexdigests == {a: hashlib.new(a, data).hexdigest() for a in DEFAULT_ALGORITHMS}
