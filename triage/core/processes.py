"""Processes this one forks must not outlive it."""

from __future__ import annotations

import ctypes
import signal


def die_with_parent() -> None:
    """Linux: this process gets SIGKILL when the one that forked it dies (killed, crashed), instead
    of waiting forever on a queue nobody will write to."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
