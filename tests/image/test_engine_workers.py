"""The parse pipeline's worker processes: a file whose analysis kills a worker (a fault in a C
library on hostile content) costs that file its analysis, not the run and not its neighbours."""

from __future__ import annotations

import ctypes
import hashlib
import os
import resource
from pathlib import Path
from typing import Any, cast

from triage import analyzers
from triage.analyzers import Analyzer, Blob, Settings
from triage.image import logical
from triage.image.engine import Pipeline


class Crasher:
    """Not registered (no Analyzer subclass): segfaults the worker on a marker, like a C library would."""

    NAME = "crasher"

    def analyse(self, blob: Blob) -> dict[str, Any]:
        if b"SEGFAULT-ME" in blob.head:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            ctypes.string_at(0)  # SIGSEGV in the worker process
        return {}


def run_pipeline(folder: Path, extra: list[Any], jobs: int = 2) -> tuple[dict[str, dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    chosen = analyzers.build(Settings()) + cast(list[Analyzer], extra)
    pipeline = Pipeline(chosen, "EXH-1", 1, jobs, rows.extend, lambda loc, msg: warnings.append(f"{loc}: {msg}"))
    for entry in logical.walk_dir(folder, lambda loc, msg: warnings.append(msg)):
        pipeline.submit(entry)
    pipeline.close()
    return {r["name"]: r for r in rows}, warnings


def test_a_file_that_crashes_a_worker_loses_only_its_own_analysis(tmp_path: Path) -> None:
    folder = tmp_path / "extraction"
    folder.mkdir()
    for n in range(40):  # more than one batch, before and after the bad file
        (folder / f"note{n:02d}.txt").write_text(f"ordinary note {n}\n" * 20)
    bad = b"%PDF-1.4\nSEGFAULT-ME\n"
    (folder / "note20-bad.pdf").write_bytes(bad)
    parent = os.getpid()

    rows, warnings = run_pipeline(folder, [Crasher()])

    assert os.getpid() == parent
    assert len(rows) == 41, "every file has its row"
    crashed = rows["note20-bad.pdf"]
    assert "crashed a worker process" in crashed["error"]
    assert crashed["sha256"] == hashlib.sha256(bad).hexdigest(), "hashes are still computed"
    assert crashed["mime"] is None
    assert any("note20-bad.pdf" in w and "crashed" in w for w in warnings)
    others = [r for name, r in rows.items() if name != "note20-bad.pdf"]
    assert all(r["mime"] == "text/plain" and r["error"] is None for r in others), "neighbours analysed in full"
    for r in others:
        assert r["sha256"] == hashlib.sha256((folder / r["name"]).read_bytes()).hexdigest()


def test_workers_give_the_same_rows_as_one_worker(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    for n in range(70):
        (folder / f"{n:02d}.txt").write_text(f"call +218 91 234 56{n:02d} now\n" if n % 7 == 0 else f"plain {n}\n")
    one, _ = run_pipeline(folder, [], jobs=1)
    two, _ = run_pipeline(folder, [], jobs=2)
    assert one == two
    assert sum(1 for r in two.values() if r["indicators"]) == 10
