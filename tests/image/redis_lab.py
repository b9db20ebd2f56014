"""A real Redis and real `dalil worker` processes for the distributed-parsing tests.

`redis-server` is Debian's (the Makefile's APT_PKGS; installed here when missing), started on a
free port in a temporary folder, without persistence. Workers are `dalil worker` subprocesses,
each in its own session so a test can kill one (and its pool) with SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import redis

DALIL = str(Path(sys.executable).with_name("dalil"))
VISIBILITY = "4"  # seconds before Redis hands an unacknowledged task to another worker (a killed one's)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], capture_output=True, check=False)
        found = shutil.which("redis-server")
    if found is None:
        pytest.fail("redis-server is not installed and could not be installed (apt-get install redis-server)")
    return found


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.folder)],
                                     stdout=open(self.folder / "redis.log", "ab"), stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start: " + (self.folder / "redis.log").read_text())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DALIL_VISIBILITY_TIMEOUT"] = VISIBILITY
    return env


class Workers:
    """`dalil worker` subprocesses on one broker."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url, self.folder = url, folder
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, n: int, *extra: str, concurrency: int = 1) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(n):
            log = open(self.folder / f"worker-{len(self.procs)}.log", "ab")  # noqa: SIM115 - the process's
            proc = subprocess.Popen([DALIL, "worker", "--broker", self.url, "--concurrency", str(concurrency),
                                     "--loglevel", "WARNING", *extra], stdout=log, stderr=subprocess.STDOUT,
                                    env=worker_env(), start_new_session=True)
            self.procs.append(proc)
            started.append(proc)
        self.wait_live(len([p for p in self.procs if p.poll() is None]))
        return started

    def live(self) -> list[dict[str, Any]]:
        client = redis.Redis.from_url(self.url)
        return [json.loads(client.get(k) or b"{}") for k in client.scan_iter(match="dalil:worker:*")]

    def wait_live(self, n: int) -> None:
        """Until `n` workers have a heartbeat (each one's pool is up shortly after)."""
        for _ in range(600):
            if len(self.live()) >= n:
                return
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError("a worker exited: " + "".join(
                    p.read_text(errors="replace")[-2000:] for p in self.folder.glob("worker-*.log")))
            time.sleep(0.1)
        raise RuntimeError("workers did not come up")

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the worker and its pool (a machine lost)."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        self.procs = []


def dalil(*args: Any, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([DALIL, *map(str, args)], capture_output=True, text=True, env=env or worker_env())
    if check and done.returncode != 0:
        raise AssertionError(f"dalil {' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


LEGITIMATELY_DIFFERENT = ("id", "run_id")  # the row's database id (insertion order) and the run that wrote it


def listing(case: Path, exhibit: str) -> list[dict[str, Any]]:
    """`dalil files --format jsonl`, without the fields that differ from run to run by design."""
    out = dalil("files", "--exhibit", exhibit, "--case", case, "--format", "jsonl").stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    for row in rows:
        for key in LEGITIMATELY_DIFFERENT:
            row.pop(key, None)
    return rows


def new_case(path: Path) -> Path:
    dalil("case", "init", path, "--case-id", "DIST-001", "--title", "Distributed", "--examiner", "Test Examiner",
          "--organisation", "Test Unit")
    return path
