"""The Celery application both sides build from the broker URL, and the Redis keys they share.

Tasks carry JSON only (no pickle: whoever can write to the broker must not be able to run code on
a worker). A task is acknowledged when it has finished (`acks_late`), so a worker that dies or is
lost mid-task leaves it to be delivered again to another worker after `visibility_timeout()`
seconds; a child process killed under a running task has it re-queued at once.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery

from ..core.errors import ConfigError

QUEUE = "dalil"
TASK = "dalil.analyse"
PREFIX = "dalil:"  # every key Dalil keeps in Redis
HEARTBEAT_SECONDS = 5
HEARTBEAT_TTL = 15  # a worker whose heartbeat is older than this is not counted as alive
LEASE_SECONDS = 15  # a running batch's lease, renewed while it runs
MAX_ATTEMPTS = 3  # deliveries of one task before it is given up as a gap
RESULT_TTL = 24 * 3600


def visibility_timeout() -> int:
    """Seconds a delivered task may run unacknowledged before Redis hands it to another worker
    (DALIL_VISIBILITY_TIMEOUT; default 5 minutes). A task still running then is not run twice: the
    new delivery finds its lease alive and looks again later (see `tasks`)."""
    raw = os.environ.get("DALIL_VISIBILITY_TIMEOUT", "300")
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"DALIL_VISIBILITY_TIMEOUT must be a number of seconds, not {raw!r}") from None
    return max(1, value)


def broker_url(given: str | None) -> str | None:
    """`--broker`, else DALIL_BROKER, else None (the embedded run); only redis:// URLs are accepted."""
    url = given or os.environ.get("DALIL_BROKER") or None
    if url is None:
        return None
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise ConfigError(f"--broker must be a redis:// URL (redis://HOST:PORT/N), not {redact(url)!r}")
    return url


def redact(url: str) -> str:
    """The URL without its password (what the ledger and messages show)."""
    from ..core.invocation import redact as redact_arg

    parts = urlsplit(url)
    if parts.password is None:  # (a user-info urlsplit cannot read, a `?password=` query: redacted all the same)
        return redact_arg(url)
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return redact_arg(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))


def make_app(url: str) -> Celery:
    """The Celery application for `url` (broker and result backend on the same Redis)."""
    app = Celery("dalil", broker=url, backend=url, set_as_current=False)
    settings: dict[str, Any] = {
        "task_serializer": "json", "result_serializer": "json", "accept_content": ["json"],
        "task_acks_late": True, "task_reject_on_worker_lost": True, "worker_prefetch_multiplier": 1,
        "task_default_queue": QUEUE, "result_expires": RESULT_TTL,
        # a lost worker's batches are looked for every few seconds (kombu's default sweep is 100 s)
        "broker_transport_options": {"visibility_timeout": visibility_timeout(),
                                     "unacked_restore_interval": min(10, max(1, visibility_timeout() // 2)),
                                     "unacked_restore_throttle": 1,
                                     "socket_timeout": 30, "socket_connect_timeout": 10},
        "result_backend_transport_options": {"visibility_timeout": visibility_timeout()},
        "broker_connection_retry_on_startup": True, "worker_hijack_root_logger": False,
        "worker_send_task_events": True, "task_send_sent_event": True,  # what Flower shows
        "task_track_started": True,
    }
    app.conf.update(settings)
    return app


def results_key(token: str) -> str:
    return f"{PREFIX}results:{token}"


def attempts_key(token: str, batch: int) -> str:
    return f"{PREFIX}attempts:{token}:{batch}"


def lease_key(token: str, batch: int) -> str:
    return f"{PREFIX}lease:{token}:{batch}"


def done_key(token: str, batch: int) -> str:
    return f"{PREFIX}done:{token}:{batch}"


def worker_key(node: str) -> str:
    return f"{PREFIX}worker:{node}"
