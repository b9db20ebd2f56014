"""Which workers are alive: each `dalil worker` renews `dalil:worker:NODE` every few seconds."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any

import redis

from .. import __version__
from .app import HEARTBEAT_SECONDS, HEARTBEAT_TTL, PREFIX, worker_key


def workers(client: redis.Redis) -> list[dict[str, Any]]:
    """The live workers' heartbeats ({node, host, version, pid, concurrency, queues})."""
    found = []
    for key in client.scan_iter(match=f"{PREFIX}worker:*", count=200):
        raw = client.get(key)
        if raw:
            try:
                found.append(json.loads(raw))
            except ValueError:
                continue
    return sorted(found, key=lambda w: str(w.get("node")))


class LiveCount:
    """The number of live workers, asked of Redis at most every `every` seconds (None: unreachable)."""

    def __init__(self, url: str, every: float = 2.0) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.every, self.asked, self.value = every, 0.0, None  # type: float, float, int | None

    def __call__(self) -> int | None:
        now = time.monotonic()
        if now - self.asked >= self.every:
            self.asked = now
            try:
                self.value = len(workers(self.client))
            except redis.RedisError:
                self.value = None
        return self.value


def start_heartbeat(url: str, node: str, concurrency: int, queues: list[str]) -> threading.Event:
    """A daemon thread renewing this worker's heartbeat; set the returned event to stop it."""
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    stop = threading.Event()
    record = json.dumps({"node": node, "host": socket.gethostname(), "version": __version__, "pid": os.getpid(),
                         "concurrency": concurrency, "queues": queues})

    def beat() -> None:
        while True:
            try:
                client.set(worker_key(node), record, ex=HEARTBEAT_TTL)
            except redis.RedisError:
                pass  # the broker is away: Celery reports it; the heartbeat resumes with it
            if stop.wait(HEARTBEAT_SECONDS):
                break
        try:
            client.delete(worker_key(node))
        except redis.RedisError:
            pass

    threading.Thread(target=beat, name="dalil-heartbeat", daemon=True).start()
    return stop
