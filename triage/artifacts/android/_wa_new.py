"""WhatsApp `msgstore.db`, current schema (2021 onwards): `message`, `chat`, `jid`, `message_media`,
`message_location`, `message_quoted`, `message_revoked`, `message_forwarded`, `call_log`, `jid_map`,
`lid_display_name`.

`message.timestamp` is Unix milliseconds; `from_me` gives the direction; in a group `sender_jid_row_id`
names the member who wrote. Row `_id` 1 with `chat_row_id` -1 is a placeholder WhatsApp inserts when it
creates the table, not a message. Media files are named by `message_media.file_path` relative to the
WhatsApp folder ("Media/WhatsApp Images/…"); `file_hash` is the base64 SHA-256 of the file.
"""

from __future__ import annotations

import posixpath
from typing import Any, Iterator, Mapping

from ..context import Context, RecoveredRow
from ..normalise import unix_ms
from ..records import Attachment, Call, Message
from ._sql import dicts
from ._wa import MESSAGE_TYPE, Jids, Names, as_int, sha256_hex

APP = "whatsapp"
MESSAGE_COLUMNS = ("_id", "chat_row_id", "from_me", "key_id", "sender_jid_row_id", "status", "timestamp",
                   "received_timestamp", "message_type", "text_data", "starred")
JOINS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("message_media", "mm", ("file_path", "mime_type", "file_size", "file_hash", "media_name", "media_caption",
                             "media_duration", "enc_file_hash", "width", "height")),
    ("message_location", "ml", ("latitude", "longitude", "place_name", "place_address",
                                "live_location_final_latitude", "live_location_final_longitude")),
    ("message_quoted", "mq", ("key_id", "text_data", "from_me", "sender_jid_row_id")),
    ("message_revoked", "mr", ("message_row_id", "revoked_key_id")),
    ("message_forwarded", "mf", ("message_row_id", "forward_score")),
    ("message_edit_info", "me", ("edited_timestamp",)),
)


class NewSchema:
    """Reads one current-schema msgstore.db; `messages()` and `calls()` yield records."""

    def __init__(self, ctx: Context, names: Names, package: str | None) -> None:
        self.ctx = ctx
        self.names = names
        self.package = package
        self.jids = Jids(ctx)
        self.chats: dict[Any, tuple[Any, Any]] = {}
        if ctx.has("chat", "_id", "jid_row_id"):
            subject = ", subject" if ctx.has("chat", "subject") else ", NULL"
            self.chats = {r[0]: (r[1], r[2]) for r in ctx.rows(f"SELECT _id, jid_row_id{subject} FROM chat")}
        self._chat_cache: dict[Any, tuple[str | None, str | None, str | None, bool, str | None, str | None]] = {}
        self._member_cache: dict[Any, tuple[str | None, str | None, str | None]] = {}
        self.lid_names: dict[int, str] = {}
        if ctx.has("lid_display_name", "lid_row_id", "display_name"):
            self.lid_names = {r[0]: r[1] for r in ctx.rows("SELECT lid_row_id, display_name FROM lid_display_name")
                              if r[1]}

    def name_of(self, row_id: Any) -> str | None:
        """The name WhatsApp shows for a JID row (for a mapped LID, the number's name as a last resort)."""
        mapped = self.jids.lid_to_jid.get(row_id)
        return (self.names.get(self.jids.raw.get(row_id)) or self.lid_names.get(row_id)
                or (self.names.get(self.jids.raw.get(mapped)) if mapped is not None else None))

    # -- messages -------------------------------------------------------------------------------

    def _select(self, source: str = "message m") -> str:
        """The message columns read and those of the tables joined on its `_id` (media, location…);
        `source` may stand in for `message` (a recovered row's id alone)."""
        have = set(self.ctx.file.columns("message")) if source == "message m" else {"_id"}
        cols, joins = [f"m.{c}" for c in MESSAGE_COLUMNS if c in have], []
        for table, alias, wanted in JOINS:
            if not self.ctx.has(table, "message_row_id"):
                continue
            have = set(self.ctx.file.columns(table))
            cols += [f"{alias}.{c} AS {alias}_{c}" for c in wanted if c in have]
            joins.append(f"LEFT JOIN {table} {alias} ON {alias}.message_row_id = m._id")
        return f"SELECT {', '.join(cols)} FROM {source} {' '.join(joins)}"

    def messages(self) -> Iterator[Message]:
        for row in dicts(self.ctx, self._select() + " ORDER BY m._id"):
            if row["chat_row_id"] == -1:
                continue
            yield self.message(row, None)
        for rec in self.ctx.file.recovered(["message"]):
            values = dict(rec.values)
            values.setdefault("_id", rec.rowid)
            if values.get("chat_row_id") == -1:
                continue
            yield self.message(self._joined(values), rec)

    def _joined(self, values: dict[str, Any]) -> dict[str, Any]:
        """A recovered message row with whatever live media, location… rows still carry its id."""
        if values.get("_id") is None:
            return values
        sql = self._select("(SELECT ? AS _id) m")
        joined = next(iter(self.ctx.rows(sql, (values["_id"],))), None)
        if joined is not None:
            for key, value in dict(joined).items():
                if key != "_id":
                    values.setdefault(key, value)
        return values

    def _chat(self, chat_row_id: Any) -> tuple[str | None, str | None, str | None, bool, str | None, str | None]:
        """(peer handle, its LID when mapped, the chat's own handle, group?, thread name, peer's name), cached."""
        found = self._chat_cache.get(chat_row_id)
        if found is None:
            chat_jid, subject = self.chats.get(chat_row_id, (None, None))
            thread, thread_lid = self.jids.party(chat_jid)
            thread_raw = self.jids.handle(self.jids.raw.get(chat_jid))
            peer_name = self.name_of(chat_jid)
            found = (thread, thread_lid, thread_raw, bool(thread_raw and thread_raw.startswith("group:")),
                     subject or peer_name, peer_name)
            self._chat_cache[chat_row_id] = found
        return found

    def _member(self, row_id: Any) -> tuple[str | None, str | None, str | None]:
        """(handle, LID when mapped, name) of a group member, cached."""
        found = self._member_cache.get(row_id)
        if found is None:
            handle, lid = self.jids.party(row_id)
            found = self._member_cache[row_id] = (handle, lid, self.name_of(row_id))
        return found

    def message(self, row: Mapping[str, Any], rec: RecoveredRow | None) -> Message:
        ctx = self.ctx
        thread, thread_lid, thread_raw, group, thread_name, peer_name = self._chat(row.get("chat_row_id"))
        from_me = bool(row.get("from_me"))
        extra: dict[str, Any] = {}
        kind = as_int(row.get("message_type"))
        extra["type"] = MESSAGE_TYPE.get(kind, kind) if kind is not None else None
        sender: str | None = None
        sender_name: str | None = None
        recipients: list[str] = []
        if group:
            recipients = [thread_raw] if thread_raw else []
            if not from_me:
                sender, lid, sender_name = self._member(row.get("sender_jid_row_id"))
                if lid:
                    extra["lid"] = lid
        else:
            if thread_lid:
                extra["lid"] = thread_lid
            if from_me:
                recipients = [thread] if thread else []
            else:
                sender, sender_name = thread, peer_name
        text = row.get("text_data")
        attachments: list[Attachment] = []
        if row.get("mm_file_path") or row.get("mm_mime_type") or row.get("mm_file_hash"):
            attachments.append(self._attachment(row, extra))
            text = text or row.get("mm_media_caption")
        location = _location(row)
        if location is not None and row.get("ml_place_name"):
            extra["place"] = row["ml_place_name"]
        if row.get("ml_place_address"):
            extra["place_address"] = row["ml_place_address"]
        self._extras(row, extra)
        source = ctx.recovered_source(rec) if rec is not None else ctx.source("message", row.get("_id"))
        return Message(app=APP, source=source, time=unix_ms(row.get("timestamp")),
                       direction="outgoing" if from_me else "incoming", sender=sender, recipients=recipients,
                       text=text if text not in ("",) else None, thread=thread_raw,
                       thread_name=thread_name, sender_name=sender_name,
                       attachments=attachments, location=location, recovered=rec is not None,
                       extra={k: v for k, v in extra.items() if v is not None})

    def _attachment(self, row: Mapping[str, Any], extra: dict[str, Any]) -> Attachment:
        path = row.get("mm_file_path") or None
        name = row.get("mm_media_name") or (posixpath.basename(path) if path else None)
        media = {"file_path": path, "mime_type": row.get("mm_mime_type"), "file_size": row.get("mm_file_size"),
                 "sha256": sha256_hex(row.get("mm_file_hash")), "duration": row.get("mm_media_duration") or None}
        extra["media"] = {k: v for k, v in media.items() if v is not None}
        return Attachment(name=name, mime=row.get("mm_mime_type"), path=path)

    def _extras(self, row: Mapping[str, Any], extra: dict[str, Any]) -> None:
        for key in ("key_id", "status", "starred"):
            if row.get(key) not in (None, 0, ""):
                extra[key] = row[key]
        if row.get("received_timestamp") and row.get("received_timestamp") != row.get("timestamp"):
            extra["received"] = unix_ms(row["received_timestamp"])
        if row.get("mq_key_id"):
            quoted_by, _lid = self.jids.party(row.get("mq_sender_jid_row_id"))
            extra["quoted"] = {k: v for k, v in {"key_id": row["mq_key_id"], "text": row.get("mq_text_data"),
                                                 "from_me": bool(row.get("mq_from_me")), "sender": quoted_by}.items()
                               if v is not None}
        if row.get("mr_message_row_id") is not None:
            extra["revoked"] = True
        if row.get("mf_message_row_id") is not None:
            extra["forwarded"] = True
        if row.get("me_edited_timestamp"):
            extra["edited"] = unix_ms(row["me_edited_timestamp"])
        if self.package and self.package != "com.whatsapp":
            extra["package"] = self.package

    # -- calls ----------------------------------------------------------------------------------

    def calls(self) -> Iterator[Call]:
        if not self.ctx.has("call_log", "jid_row_id", "timestamp"):
            return
        for row in dicts(self.ctx, "SELECT * FROM call_log ORDER BY _id"):
            yield self.call(row, None)
        for rec in self.ctx.file.recovered(["call_log"]):
            yield self.call(dict(rec.values), rec)

    def call(self, row: Mapping[str, Any], rec: RecoveredRow | None) -> Call:
        number, lid = self.jids.party(row.get("jid_row_id"))
        from_me = bool(row.get("from_me"))
        duration = as_int(row.get("duration"))
        direction = "outgoing" if from_me else ("missed" if not duration else "incoming")
        extra: dict[str, Any] = {"lid": lid, "call_id": row.get("call_id"), "call_result": row.get("call_result"),
                                 "bytes_transferred": row.get("bytes_transferred") or None}
        group_row = as_int(row.get("group_jid_row_id"))
        if group_row:
            extra["group"] = self.jids.handle(self.jids.raw.get(group_row))
        if self.package and self.package != "com.whatsapp":
            extra["package"] = self.package
        video = row.get("video_call")
        source = self.ctx.recovered_source(rec) if rec is not None else self.ctx.source("call_log", row.get("_id"))
        return Call(app=APP, source=source, time=unix_ms(row.get("timestamp")), direction=direction,
                    number=number, name=self.name_of(row.get("jid_row_id")), duration=duration,
                    video=None if video is None else bool(video), recovered=rec is not None,
                    extra={k: v for k, v in extra.items() if v is not None})


def _location(row: Mapping[str, Any]) -> tuple[float, float] | None:
    for lat_key, lon_key in (("ml_latitude", "ml_longitude"),
                             ("ml_live_location_final_latitude", "ml_live_location_final_longitude")):
        lat, lon = row.get(lat_key), row.get(lon_key)
        if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and (lat, lon) != (0, 0) \
                and -90 <= lat <= 90 and -180 <= lon <= 180:
            return float(lat), float(lon)
    return None

