"""`dalil worker --broker redis://HOST:PORT/N`: run the per-file analysis of distributed parses."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from ..core.errors import UsageError
from ..core.hashing import cores


def worker(
    broker: Annotated[str | None, typer.Option("--broker", help="Redis URL of the lab's broker (redis://HOST:PORT/N); "
                                                              "else DALIL_BROKER.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Worker processes (0: one per core).")] = 0,
    queues: Annotated[str, typer.Option("--queues", help="Comma-separated queues to take tasks from.")] = "dalil",
    path_map: Annotated[list[str] | None, typer.Option(
        "--path-map", help="FROM=TO: the coordinator's path prefix FROM is TO on this machine (evidence and rule "
                           "files on shared storage mounted elsewhere); repeat.")] = None,
    evidence_root: Annotated[list[Path] | None, typer.Option(
        "--evidence-root", help="Only evidence under this folder (on this machine, after --path-map) is read; a task "
                                "naming any other file is refused. Repeat; else DALIL_EVIDENCE_ROOTS (':'-separated); "
                                "none: any path a task names.")] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", help="Celery log level (DEBUG, INFO, WARNING).")] = "INFO",
) -> None:
    """Take analysis tasks of `dalil parse --broker` from Redis. The evidence must be visible here at the
    coordinator's paths (or through --path-map); every task checks it, and the rule packs, first.
    A worker never opens a case: it returns rows to the coordinator."""
    import redis

    from ..distributed import app as dist, checks, live, tasks

    url = dist.broker_url(broker)
    if url is None:
        raise UsageError("dalil worker needs --broker redis://HOST:PORT/N (or DALIL_BROKER)")
    if concurrency < 0:
        raise UsageError("--concurrency must be 0 (one per core) or more")
    try:
        tasks.PATH_MAP = checks.PathMap(list(path_map or []))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if evidence_root:
        missing = [str(p) for p in evidence_root if not p.is_dir()]
        if missing:
            raise UsageError(f"--evidence-root must be a folder: {', '.join(missing)}")
        tasks.EVIDENCE_ROOTS = list(evidence_root)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5).ping()
    except redis.RedisError as exc:
        from ..distributed.remote import BrokerUnavailable

        raise BrokerUnavailable(f"cannot reach the broker at {dist.redact(url)}: {exc}") from None
    n = concurrency or cores()
    names = [q.strip() for q in queues.split(",") if q.strip()] or [dist.QUEUE]
    node = f"dalil-{os.getpid()}@{socket.gethostname()}"
    app = dist.make_app(url)
    tasks.register(app, lambda: node)
    stop = live.start_heartbeat(url, node, n, names)
    try:
        app.worker_main(["worker", f"--concurrency={n}", "--queues", ",".join(names), "--hostname", node,
                         f"--loglevel={loglevel}", "--without-gossip", "--without-mingle"])
    finally:
        stop.set()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
