"""A real fault where libtsk would raise one: a walk that kills its process with SIGSEGV on reaching a path."""

from __future__ import annotations

import faulthandler
import os
import resource
import signal
from typing import Any, Callable

from triage.image import walkers


def faulting_walk(at: str) -> Callable[..., Any]:
    """`walkers.walk_fs`, except that the process gets SIGSEGV when the walk reaches `at`."""
    real_walk = walkers.walk_fs

    def walk(*args: Any, **kwargs: Any) -> Any:
        for entry in real_walk(*args, **kwargs):
            if entry.path == at:
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
                faulthandler.disable()  # pytest's crash dump would only add noise
                os.kill(os.getpid(), signal.SIGSEGV)
            yield entry

    return walk
