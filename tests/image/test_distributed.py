"""Distributed parsing against a real Redis and real `dalil worker` processes (issue 18).

The `dalil files --format jsonl` listing of a distributed parse must equal the embedded run's,
field by field, except `id` (the row's database id: insertion order) and `run_id` (the run that
wrote it). Faults: a worker killed with SIGKILL mid-task, Redis stopped mid-run, a worker that sees
another image file, every task delivered twice.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import redis

from build_images import ext4_image, gpt_two_partitions, ntfs_image
from redis_lab import DALIL, RedisServer, Workers, dalil, listing, new_case, worker_env

pytestmark = pytest.mark.slow

PHOTO = b"\xff\xd8\xff\xe0" + b"JFIF-ish" * 600
NOTE = "رحلة مضمونة إلى لامبيدوزا — contact +218 91 234 5678, wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n".encode()


def many_files(n: int) -> dict[str, bytes]:
    """`n` small files of varied sizes and types (text with indicators, JPEG-ish, binary)."""
    out = {}
    for i in range(n):
        kind = i % 3
        body = (NOTE * (i % 40 + 1)) if kind == 0 else (PHOTO + bytes([i % 256]) * i) if kind == 1 else bytes(range(256)) * (i % 64 + 1)
        out[f"d{i % 9}/f{i:05d}.{('txt', 'jpg', 'bin')[kind]}"] = body
    return out


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Redis, the test images and phone extraction, and their embedded listings (the reference)."""
    base = tmp_path_factory.mktemp("lab")
    server = RedisServer(base / "redis")
    server.start()
    gpt_dir, ntfs_dir, big_dir = base / "gpt", base / "ntfs", base / "big"
    for d in (gpt_dir, ntfs_dir, big_dir):
        d.mkdir()
    gpt, _, _ = gpt_two_partitions(gpt_dir, {"NOTE.TXT": NOTE * 30, "PHOTO.JPG": PHOTO},
                                   {f"file{i}.txt": NOTE * (i + 1) for i in range(40)})
    ntfs = ntfs_image(ntfs_dir, {"note.txt": NOTE * 50, "photo.jpg": PHOTO},
                      streams={"note.txt": ("hidden", NOTE * 3)})
    big = ext4_image(big_dir, many_files(1200), delete=["d1/f00001.jpg", "d2/f00002.bin"], size_mb=96)
    from triage.artifacts.demo import build_extraction

    phone = build_extraction(base)
    sources = {"GPT": gpt, "NTFS": ntfs, "PHONE": phone, "BIG": big}
    reference = new_case(base / "embedded")
    embedded = {}
    for exhibit, path in sources.items():
        dalil("parse", path, "--exhibit", exhibit, "--case", reference)
        embedded[exhibit] = listing(reference, exhibit)
    try:
        yield {"base": base, "redis": server, "sources": sources, "embedded": embedded, "reference": reference}
    finally:
        server.stop()


@pytest.fixture
def workers(lab: dict[str, Any], tmp_path: Path) -> Iterator[Workers]:
    lab["redis"].client().flushdb()
    pool = Workers(lab["redis"].url, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


def parsed_entry(case: Path) -> dict[str, Any]:
    entries = [json.loads(line) for line in (case / "custody.jsonl").read_text().splitlines() if line.strip()]
    return [e for e in entries if e["action"] == "parsed"][-1]["details"]  # type: ignore[no-any-return]


def assert_same(rows: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected):
        assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)}


@pytest.mark.parametrize("n", [1, 2, 4])
def test_distributed_listing_equals_embedded(lab: dict[str, Any], workers: Workers, tmp_path: Path, n: int) -> None:
    started = workers.start(n)
    case = new_case(tmp_path / "case")
    for exhibit in ("GPT", "NTFS", "PHONE"):
        dalil("parse", lab["sources"][exhibit], "--exhibit", exhibit, "--case", case, "--broker", lab["redis"].url)
        assert_same(listing(case, exhibit), lab["embedded"][exhibit])
    details = parsed_entry(case)["distributed"]
    assert details["gaps"] == [] and details["tasks"] >= 1
    assert details["broker"] == lab["redis"].url and details["queue"] == "dalil"
    nodes = {f"dalil-{p.pid}@" for p in started}
    assert {w["node"].split("@")[0] + "@" for w in details["workers"]} <= nodes
    assert all(w["dalil"] and w["host"] for w in details["workers"])
    gpt = [json.loads(line) for line in (case / "custody.jsonl").read_text().splitlines()
           if '"parsed"' in line and '"GPT"' in line]
    assert "SHA-256 equal to the registration" in gpt[-1]["details"]["distributed"]["evidence_check"]


def lease_owner(client: redis.Redis) -> str | None:
    return (running(client) or (None, None))[1]


def running(client: redis.Redis) -> tuple[str, str] | None:
    """(TOKEN:BATCH, owner) of a batch a worker process is on now, if any."""
    for key in client.scan_iter(match="dalil:lease:*"):
        owner = client.get(key)
        batch = key.decode().removeprefix("dalil:lease:")
        if owner and client.exists(f"dalil:attempts:{batch}"):  # its attempt is counted: it is under way
            return batch, owner.decode()
    return None


def test_a_worker_killed_mid_task_changes_nothing(lab: dict[str, Any], workers: Workers, tmp_path: Path) -> None:
    started = workers.start(2)
    case = new_case(tmp_path / "case")
    run = subprocess.Popen([DALIL, "parse", lab["sources"]["BIG"], "--exhibit", "BIG", "--case", case,
                            "--broker", lab["redis"].url], env=worker_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    client = lab["redis"].client()
    seen = None
    while seen is None and run.poll() is None:
        seen = running(client)  # a worker process is on a batch now
    assert seen is not None, "the parse ended before any batch was seen running"
    batch, owner = seen
    victim = next(p for p in started if owner.startswith(f"dalil-{p.pid}@"))
    workers.kill(victim)
    finished_before = bool(client.exists(f"dalil:done:{batch}"))  # it may have ended in the meantime
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, out + err
    assert_same(listing(case, "BIG"), lab["embedded"]["BIG"])
    if not finished_before:  # the batch the killed worker was on was started again, on the other worker
        assert int(client.get(f"dalil:attempts:{batch}") or 0) >= 2
    details = parsed_entry(case)
    assert details["distributed"]["gaps"] == []
    assert any(w["node"].startswith(f"dalil-{p.pid}@") for p in started if p is not victim
               for w in details["distributed"]["workers"])
    reference = [json.loads(line) for line in (lab["reference"] / "custody.jsonl").read_text().splitlines()
                 if '"parsed"' in line and '"BIG"' in line][-1]["details"]
    for key in ("files", "files_with_content", "bytes_read", "yara_hit_files", "gps_files", "warnings"):
        assert details[key] == reference[key], key


def test_redis_stopped_mid_run_then_a_rerun_completes(lab: dict[str, Any], workers: Workers, tmp_path: Path) -> None:
    workers.start(1)
    case = new_case(tmp_path / "case")
    run = subprocess.Popen([DALIL, "parse", lab["sources"]["BIG"], "--exhibit", "BIG", "--case", case,
                            "--broker", lab["redis"].url], env=worker_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    client = lab["redis"].client()
    while lease_owner(client) is None and run.poll() is None:
        pass
    lab["redis"].stop()
    try:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 1, out + err
        assert "stopped answering" in err or "cannot reach the broker" in err, err
        assert "Traceback" not in err
        with sqlite3.connect(case / "case.db") as db:
            status = db.execute("SELECT status FROM runs WHERE kind = 'parse' ORDER BY id DESC LIMIT 1").fetchone()[0]
        assert status == "failed"
        dalil("verify", "--case", case)  # the ledger chain and the stored objects are intact
    finally:
        lab["redis"].start()  # same port: the workers' Celery reconnects
    for proc in list(workers.procs):  # they would reconnect by themselves; fresh ones are quicker to wait for
        workers.kill(proc)
    workers.procs = []
    workers.start(1)
    dalil("parse", lab["sources"]["BIG"], "--exhibit", "BIG", "--case", case, "--broker", lab["redis"].url)
    assert_same(listing(case, "BIG"), lab["embedded"]["BIG"])


def test_a_worker_seeing_another_image_fails_its_tasks(lab: dict[str, Any], workers: Workers,
                                                        tmp_path: Path) -> None:
    image = lab["sources"]["GPT"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    altered = bytearray(image.read_bytes())
    altered[-1] ^= 0xFF  # same name, same size, one byte different
    (elsewhere / image.name).write_bytes(bytes(altered))
    workers.start(1, "--path-map", f"{image.parent}={elsewhere}")
    case = new_case(tmp_path / "case")
    done = dalil("parse", image, "--exhibit", "GPT", "--case", case, "--broker", lab["redis"].url)
    assert "warning" in done.stderr
    rows = listing(case, "GPT")
    with_content = [r for r in lab["embedded"]["GPT"] if r["sha256"] and r["size"]]
    failed = [r for r in rows if r["error"] and "not analysed" in r["error"]]
    assert len(failed) == len(with_content) and all(r["sha256"] is None for r in failed)
    assert all("registered as sha256:" in r["error"] for r in failed)
    gaps = parsed_entry(case)["distributed"]["gaps"]
    assert gaps and all("hash to sha256" in g["reason"] for g in gaps)
    assert sum(g["files"] for g in gaps) == len(with_content)
    assert [r["path"] for r in rows] == [r["path"] for r in lab["embedded"]["GPT"]]  # the listing is whole


def test_every_task_delivered_twice_gives_each_row_once(lab: dict[str, Any], workers: Workers, tmp_path: Path,
                                                         cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.distributed import remote
    from triage.distributed.app import TASK

    sent = tmp_path / "sent-twice"  # written by the parse's child process (dalil parse forks)
    original = remote.RemotePipeline._send

    def twice(self: remote.RemotePipeline, number: int) -> None:
        original(self, number)
        batch = self.batches[number]
        self.app.send_task(TASK, args=[batch.payload], queue=self.queue,
                           task_id=f"dalil-{self.token}-{number}-{batch.sends}-again")
        with open(sent, "a", encoding="utf-8") as fh:
            fh.write(f"{number}\n")

    monkeypatch.setattr(remote.RemotePipeline, "_send", twice)
    monkeypatch.setenv("DALIL_VISIBILITY_TIMEOUT", "4")
    workers.start(2)
    case = tmp_path / "case"
    cli("case", "init", case, "--case-id", "DUP-001", "--title", "t", "--examiner", "Test Examiner",
        "--organisation", "Test Unit")
    cli("parse", lab["sources"]["BIG"], "--exhibit", "BIG", "--case", case, "--broker", lab["redis"].url)
    assert len(sent.read_text().split()) >= 2
    assert_same(listing(case, "BIG"), lab["embedded"]["BIG"])
    details = parsed_entry(case)
    reference = [json.loads(line) for line in (lab["reference"] / "custody.jsonl").read_text().splitlines()
                 if '"parsed"' in line and '"BIG"' in line][-1]["details"]
    for key in ("files", "files_with_content", "bytes_read", "yara_hit_files", "gps_files", "warnings"):
        assert details[key] == reference[key], key
    with sqlite3.connect(case / "case.db") as db:
        assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == len(lab["embedded"]["BIG"])


def test_without_a_broker_nothing_changes(lab: dict[str, Any], tmp_path: Path) -> None:
    case = new_case(tmp_path / "case")
    env = {k: v for k, v in worker_env().items() if k != "DALIL_BROKER"}
    dalil("parse", lab["sources"]["NTFS"], "--exhibit", "NTFS", "--case", case, env=env)
    assert "distributed" not in parsed_entry(case)
    assert_same(listing(case, "NTFS"), lab["embedded"]["NTFS"])


def test_broker_must_be_redis_and_reachable(tmp_path: Path) -> None:
    case = new_case(tmp_path / "case")
    bad = dalil("parse", tmp_path, "--exhibit", "X", "--case", case, "--broker", "amqp://h/", check=False)
    assert bad.returncode == 2 and "redis://" in bad.stderr
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = dalil("worker", "--broker", f"redis://127.0.0.1:{port}/0", check=False)
    assert down.returncode == 1 and "cannot reach the broker" in down.stderr
