"""The task a `dalil worker` runs: one batch of files, read by reference from the shared evidence
(or carried by value), analysed with `engine.analyse`, the rows pushed to the coordinator's result
list in Redis. A worker never opens `case.db`.

Every delivery of a batch counts an attempt in Redis (`dalil:attempts:TOKEN:BATCH`): a batch
delivered again after a worker died under it runs again, and one delivered a fourth time without
having finished (a worker process killed by its content each time, or lost) is answered as a
failure: the coordinator then records it as a gap instead of waiting for ever.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any, Callable

import redis
from celery import Celery

from .. import __version__
from ..analyzers import HEAD, Analyzer, Blob
from ..image.engine import JSON_COLUMNS, SMALL, _read_all, analyse
from ..core.store import dumps
from .app import LEASE_SECONDS, MAX_ATTEMPTS, RESULT_TTL, TASK, attempts_key, done_key, lease_key, results_key
from .checks import PathMap, build_analyzers, verify_evidence

_ANALYSERS: dict[str, list[Analyzer]] = {}  # per worker process: settings digest -> analysers
_EVIDENCE: dict[str, Any] = {}  # evidence digest -> opened image (checked once per process)
_FS: dict[tuple[str, int], Any] = {}  # (evidence digest, partition offset) -> pytsk3.FS_Info
_REDIS: dict[str, redis.Redis] = {}
PATH_MAP = PathMap([p for p in os.environ.get("DALIL_PATH_MAP", "").split(",") if p])
EVIDENCE_ROOTS = [Path(p) for p in os.environ.get("DALIL_EVIDENCE_ROOTS", "").split(os.pathsep) if p]


def _key(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)


def _client(url: str) -> redis.Redis:
    client = _REDIS.get(url)
    if client is None:
        client = _REDIS[url] = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
    return client


class _Ref:
    """A stream of a file opened by inode, with `size` and `read` as `engine._read_all` wants."""

    def __init__(self, fs: Any, inode: int, attr_type: int | None, attr_id: int | None, size: int) -> None:
        self.file = fs.open_meta(inode=inode)
        self.attr_type, self.attr_id, self.size = attr_type, attr_id, size

    def read(self, offset: int, length: int) -> bytes:
        if self.attr_type is not None:
            return bytes(self.file.read_random(offset, length, self.attr_type, self.attr_id))
        return bytes(self.file.read_random(offset, length))


def _file_system(evidence: dict[str, Any], partition: int) -> Any:
    import pytsk3

    from ..image.container import open_image

    digest = _key(evidence)
    source = _EVIDENCE.get(digest)
    if source is None:
        files = verify_evidence(evidence, PATH_MAP, EVIDENCE_ROOTS)
        source = _EVIDENCE[digest] = open_image(files[0])
    fs = _FS.get((digest, partition))
    if fs is None:
        fs = _FS[(digest, partition)] = pytsk3.FS_Info(source.img, offset=partition)
    return fs


def _blob(item: dict[str, Any], evidence: dict[str, Any] | None) -> Blob:
    row = item["row"]
    if "data" in item:
        data = base64.b64decode(item["data"])
        return Blob(row["path"], row["name"], len(data), data[:HEAD], data=data)
    if evidence is None:
        raise ValueError("a task reading by reference carries no evidence")
    partition, inode, attr_type, attr_id = item["ref"]
    ref = _Ref(_file_system(evidence, partition), inode, attr_type, attr_id, row["size"])
    if ref.size <= SMALL:
        data = _read_all(ref)  # type: ignore[arg-type]  # duck-typed: size and read(offset, length)
        return Blob(row["path"], row["name"], len(data), data[:HEAD], data=data)
    return Blob(row["path"], row["name"], ref.size, ref.read(0, HEAD), reader=ref.read)


def run_batch(payload: dict[str, Any]) -> dict[str, Any]:
    """The rows of one batch, and which files could not be read."""
    from ..core.errors import DalilError

    spec_key = _key(payload["settings"])
    analysers = _ANALYSERS.get(spec_key)
    if analysers is None:
        analysers = _ANALYSERS[spec_key] = build_analyzers(payload["settings"], PATH_MAP)
    evidence = payload.get("evidence")
    if evidence is not None and any("ref" in item for item in payload["items"]):
        _file_system(evidence, payload["items"][0].get("ref", [0])[0])  # the evidence check fails the task
    rows: list[dict[str, Any]] = []
    unread: list[int] = []  # items whose content could not be read (the coordinator counted them as read)
    for index, item in enumerate(payload["items"]):
        row = item["row"]
        try:
            blob = _blob(item, evidence)
        except DalilError:
            raise
        except Exception as exc:  # as engine.Pipeline._failed: this file only
            row["error"], row["recovered"] = f"content not readable: {exc}", 0
            unread.append(index)
            rows.append(row)
            continue
        rows.append(analyse(analysers, blob, row))
    for row in rows:  # through the coordinator's encoder and back: plain JSON, which the coordinator encodes again
        for key in JSON_COLUMNS:
            if row[key] is not None and not isinstance(row[key], str):
                row[key] = json.loads(dumps(row[key]))
    return {"rows": rows, "unread": unread}


def _lease_keeper(client: redis.Redis, key: str, owner: str, stop: threading.Event) -> None:
    """Renew the lease on a batch while it runs: a delivery of the same batch meanwhile waits."""
    while not stop.wait(LEASE_SECONDS / 3):
        try:
            client.set(key, owner, ex=LEASE_SECONDS)
        except redis.RedisError:
            pass


def register(app: Celery, node: Callable[[], str]) -> None:
    """The `dalil.analyse` task on `app` (worker side)."""

    @app.task(name=TASK, bind=True, acks_late=True, max_retries=None)
    def analyse_task(self: Any, payload: dict[str, Any]) -> dict[str, Any] | None:
        url = str(app.conf.broker_url)
        client = _client(url)
        token, batch = payload["token"], payload["batch"]
        if client.exists(done_key(token, batch)):
            return None  # a duplicate delivery of a batch already answered
        owner = f"{node()}:{os.getpid()}"
        lease = lease_key(token, batch)
        if not client.set(lease, owner, nx=True, ex=LEASE_SECONDS):
            # delivered again while another worker process is still on it (its lease is renewed while it
            # runs): look again later; if that process died, its lease lapses and this delivery runs it
            raise self.retry(countdown=LEASE_SECONDS)
        stop = threading.Event()
        keeper = threading.Thread(target=_lease_keeper, args=(client, lease, owner, stop), daemon=True)
        keeper.start()
        try:
            attempts_at = attempts_key(token, batch)
            attempt = int(client.incr(attempts_at))
            client.expire(attempts_at, RESULT_TTL)
            answer: dict[str, Any] = {"batch": batch, "attempt": attempt, "host": socket.gethostname(),
                                      "node": node(), "version": __version__}
            if attempt > MAX_ATTEMPTS:
                answer.update(ok=False, final=True, error=f"started {attempt} times without finishing (a worker "
                                                          "process died or was lost under it each time)")
            else:
                try:
                    answer.update(ok=True, **run_batch(payload))
                except Exception as exc:
                    answer.update(ok=False, final=attempt >= MAX_ATTEMPTS, error=f"on {answer['host']}: {exc}")
            reply = results_key(token)
            with client.pipeline() as pipe:
                pipe.rpush(reply, json.dumps(answer))
                pipe.expire(reply, RESULT_TTL)
                if answer["ok"] or answer["final"]:
                    pipe.set(done_key(token, batch), 1, ex=RESULT_TTL)
                pipe.execute()
        finally:
            stop.set()
            keeper.join()
            try:
                client.delete(lease)
            except redis.RedisError:
                pass
        if not answer["ok"]:
            raise RuntimeError(answer["error"])  # shown as FAILURE in Flower; the coordinator has the answer
        return {"batch": batch, "files": len(answer["rows"]), "host": answer["host"]}
