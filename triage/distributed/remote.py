"""`RemotePipeline`: `engine.Pipeline`'s interface, the analysis done by `dalil worker` processes.

The coordinator (this process) walks the image as in the embedded run and builds each file's row
as `engine.base_row` does. Files of a disk image are sent by reference (partition offset, inode,
attribute): the worker reads them from the shared evidence, after checking it sees the same
image. Files of logical sources (folders, zips, tars, phone backups), whose reading depends on
state only the walk has, are read here and sent by value; a large one of those (above
`engine.SMALL`) is analysed in a thread of this process, as the embedded run does. Batches close at
`BATCH_FILES` files or `BATCH_BYTES` of content; at most `MAX_TASKS` batches are in flight.

Answers come back through a Redis list; a batch answered twice counts once; a failed batch is sent
again, and one failing `MAX_ATTEMPTS` times becomes a gap: its files keep their listing with an
error, each a warning, and the ledger lists the gap. If Redis stops answering, the run stops with
`BrokerUnavailable` (exit 1); the rows stored so far are kept and a new `dalil parse` completes it.
"""

from __future__ import annotations

import base64
import gc
import json
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import redis
from kombu.exceptions import OperationalError

from ..analyzers import HEAD, Blob
from ..core.errors import DalilError
from ..image import engine
from ..image.engine import SMALL, Pipeline, base_row
from ..image.walk import Entry
from .app import MAX_ATTEMPTS, QUEUE, TASK, make_app, redact, results_key
from .live import LiveCount

BATCH_FILES = 256
BATCH_BYTES = 32 * 1024 * 1024  # content a batch stands for (read by the worker)
SHIPPED_BYTES = 4 * 1024 * 1024  # content a batch carries (logical sources)
MAX_TASKS = 48
POLL = 1  # seconds a blocking wait for answers lasts before looking at the rest


class BrokerUnavailable(DalilError):
    """Redis stopped answering (or never did)."""


@dataclass
class _Batch:
    payload: dict[str, Any]
    sizes: list[int]  # content bytes each item was counted for
    sends: int = 0
    failures: list[str] = field(default_factory=list)


IDENTITY = ("exhibit", "run_id", "partition", "snapshot", "path", "name", "inode", "attr", "stream", "size", "deleted",
            "carved_offset")  # what a worker's row must keep of the row it was sent


def _not_of(batch: _Batch, answer: dict[str, Any]) -> str | None:
    """Why an answer is not the batch's (rows forged by whoever can write to Redis, or a stale run's),
    or None: one row per file sent, in order, each naming the same file; `unread` indexes those rows."""
    items, rows, unread = batch.payload["items"], answer.get("rows"), answer.get("unread")
    if not isinstance(rows, list) or len(rows) != len(items):
        return f"{len(rows) if isinstance(rows, list) else 'no'} rows for {len(items)} files"
    for item, row in zip(items, rows):
        if not isinstance(row, dict) or any(row.get(k) != item["row"].get(k) for k in IDENTITY):
            return f"a row that is not {item['row'].get('path')!r} as sent"
    if not isinstance(unread, list) or not all(isinstance(i, int) and 0 <= i < len(items) for i in unread) \
            or len(set(unread)) != len(unread):
        return "unread files outside the batch"
    return None


class RemotePipeline(Pipeline):
    """Feed entries with `submit`; rows reach `sink`; `close()` waits for every batch's answer."""

    def __init__(self, *args: Any, broker: str, evidence: dict[str, Any] | None, settings: dict[str, Any],
                 queue: str = QUEUE, **kwargs: Any) -> None:
        self.broker, self.queue, self.evidence, self.settings = broker, queue, evidence, settings
        self.client = redis.Redis.from_url(broker, socket_timeout=POLL + 10, socket_connect_timeout=5)
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"cannot reach the broker at {redact(broker)}: {exc}") from None
        self.app = make_app(broker)
        super().__init__(*args, **kwargs)
        self.token = f"{self.run_id}-{uuid.uuid4().hex[:12]}"
        self.items: list[dict[str, Any]] = []
        self.sizes: list[int] = []
        self.content = self.shipped = 0
        self.batches: dict[int, _Batch] = {}
        self.sequence = 0
        self.local_pending: list[Future[list[dict[str, Any]]]] = []
        self.contributors: dict[str, dict[str, str]] = {}
        self.gaps: list[dict[str, Any]] = []
        self.duplicates = self.resent = 0
        self.live = LiveCount(broker)

    # -- the engine's hooks --------------------------------------------------------------------
    def _start_pool(self) -> Any:
        engine._ANALYZERS = self.analyzers  # large files of logical sources are analysed here
        return None

    def _restart(self) -> None:  # no local process pool to restart
        return None

    def submit(self, entry: Entry) -> None:
        location = f"{self.exhibit}@{entry.partition}:{entry.path}"
        ref = self._ref(entry)
        wanted = self.collector is not None and self.collector.wants(entry.partition, entry.path, entry.name) is not None
        if ref is None or wanted or location in self.avoid or not entry.has_content:
            super().submit(entry)  # read here (or not at all); a small file waits in the engine's batch
            if self.batch:
                items, self.batch, self.batch_bytes = self.batch, [], 0
                self._dispatch(items, 0)
            return
        if self.on_entry is not None:
            self.on_entry(self.stats.files, self.stats.bytes, location, False)
        row = base_row(entry, self.exhibit, self.run_id)
        self.stats.files += 1
        self.stats.deleted += int(entry.deleted)
        self.stats.partitions[entry.partition] = self.stats.partitions.get(entry.partition, 0) + 1
        if entry.deleted:
            row["recovered"] = 1
            row["recovered_note"] = "recovered, may be overwritten"
        self.stats.with_content += 1
        self.stats.bytes += entry.size
        self._add({"row": row, "ref": ref}, entry.size, 0)

    def _ref(self, entry: Entry) -> list[Any] | None:
        """How a worker finds this file's content in the image, or None (sent by value)."""
        if self.evidence is None or entry.snapshot is not None or entry.carved or entry.inode is None:
            return None
        file = entry.file
        if file is None or type(file).__name__ not in ("File", "_Named"):
            return None
        try:
            meta = file.info.meta
            if meta is None or int(meta.addr) != entry.inode:
                return None
        except (AttributeError, IOError, OSError, RuntimeError):
            return None
        return [entry.partition, entry.inode, entry.attr_type, entry.attr_id]

    def _dispatch(self, items: list[tuple[Blob, dict[str, Any]]], size: int) -> None:
        """Files the engine read here: a large one analysed in this process's thread, others shipped."""
        if items[0][0].data is None:
            self.local_pending.append(self.local.submit(self._stream, items))
            return
        for blob, row in items:
            data = blob.data or b""
            self._add({"row": row, "data": base64.b64encode(data).decode("ascii")}, len(data), len(data))

    def _add(self, item: dict[str, Any], size: int, shipped: int) -> None:
        if item["row"].get("fn_times") is not None and not isinstance(item["row"]["fn_times"], str):
            item["row"]["fn_times"] = engine.dumps(item["row"]["fn_times"])
        self.items.append(item)
        self.sizes.append(size if "ref" in item else 0)
        self.content += size
        self.shipped += shipped
        if len(self.items) >= BATCH_FILES or self.content >= BATCH_BYTES or self.shipped >= SHIPPED_BYTES:
            self._send_batch()
        self._collect(block=False)

    def _send_batch(self) -> None:
        if not self.items:
            return
        self.sequence += 1
        payload = {"token": self.token, "batch": self.sequence, "evidence": self.evidence, "settings": self.settings,
                   "items": self.items}
        self.batches[self.sequence] = _Batch(payload, self.sizes)
        self.items, self.sizes, self.content, self.shipped = [], [], 0, 0
        self._send(self.sequence)
        while len(self.batches) >= MAX_TASKS:
            self._collect(block=True, once=True)

    def _send(self, number: int) -> None:
        batch = self.batches[number]
        batch.sends += 1
        try:
            self.app.send_task(TASK, args=[batch.payload], queue=self.queue,
                               task_id=f"dalil-{self.token}-{number}-{batch.sends}",
                               retry=True, retry_policy={"max_retries": 2, "interval_start": 0.5,
                                                         "interval_step": 0.5, "interval_max": 1})
        except (OperationalError, redis.RedisError, OSError) as exc:
            raise self._lost(exc) from None

    def _lost(self, exc: BaseException) -> BrokerUnavailable:
        return BrokerUnavailable(
            f"the broker at {redact(self.broker)} stopped answering ({exc}); the rows stored so far are kept: "
            "run the same `dalil parse` again once it is back to complete the exhibit")

    # -- answers -------------------------------------------------------------------------------
    def _collect(self, block: bool, once: bool = False) -> None:
        """Answers that arrived (waiting for every batch when `block`, for one wait when `once`)."""
        done = [f for f in self.local_pending if f.done() or block]
        for future in done:
            self.local_pending.remove(future)
            for row in future.result():
                self._row(row)
        key = results_key(self.token)
        while True:
            try:
                answers: list[Any]
                if block and self.batches:
                    got: Any = self.client.blpop([key], timeout=POLL)
                    answers = [got[1]] if got else []
                else:
                    popped: Any = self.client.lpop(key, 500)
                    answers = list(popped or [])
            except redis.RedisError as exc:
                raise self._lost(exc) from None
            for raw in answers:
                self._answer(json.loads(raw))
            if self.progress is not None and block:
                self._tell()
            if not block or not self.batches or once:
                return

    def _row(self, row: dict[str, Any]) -> None:
        if row.get("error"):
            self.stats.errors += 1
        self._ready(row)

    def _answer(self, answer: dict[str, Any]) -> None:
        batch = self.batches.get(answer["batch"])
        if batch is None:  # answered already (a delivery twice over): its rows are stored once
            self.duplicates += 1
            return
        if answer["ok"] and (stranger := _not_of(batch, answer)):
            answer = {**answer, "ok": False, "final": False,
                      "error": f"an answer from {answer.get('host')!r} does not belong to this batch ({stranger}): refused"}
        if answer["ok"]:
            del self.batches[answer["batch"]]
            self.contributors[answer["node"]] = {"host": answer["host"], "node": answer["node"],
                                                 "dalil": answer["version"]}
            for index in answer["unread"]:
                self.stats.with_content -= 1
                self.stats.bytes -= batch.sizes[index]
            for row in answer["rows"]:
                self._row(row)
            return
        batch.failures.append(answer["error"])
        if answer.get("final") or len(batch.failures) >= MAX_ATTEMPTS:
            del self.batches[answer["batch"]]
            self._gap(answer["batch"], batch, answer["error"])
        else:
            self.resent += 1
            self._send(answer["batch"])

    def _gap(self, number: int, batch: _Batch, error: str) -> None:
        """A batch given up: its files keep their listing, each with the reason (a warning each)."""
        items = batch.payload["items"]
        self.gaps.append({"batch": number, "files": len(items), "reason": error,
                          "first": items[0]["row"]["path"], "last": items[-1]["row"]["path"]})
        for item, size in zip(items, batch.sizes):
            row = item["row"]
            self.stats.with_content -= 1 if "ref" in item else 0
            self.stats.bytes -= size
            row["recovered"] = 0 if "ref" in item else row["recovered"]
            row["error"] = (f"not analysed: the distributed task holding this file failed {len(batch.failures)} "
                            f"time(s); last: {error}")
            self._row(row)

    def _tell(self) -> None:
        now = time.monotonic()
        if self.progress is not None and now - self.shown_at >= 1:
            workers = self.live()
            self.progress(0, rate=f"{'?' if workers is None else workers} workers")
            self.shown_at = now

    def close(self) -> engine.Stats:
        self._send_batch()
        self._collect(block=True)
        try:
            self.client.delete(results_key(self.token))
        except redis.RedisError:
            pass
        self.local.shutdown(wait=True)
        self._flush()
        gc.set_threshold(*self.gc_threshold)
        if self.progress is not None and self.unshown:
            self.progress(self.unshown)
            self.unshown = 0
        return self.stats

    def ledger(self) -> dict[str, Any]:
        """What the `parsed` ledger entry says about the distributed run."""
        from .checks import check_statement

        return {"distributed": {
            "broker": redact(self.broker), "queue": self.queue, "tasks": self.sequence, "resent": self.resent,
            "duplicate_answers": self.duplicates,
            "workers": sorted(self.contributors.values(), key=lambda w: w["node"]),
            "evidence_check": check_statement(self.evidence) if self.evidence else "no file read by reference",
            "gaps": self.gaps}}


def pipeline_options(options: Any, exhibit: Any, source: Any, region: str) -> dict[str, Any]:
    """RemotePipeline's own arguments for a parse (`parse.ParseOptions`, the exhibit row, the opened
    image or None for a logical source): the broker, the evidence and the settings every task carries."""
    from .checks import describe_evidence, describe_settings

    evidence = describe_evidence(exhibit, source.segments, source.format) if source is not None else None
    settings = describe_settings(options.rules, options.no_yara, options.known_good, options.known_bad, region)
    return {"broker": options.broker, "evidence": evidence, "settings": settings}
