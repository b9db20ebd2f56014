"""The normalised records phone-artifact parsers yield, each tied to the exact place it came from.

Parsers yield `Message`, `Call`, `Contact` and, for everything else (web visits, accounts, Wi-Fi
networks, installed apps, device and SIM facts, photo locations…), `Item` with a `kind`. Times are
RFC 3339 UTC with a `Z` (see `normalise`); phone numbers are E.164 where they can be read as one,
else the text as stored. `Source` is where a record was read: the file as listed by `dalil parse`,
the table (or plist key) and the row (rowid, or byte offset of a recovered cell).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DIRECTIONS = ("incoming", "outgoing")
CALL_DIRECTIONS = ("incoming", "outgoing", "missed", "rejected", "blocked")


@dataclass
class Source:
    """Where a record was read. `path` is the file's path in the exhibit (as `dalil files` lists it)."""

    path: str
    table: str | None = None
    row: int | None = None
    where: str | None = None      # for a recovered record: "freeblock in page 12", "WAL frame 9 (…)"
    partition: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "table": self.table, "row": self.row}
        if self.where:
            out["where"] = self.where
        return out


@dataclass
class Attachment:
    """A file sent with a message. `path` is where the phone keeps it (resolved to the listed file's
    SHA-256 after the walk), or `sha256` is given directly for content stored in the database."""

    name: str | None = None
    mime: str | None = None
    sha256: str | None = None
    path: str | None = None
    size: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "mime": self.mime, "sha256": self.sha256}
        if self.path:
            out["path"] = self.path
        if self.size is not None:
            out["size"] = self.size
        return out


@dataclass
class Message:
    app: str
    source: Source
    time: str | None = None
    direction: str | None = None            # incoming | outgoing | None when the store does not say
    sender: str | None = None
    recipients: list[str] = field(default_factory=list)
    text: str | None = None
    thread: str | None = None
    thread_name: str | None = None
    sender_name: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    location: tuple[float, float] | None = None
    recovered: bool = False
    extra: dict[str, Any] = field(default_factory=dict)   # status, read, service, message type…


@dataclass
class Call:
    app: str
    source: Source
    time: str | None = None
    direction: str | None = None            # one of CALL_DIRECTIONS
    number: str | None = None
    name: str | None = None
    duration: int | None = None             # seconds
    video: bool | None = None
    recovered: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Contact:
    app: str
    source: Source
    name: str | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    time: str | None = None                 # created or last updated, where the store keeps it
    recovered: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Item:
    """Any other record: `kind` is e.g. visit, download, search, account, wifi, app, device, sim, location."""

    kind: str
    app: str
    source: Source
    time: str | None = None
    title: str | None = None
    value: str | None = None                # the URL, account name, SSID, package, property value…
    location: tuple[float, float] | None = None
    recovered: bool = False
    data: dict[str, Any] = field(default_factory=dict)


Record = Message | Call | Contact | Item
