"""What the WhatsApp parsers share: who a JID is, names from `wa.db`, media kinds, and hashes.

A JID becomes what it names (`normalise.jid`): `+E164` for a phone-number user, `group:<id>`,
`status`, `broadcast:<id>`, and `lid:<id>` for the 15-digit privacy ids ("LIDs") WhatsApp gives
group members and, lately, one-to-one chats. A LID is never read as a phone number. It is mapped to
one only where the phone's own `msgstore.db` holds the pair (`jid_map`: `lid_row_id` → `jid_row_id`);
then the number is used as the party and the LID kept beside it (`extra.lid`).
"""

from __future__ import annotations

import base64
import binascii
import glob
import re
import sqlite3
from typing import Any

from ..context import ArtifactFile, Context, Unreadable
from ..normalise import is_number

# message.message_type (new schema) and messages.media_wa_type (old schema, stored as text)
MESSAGE_TYPE = {0: "text", 1: "image", 2: "audio", 3: "video", 4: "contact", 5: "location", 7: "system",
                8: "call", 9: "document", 13: "gif", 15: "revoked", 16: "live_location", 20: "sticker"}
MEDIA_TYPES = {1, 2, 3, 9, 13, 20}
LOCATION_TYPES = {5, 16}
PACKAGES = ("com.whatsapp.w4b", "com.whatsapp")
_MEDIA = re.compile(rb"WhatsApp(?: Business)?/Media/")
_MEDIA_PATH = re.compile(rb"(?:/[\x20-\x7e]*)?WhatsApp(?: Business)?/Media/[\x20-\x7e]+")


def package(path: str) -> str | None:
    """The app package a listed path belongs to (WhatsApp Business keeps its own databases)."""
    for name in PACKAGES:
        if f"/{name}/" in path:
            return name
    return None


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def sha256_hex(b64: Any) -> str | None:
    """WhatsApp keeps the SHA-256 of a media file as base64 (`file_hash`, `media_hash`): as hex."""
    if not isinstance(b64, str) or not b64:
        return None
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def media_path_in(blob: Any) -> str | None:
    """The file path an old-schema row keeps inside `thumb_image`: a serialised Java object whose
    java.io.File field is a Java string (`t`, a 2-byte big-endian length, the bytes)."""
    if isinstance(blob, str):
        blob = blob.encode("latin-1", "replace")
    if not isinstance(blob, (bytes, bytearray)):
        return None
    data = bytes(blob)
    for found in _MEDIA.finditer(data):
        for start in range(found.start(), max(2, found.start() - 512), -1):
            if data[start - 3] != 0x74:
                continue
            end = start + int.from_bytes(data[start - 2:start], "big")
            if found.end() <= end <= len(data):
                try:
                    return data[start:end].decode("utf-8")
                except UnicodeDecodeError:
                    continue
    loose = _MEDIA_PATH.search(data)
    return loose.group(0).decode("ascii") if loose else None


class Jids:
    """The `jid` table (new schema) with the LID → phone-number pairs the phone holds."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.raw: dict[int, str] = {}
        self.lid_to_jid: dict[int, int] = {}
        self._handles: dict[str, str | None] = {}
        if ctx.has("jid", "_id", "raw_string"):
            server = ctx.has("jid", "user", "server")
            sql = "SELECT _id, raw_string" + (", user, server" if server else "") + " FROM jid"
            for r in ctx.rows(sql):
                raw = r["raw_string"] or (f"{r['user']}@{r['server']}" if server and r["user"] else None)
                if raw:
                    self.raw[r["_id"]] = raw
        if ctx.has("jid_map", "lid_row_id", "jid_row_id"):
            self.lid_to_jid = {r[0]: r[1] for r in ctx.rows("SELECT lid_row_id, jid_row_id FROM jid_map")}

    def handle(self, raw: str | None) -> str | None:
        """A JID as what it names (cached: phone-number parsing is the slow part)."""
        if raw is None:
            return None
        if raw not in self._handles:
            self._handles[raw] = self.ctx.jid(raw)
        return self._handles[raw]

    def party(self, row_id: Any) -> tuple[str | None, str | None]:
        """(the handle to show, the LID it stands for when the phone mapped a LID to a number)."""
        handle = self.handle(self.raw.get(row_id)) if row_id is not None else None
        if handle and handle.startswith("lid:") and row_id in self.lid_to_jid:
            mapped = self.handle(self.raw.get(self.lid_to_jid[row_id]))
            if is_number(mapped):
                return mapped, handle
        return handle, None


class Names:
    """Display names WhatsApp shows: `wa_contacts` (address-book name, else the push name) of the `wa.db`
    in the same folder as `msgstore.db` (WhatsApp and WhatsApp Business each keep their own)."""

    def __init__(self, ctx: Context) -> None:
        self.by_jid: dict[str, str] = {}
        folder = glob.escape(ctx.file.path.rsplit("/", 1)[0])
        for candidate in ctx.find(f"{folder}/wa.db"):
            if candidate.deleted:
                continue
            self._load(candidate)
            break

    def _load(self, file: ArtifactFile) -> None:
        try:
            conn = file.sqlite()
            cols = {r[1] for r in conn.execute("PRAGMA table_info(wa_contacts)")}
            if "jid" not in cols:
                return
            wanted = [c for c in ("display_name", "wa_name") if c in cols]
            if not wanted:
                return
            for r in conn.execute(f"SELECT jid, {', '.join(wanted)} FROM wa_contacts"):
                name = next((v for v in tuple(r)[1:] if v), None)
                if r[0] and name:
                    self.by_jid.setdefault(r[0], name)
        except (Unreadable, sqlite3.DatabaseError):
            return  # wa.db's own parser reports it

    def get(self, raw: str | None) -> str | None:
        return self.by_jid.get(raw) if raw else None
