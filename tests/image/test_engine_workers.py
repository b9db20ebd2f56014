"""The parse pipeline's worker processes: a file whose analysis kills a worker (a fault in a C
library on hostile content) costs that file its analysis, not the run and not its neighbours."""

from __future__ import annotations

import ctypes
import hashlib
import json
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


def test_a_file_that_crashes_a_worker_loses_only_its_own_analysis(tmp_path: Path, monkeypatch: Any) -> None:
    from triage.image import engine

    monkeypatch.setattr(engine, "BATCH_FILES", 8)  # several batches before and after the bad file's
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


def test_copies_of_one_content_share_its_type_but_not_their_names(tmp_path: Path) -> None:
    """The reader hashes each small file so a copy of content already typed skips libmagic; what
    depends on the name (extension mismatch, rules on `filename`) is still computed per copy."""
    import yara

    from triage.analyzers import rulesets

    folder = tmp_path / "phone"
    (folder / "a").mkdir(parents=True)
    (folder / "b").mkdir()
    content = "meeting point at the port then bring cash\n" * 50
    for n in range(40):  # the first copy is analysed long before the last ones are read
        (folder / "a" / f"{n:02d}.txt").write_text(content if n == 0 else f"other {n}\n")
    (folder / "b" / "copy.txt").write_text(content)
    (folder / "b" / "copy.jpg").write_text(content)
    rule = tmp_path / "names.yar"
    rule.write_text('rule named_copy { meta: description = "d" author = "a" reference = "r" severity = "low"'
                    ' strings: $a = "meeting point" condition: $a and filename == "copy.jpg" }\n')
    rows: list[dict[str, Any]] = []
    settings = Settings(rules=rulesets.compile_rules([rule]))
    pipeline = Pipeline(analyzers.build(settings), "EXH-1", 1, 2, rows.extend, lambda loc, msg: None)
    for entry in logical.walk_dir(folder, lambda loc, msg: None):
        pipeline.submit(entry)
    pipeline.close()
    assert isinstance(settings.rules.full, yara.Rules)
    by_path = {r["path"]: r for r in rows}
    first, txt, jpg = by_path["/a/00.txt"], by_path["/b/copy.txt"], by_path["/b/copy.jpg"]
    digest = hashlib.sha256(content.encode()).hexdigest()
    assert first["sha256"] == txt["sha256"] == jpg["sha256"] == digest
    assert first["md5"] == txt["md5"] == jpg["md5"] == hashlib.md5(content.encode()).hexdigest()
    assert first["mime"] == txt["mime"] == jpg["mime"] == "text/plain"
    assert pipeline.known_mime[bytes.fromhex(digest)] == "text/plain"
    assert (txt["ext_mismatch"], jpg["ext_mismatch"]) == (0, 1)
    assert [m["rule"] for m in json.loads(jpg["yara_matches"])] == ["named_copy"]
    assert json.loads(txt["yara_matches"]) == [] == json.loads(first["yara_matches"])


def test_known_content_skips_libmagic_and_sha256() -> None:
    """What the reader hands on is used as is (the same bytes were hashed and typed before)."""
    from triage.analyzers.filetype import FileType
    from triage.analyzers.hashes import Hashes

    data = b"plain words\n" * 10
    blob = Blob("/x.txt", "x.txt", len(data), data, data=data)
    blob.found.update({"_sha256": "ab" * 32, "_mime": "application/x-seen-before"})
    assert Hashes(Settings()).analyse(blob)["sha256"] == "ab" * 32
    assert Hashes(Settings()).analyse(blob)["md5"] == hashlib.md5(data).hexdigest()
    assert FileType(Settings()).analyse(blob)["mime"] == "application/x-seen-before"
    fresh = Blob("/x.txt", "x.txt", len(data), data, data=data)
    assert Hashes(Settings()).analyse(fresh)["sha256"] == hashlib.sha256(data).hexdigest()
    assert FileType(Settings()).analyse(fresh)["mime"] == "text/plain"


def test_profile_folder_gets_each_process_analyser_cpu(tmp_path: Path, monkeypatch: Any) -> None:
    """DALIL_PROFILE (benchmarks): each process that analysed files leaves its analysers' CPU seconds."""
    from triage.image import engine

    folder, profile = tmp_path / "files", tmp_path / "profile"
    folder.mkdir()
    profile.mkdir()
    for n in range(50):
        (folder / f"{n}.txt").write_text(f"note {n}\n" * 200)
    monkeypatch.setattr(engine, "PROFILE", str(profile))
    monkeypatch.setattr(engine, "_CPU", {})
    rows, _ = run_pipeline(folder, [])
    assert len(rows) == 50
    reports = [json.loads(p.read_text()) for p in profile.glob("cpu-*.json")]
    assert reports and all(p.name != f"cpu-{os.getpid()}.json" for p in profile.iterdir())  # the workers' own
    assert {"hashes", "filetype", "yara"} <= set().union(*reports)
    assert sum(r["filetype"] for r in reports) > 0


class Gate:
    """Not registered: holds a streamed (large) file's analysis until the test opens it."""

    NAME = "gate"

    def __init__(self) -> None:
        import threading

        self.open = threading.Event()

    def analyse(self, blob: Blob) -> dict[str, Any]:
        if blob.data is None:  # streamed in the reader's thread, at the head of the queue
            assert self.open.wait(60)
        return {}


def test_finished_batches_let_their_content_go_behind_a_large_file(tmp_path: Path, monkeypatch: Any) -> None:
    """Rows are taken in order, so batches the workers finished wait behind a large file still being
    analysed; their content must not wait with them (it held 400 MB on a phone-sized image)."""
    import time

    from triage.image import engine

    monkeypatch.setattr(engine, "SMALL", 4096)
    monkeypatch.setattr(engine, "BATCH_FILES", 4)
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "big.bin").write_bytes(os.urandom(200_000))
    for n in range(16):
        (folder / f"small{n:02d}.txt").write_text(f"note {n}\n" * 50)
    entries = sorted(logical.walk_dir(folder, lambda loc, msg: None), key=lambda e: e.name != "big.bin")
    gate, rows = Gate(), []
    pipeline = Pipeline(analyzers.build(Settings()) + cast(list[Analyzer], [gate]), "EXH-1", 1, 2, rows.extend,
                        lambda loc, msg: None)
    try:
        for entry in entries:
            pipeline.submit(entry)
        pipeline._send_batch()
        batches = list(pipeline.pending)[1:]
        assert len(batches) == 4 and not pipeline.pending[0].done()
        deadline = time.monotonic() + 60
        while not all(blob is engine._SPENT for f in batches for blob, _row in f.items):
            assert time.monotonic() < deadline, "finished batches still hold their content"
            time.sleep(0.05)
        assert not pipeline.pending[0].done(), "the large file is still at the head"
    finally:
        gate.open.set()
        pipeline.close()
    by_name = {r["name"]: r for r in rows}
    assert len(by_name) == 17 and by_name["small03.txt"]["mime"] == "text/plain"
    assert by_name["small03.txt"]["sha256"] == hashlib.sha256((folder / "small03.txt").read_bytes()).hexdigest()
    assert by_name["big.bin"]["sha256"] == hashlib.sha256((folder / "big.bin").read_bytes()).hexdigest()
