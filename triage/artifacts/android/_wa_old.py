"""WhatsApp `msgstore.db`, legacy schema (until 2021): one `messages` table keyed by the chat's JID.

`key_remote_jid` is the chat, `key_from_me` the direction, `remote_resource` the member who wrote in a
group, `data` the text, `timestamp` Unix milliseconds. `media_wa_type` (stored as text) gives the
kind: 1 image, 2 audio, 3 video, 4 contact card, 5 location (`latitude`/`longitude`), 8 a call,
9 document, 13 GIF, 16 live location, 20 sticker. `media_hash` is the base64 SHA-256 of the media
file; its path on the phone is only inside `thumb_image`, a serialised Java object, where it is
searched for ("…WhatsApp/Media/…"); failing that the file name (`media_name`) is used. Calls are in
`call_log` (`message_row_id` pointing at a `messages` row), and rows of type 8 not referenced there.
The first row (`key_remote_jid` "-1") is a placeholder WhatsApp inserts, not a message.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..context import Context, RecoveredRow
from ..normalise import is_number, unix_ms
from ..records import Attachment, Call, Message
from ._sql import dicts
from ._wa import LOCATION_TYPES, MEDIA_TYPES, MESSAGE_TYPE, Names, as_int, media_path_in, sha256_hex

APP = "whatsapp"
CALL_TYPE = 8


class OldSchema:
    """Reads one legacy-schema msgstore.db."""

    def __init__(self, ctx: Context, names: Names, package: str | None) -> None:
        self.ctx = ctx
        self.names = names
        self.package = package
        self._handles: dict[str, str | None] = {}
        self.subjects: dict[Any, str] = {}
        if ctx.has("chat_list", "key_remote_jid", "subject"):
            self.subjects = {r[0]: r[1] for r in ctx.rows("SELECT key_remote_jid, subject FROM chat_list") if r[1]}
        self.logged: set[int] = set()
        if ctx.has("call_log", "message_row_id"):
            self.logged = {r[0] for r in ctx.rows("SELECT message_row_id FROM call_log") if r[0] is not None}

    def handle(self, raw: Any) -> str | None:
        if not isinstance(raw, str) or not raw:
            return None
        if raw not in self._handles:
            self._handles[raw] = self.ctx.jid(raw)
        return self._handles[raw]

    def records(self) -> Iterator[Message | Call]:
        for row in dicts(self.ctx, "SELECT * FROM messages ORDER BY _id"):
            yield from self._row(row, None)
        for rec in self.ctx.file.recovered(["messages"]):
            values = dict(rec.values)
            values.setdefault("_id", rec.rowid)
            yield from self._row(values, rec)
        if self.logged:
            yield from self._call_log()

    def _row(self, row: dict[str, Any], rec: RecoveredRow | None) -> Iterator[Message | Call]:
        chat = row.get("key_remote_jid")
        if chat in (None, "-1"):
            return
        if as_int(row.get("media_wa_type")) == CALL_TYPE:
            if row.get("_id") not in self.logged:
                yield self._call(row, row, "messages", row.get("_id"), rec)
            return
        yield self.message(row, rec)

    def message(self, row: Mapping[str, Any], rec: RecoveredRow | None) -> Message:
        chat = row.get("key_remote_jid")
        thread = self.handle(chat)
        group = bool(thread and thread.startswith("group:"))
        from_me = bool(row.get("key_from_me"))
        kind = as_int(row.get("media_wa_type"))
        extra: dict[str, Any] = {"type": MESSAGE_TYPE.get(kind, kind) if kind is not None else None}
        sender = None
        sender_name = None
        recipients: list[str] = []
        if group:
            recipients = [thread] if thread else []
            if not from_me:
                sender = self.handle(row.get("remote_resource"))
                sender_name = self.names.get(row.get("remote_resource"))
        elif from_me:
            recipients = [thread] if thread else []
        else:
            sender, sender_name = thread, self.names.get(chat)
        text = row.get("data")
        attachments: list[Attachment] = []
        if kind in MEDIA_TYPES:
            path = media_path_in(row.get("thumb_image")) or row.get("media_name") or None
            name = row.get("media_name") or (path.rsplit("/", 1)[-1] if path else None)
            attachments.append(Attachment(name=name, mime=row.get("media_mime_type"), path=path))
            media = {"file_path": path, "mime_type": row.get("media_mime_type"), "file_size": row.get("media_size"),
                     "sha256": sha256_hex(row.get("media_hash")), "url": row.get("media_url") or None,
                     "duration": row.get("media_duration") or None}
            extra["media"] = {k: v for k, v in media.items() if v is not None}
            text = text or row.get("media_caption")
        location = None
        lat, lon = row.get("latitude"), row.get("longitude")
        if kind in LOCATION_TYPES and isinstance(lat, (int, float)) and isinstance(lon, (int, float)) \
                and (lat, lon) != (0, 0):
            location = (float(lat), float(lon))
            if kind == 5 and row.get("media_name"):
                extra["place"] = row["media_name"]
        for key in ("key_id", "status", "starred"):
            if row.get(key) not in (None, 0, ""):
                extra[key] = row[key]
        if row.get("received_timestamp") and row.get("received_timestamp") != row.get("timestamp"):
            extra["received"] = unix_ms(row["received_timestamp"])
        if row.get("forwarded"):
            extra["forwarded"] = True
        if self.package and self.package != "com.whatsapp":
            extra["package"] = self.package
        source = self.ctx.recovered_source(rec) if rec is not None else self.ctx.source("messages", row.get("_id"))
        return Message(app=APP, source=source, time=unix_ms(row.get("timestamp")),
                       direction="outgoing" if from_me else "incoming", sender=sender, recipients=recipients,
                       text=text or None, thread=thread, thread_name=self.subjects.get(chat) or self.names.get(chat),
                       sender_name=sender_name, attachments=attachments, location=location,
                       recovered=rec is not None, extra={k: v for k, v in extra.items() if v is not None})

    def _call_log(self) -> Iterator[Call]:
        msgs = {}
        for r in self.ctx.rows("SELECT m._id, m.key_remote_jid, m.key_from_me, m.timestamp FROM messages m "
                               "JOIN call_log c ON c.message_row_id = m._id"):
            msgs[r[0]] = dict(r)
        for r in self.ctx.rows("SELECT * FROM call_log ORDER BY _id"):
            row = dict(r)
            yield self._call(row, msgs.get(row.get("message_row_id"), {}), "call_log", row.get("_id"), None)

    def _call(self, row: Mapping[str, Any], msg: Mapping[str, Any], table: str, rowid: Any,
              rec: RecoveredRow | None) -> Call:
        number = self.handle(msg.get("key_remote_jid"))
        from_me = bool(msg.get("key_from_me"))
        duration = as_int(row.get("duration") if "duration" in row else row.get("media_duration"))
        extra: dict[str, Any] = {"call_result": row.get("call_result"), "message_row_id": msg.get("_id"),
                                 "bytes_transferred": row.get("bytes_transferred") or None}
        if number and not is_number(number) and not number.startswith("lid:"):
            extra["jid"] = msg.get("key_remote_jid")
        if self.package and self.package != "com.whatsapp":
            extra["package"] = self.package
        video = row.get("video_call")
        source = self.ctx.recovered_source(rec) if rec is not None else self.ctx.source(table, rowid)
        return Call(app=APP, source=source, time=unix_ms(row.get("timestamp") or msg.get("timestamp")),
                    direction="outgoing" if from_me else ("missed" if not duration else "incoming"),
                    number=number, name=self.names.get(msg.get("key_remote_jid")), duration=duration,
                    video=None if video is None else bool(video), recovered=rec is not None,
                    extra={k: v for k, v in extra.items() if v is not None})
