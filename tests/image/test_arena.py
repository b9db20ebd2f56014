"""The shared arena through which the reader hands small files' content to the worker processes."""

from __future__ import annotations

import faulthandler
import hashlib
import multiprocessing
import random
import signal
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from triage.image import engine
from triage.image.arena import Arena

from test_engine_workers import run_pipeline


def test_regions_in_use_never_overlap_and_are_reused_once_done() -> None:
    arena = Arena(1000)
    rng = random.Random(7)
    live: list[tuple[int, int, Future[Any]]] = []
    placed = 0
    for _ in range(2000):
        length = rng.randint(1, 400)
        start = arena.place(length)
        if start is None:  # full: the oldest task finishes (as a worker answering), then there is room
            assert live, "an empty arena always has room for a region no larger than itself"
            live[0][2].set_result([])
            live.pop(0)
            continue
        assert 0 <= start and start + length <= 1000
        for other_start, other_end, _ in live:
            assert start + length <= other_start or start >= other_end, "a region in use is never handed out again"
        task: Future[Any] = Future()
        arena.hold(start, start + length, task)
        live.append((start, start + length, task))
        placed += 1
        if rng.random() < 0.3:  # tasks end in any order; a region is reused in ring order
            done = rng.choice(live)
            done[2].set_result([])
            live.remove(done)
    assert placed > 1000
    arena.close()


def test_a_region_is_reused_after_a_failed_task_and_a_too_large_one_is_refused() -> None:
    arena = Arena(100)
    task: Future[Any] = Future()
    arena.hold(0, 80, task)
    assert arena.place(30) is None
    task.set_exception(RuntimeError("the pool broke"))  # re-run by value from the reader's copy
    assert arena.place(30) == 0
    assert arena.place(101) is None
    arena.close()


def _write_into(arena: Arena) -> None:
    faulthandler.disable()  # the fault is expected: no traceback on the test's output
    arena.protect()
    assert arena.read(0, 5) == b"hello"
    arena.map[0:1] = b"X"  # read-only in a worker: this faults


def test_workers_see_the_content_read_only() -> None:
    arena = Arena(4096)
    arena.put(0, b"hello")
    child = multiprocessing.get_context("fork").Process(target=_write_into, args=(arena,))
    child.start()
    child.join()
    assert child.exitcode == -signal.SIGSEGV
    assert arena.read(0, 5) == b"hello"
    arena.close()


@pytest.mark.parametrize("arena_bytes", [96 * 1024, 1000])
def test_rows_are_the_same_through_a_small_arena_or_by_value(tmp_path: Path, monkeypatch: Any,
                                                             arena_bytes: int) -> None:
    """96 KiB: the ring wraps round many times and the reader waits for the oldest batch; 1000
    bytes: no batch fits, the content goes by value. Every row is what the file holds."""
    folder = tmp_path / "f"
    folder.mkdir()
    rng = random.Random(3)
    for n in range(60):
        (folder / f"{n:02d}.txt").write_text("".join(rng.choice("abc de\n") for _ in range(rng.randint(100, 40_000))))
    monkeypatch.setattr(engine, "ARENA_BYTES", arena_bytes)
    monkeypatch.setattr(engine, "BATCH_BYTES", 64 * 1024)
    rows, warnings = run_pipeline(folder, [])
    assert not warnings and len(rows) == 60
    for name, row in rows.items():
        data = (folder / name).read_bytes()
        assert (row["sha256"], row["md5"], row["size"]) == (hashlib.sha256(data).hexdigest(),
                                                             hashlib.md5(data).hexdigest(), len(data))
        assert row["mime"] == "text/plain" and row["error"] is None
