"""Helpers for the property-list parsers: dates as RFC 3339 UTC, MAC addresses in one form."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..normalise import cocoa, unix


COCOA = _dt.datetime(2001, 1, 1, tzinfo=_dt.timezone.utc)


def when(value: Any) -> str | None:
    """A plist date or Unix seconds, as RFC 3339 UTC. A binary plist keeps a date as Cocoa seconds
    (plistlib gives it as a naive datetime in UTC): it goes back through `cocoa`, microseconds kept."""
    if isinstance(value, _dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
        return cocoa((moment - COCOA).total_seconds())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return unix(value)
    return None


def mac(value: Any) -> str | None:
    """`0:e1:6d:b3:8f:7c` -> `00:e1:6d:b3:8f:7c` (Apple drops leading zeros); None unless six hex octets."""
    if not isinstance(value, str):
        return None
    parts = value.strip().replace("-", ":").split(":")
    if len(parts) != 6 or not all(1 <= len(p) <= 2 for p in parts):
        return None
    try:
        return ":".join(f"{int(p, 16):02x}" for p in parts)
    except ValueError:
        return None


def table(value: Any) -> dict[str, Any]:
    """A plist dictionary, or an empty one where the value is something else."""
    return value if isinstance(value, dict) else {}


def get(tree: Any, *keys: str) -> Any:
    """tree[k1][k2]… or None where a level is missing or not a dict."""
    for key in keys:
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree
