"""iOS Messages: SMS, MMS and iMessage in `sms.db` (the same schema as macOS `chat.db`).

`message` rows join `handle` (the other party: phone number or e-mail, with the country it was
read in), `chat` through `chat_message_join` (the conversation: `chat_identifier`, `display_name`
for named groups) and `attachment` through `message_attachment_join`. The text is `message.text`,
or, when that is empty (iOS 16 and later often leave it so), the NSAttributedString archived in
`attributedBody` (a typedstream, decoded by `_typedstream`). `date` is Cocoa seconds, or
nanoseconds from iOS 11. `is_from_me` gives the direction; `service` (iMessage, SMS, RCS) the app.

Deletion leaves traces the parser reports: `deleted_messages` keeps only the GUIDs of deleted
messages (a trigger adds one on every DELETE), `chat_message_join` may still name deleted
message rows, and from iOS 16 `chat_recoverable_message_join` lists messages in "Recently Deleted"
(still in `message`, flagged here). Deleted message rows found in free space come through the same
conversion, flagged `recovered`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Attachment, Message, Record
from ._common import Row, body, compact, live_and_recovered, number, source, text
from ._typedstream import TypedStreamError, attributed_string

SERVICES = {"imessage": "imessage", "sms": "sms", "mms": "mms", "rcs": "rcs"}
GROUP_STYLE = 43
REACTIONS = {2000: "loved", 2001: "liked", 2002: "disliked", 2003: "laughed", 2004: "emphasized",
             2005: "questioned", 3000: "removed love", 3001: "removed like", 3002: "removed dislike",
             3003: "removed laugh", 3004: "removed emphasis", 3005: "removed question"}
OBJECT_REPLACEMENT = "\ufffc"  # where an attachment sits in the text


class Chat:
    """A conversation: its identifier, name, service and the handles taking part."""

    def __init__(self, row: Row, members: list[str]) -> None:
        self.identifier = text(row.get("chat_identifier"))
        self.name = text(row.get("display_name"))
        self.guid = text(row.get("guid"))
        self.group = row.get("style") == GROUP_STYLE
        self.members = members


class IOSMessages(Artifact):
    NAME = "ios.sms"
    VERSION = "1.0"
    APP = "imessage"
    DESCRIPTION = "SMS, MMS and iMessage from the Messages database (sms.db)"
    PATTERNS = ("*/Library/SMS/sms.db", "*/Library/Messages/chat.db")

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("message", "ROWID", "date", "is_from_me"):
            ctx.warn("no message table with ROWID, date and is_from_me (unknown schema version)", "message")
            return
        self.ctx = ctx
        self.handles = self._handles()
        self.chats, self.chat_of = self._chats()
        self.attachments = self._attachments()
        self.recently_deleted = self._recently_deleted()
        self.deleted_guids = self._deleted_guids()
        self.undecoded = 0
        live = set()
        for row, rec in live_and_recovered(ctx, "message", "SELECT * FROM message ORDER BY ROWID", "ROWID"):
            if rec is None:
                live.add(row["ROWID"])
            yield self._message(row, rec)
        if self.undecoded:
            ctx.warn(f"{self.undecoded} message(s) have an attributedBody that is not a readable typedstream "
                     f"and no text: listed without text", "message")
        self._report_deletions(live)

    # -- lookups ---------------------------------------------------------------------------------
    def _handles(self) -> dict[int, str | None]:
        if not self.ctx.has("handle", "ROWID", "id"):
            self.ctx.warn("no handle table: senders and recipients are not named", "handle")
            return {}
        country = "country" if self.ctx.has("handle", "country") else "NULL"
        return {r["ROWID"]: number(self.ctx, r["id"], r["country"])
                for r in self.ctx.rows(f"SELECT ROWID, id, {country} AS country FROM handle")}

    def _chats(self) -> tuple[dict[int, Chat], dict[int, int]]:
        ctx = self.ctx
        if not ctx.has("chat", "ROWID", "chat_identifier") or not ctx.has("chat_message_join", "chat_id",
                                                                             "message_id"):
            ctx.warn("no chat or chat_message_join table: messages are not grouped in threads", "chat")
            return {}, {}
        members: dict[int, list[str]] = {}
        if ctx.has("chat_handle_join", "chat_id", "handle_id"):
            for r in ctx.rows("SELECT chat_id, handle_id FROM chat_handle_join ORDER BY chat_id, handle_id"):
                handle = self.handles.get(r["handle_id"])
                if handle:
                    members.setdefault(r["chat_id"], []).append(handle)
        chats = {r["ROWID"]: Chat(dict(r), members.get(r["ROWID"], [])) for r in ctx.rows("SELECT * FROM chat")}
        chat_of = {r["message_id"]: r["chat_id"] for r in
                   ctx.rows("SELECT chat_id, message_id FROM chat_message_join ORDER BY chat_id DESC")}
        return chats, chat_of

    def _attachments(self) -> dict[int, list[Attachment]]:
        ctx = self.ctx
        if not (ctx.has("attachment", "ROWID", "filename") and ctx.has("message_attachment_join", "message_id",
                                                                          "attachment_id")):
            return {}
        by_id: dict[int, Attachment] = {}
        for r in ctx.rows("SELECT * FROM attachment"):
            row = dict(r)
            by_id[row["ROWID"]] = Attachment(name=text(row.get("transfer_name")) or _basename(row.get("filename")),
                                             mime=text(row.get("mime_type")), path=phone_path(row.get("filename")),
                                             size=row.get("total_bytes") or None)
        out: dict[int, list[Attachment]] = {}
        for r in ctx.rows("SELECT message_id, attachment_id FROM message_attachment_join ORDER BY rowid"):
            if r["attachment_id"] in by_id:
                out.setdefault(r["message_id"], []).append(by_id[r["attachment_id"]])
        return out

    def _recently_deleted(self) -> dict[int, str | None]:
        if not self.ctx.has("chat_recoverable_message_join", "message_id"):
            return {}
        date = "delete_date" if self.ctx.has("chat_recoverable_message_join", "delete_date") else "NULL"
        return {r["message_id"]: cocoa(r["d"]) for r in
                self.ctx.rows(f"SELECT message_id, {date} AS d FROM chat_recoverable_message_join")}

    def _deleted_guids(self) -> set[str]:
        if not self.ctx.has("deleted_messages", "guid"):
            return set()
        return {r["guid"] for r in self.ctx.rows("SELECT guid FROM deleted_messages") if r["guid"]}

    # -- one message -----------------------------------------------------------------------------
    def _message(self, row: Row, rec: Any) -> Message:
        rowid = row["ROWID"]
        message_text, extra = self._text(row)
        outgoing = bool(row.get("is_from_me"))
        other = self.handles.get(row.get("handle_id") or 0)
        chat = self.chats.get(self.chat_of.get(rowid, -1))
        if outgoing:
            sender, recipients = None, (chat.members if chat and chat.members else [other] if other else [])
        else:
            sender, recipients = other, []
        service = text(row.get("service"))
        app = SERVICES.get((service or "").lower(), (service or "sms").lower())
        attachments = [Attachment(a.name, a.mime, None, a.path, a.size) for a in self.attachments.get(rowid, [])]
        reaction = row.get("associated_message_type")
        extra.update(
            guid=row.get("guid"), service=service, account=_account(row), read=bool(row.get("is_read")),
            read_at=cocoa(row.get("date_read")), delivered_at=cocoa(row.get("date_delivered")),
            subject=text(row.get("subject")), error=row.get("error") or None,
            reaction=REACTIONS.get(reaction, reaction) if reaction else None,
            reaction_to=text(row.get("associated_message_guid")) if reaction else None,
            edited_at=cocoa(row.get("date_edited")), retracted_at=cocoa(row.get("date_retracted")),
            audio_message=bool(row.get("is_audio_message")) or None,
            system_event=row.get("item_type") or row.get("group_action_type") or None,
            recently_deleted=True if rowid in self.recently_deleted else None,
            recently_deleted_at=self.recently_deleted.get(rowid),
            chat_guid=chat.guid if chat else None)
        if rec is not None and row.get("guid") in self.deleted_guids:
            extra["listed_in_deleted_messages"] = True
        thread = chat.identifier if chat and chat.identifier else other
        thread_name = chat.name if chat and chat.name else (
            number(self.ctx, chat.identifier) if chat and chat.identifier else other)
        return Message(app=app, source=source(self.ctx, "message", rowid, rec), time=cocoa(row.get("date")),
                       direction="outgoing" if outgoing else "incoming", sender=sender, recipients=list(recipients),
                       text=message_text, thread=thread, thread_name=thread_name, attachments=attachments,
                       recovered=rec is not None, extra=compact(extra))

    def _text(self, row: Row) -> tuple[str | None, dict[str, Any]]:
        stored = row.get("text")
        blob = row.get("attributedBody")
        decoded: str | None = None
        extra: dict[str, Any] = {}
        if isinstance(blob, (bytes, bytearray)) and blob:
            try:
                archived = attributed_string(bytes(blob))
                decoded = archived.text
                if not archived.complete:
                    extra["attributed_body"] = "text read; its attribute runs could not all be read"
            except TypedStreamError as exc:
                if not _clean(stored):
                    self.undecoded += 1
                    extra["attributed_body"] = f"not decoded: {exc}"
        plain = _clean(stored)
        if plain is None and decoded is not None:
            extra["text_source"] = "attributedBody"
            return _clean(decoded), extra
        if plain is not None and decoded is not None and _clean(decoded) != plain:
            extra["attributed_text"] = decoded  # the archived text differs from `text`: both kept
        return plain, extra

    # -- what deletion left ----------------------------------------------------------------------
    def _report_deletions(self, live: set[int]) -> None:
        ctx = self.ctx
        if ctx.has("deleted_messages", "guid"):
            count = ctx.file.sqlite().execute("SELECT count(*) FROM deleted_messages").fetchone()[0]
            if count:
                ctx.warn(f"{count} message(s) were deleted on the phone: this table keeps only their GUIDs "
                         f"(added by a trigger on each deletion), not their text, time or parties; their "
                         f"content is only where it survives in the database's free space", "deleted_messages")
        gone = Counter(self.chats[c].identifier if c in self.chats else str(c)
                       for m, c in self.chat_of.items() if m not in live)
        if gone:
            where = ", ".join(f"{n} in {name}" for name, n in gone.most_common(5))
            ctx.warn(f"{sum(gone.values())} message row(s) named by chat_message_join no longer exist "
                     f"(deleted): {where}" + (" …" if len(gone) > 5 else ""), "chat_message_join")


def phone_path(filename: Any) -> str | None:
    """Where the phone keeps an attachment, as a path tail the walk's listing can match:
    `~/Library/SMS/Attachments/…` (the mobile user's home) becomes `Library/SMS/Attachments/…`."""
    name = text(filename)
    if name is None:
        return None
    if name.startswith("~/"):
        return name[2:]
    return name


def _basename(filename: Any) -> str | None:
    name = text(filename)
    return name.rsplit("/", 1)[-1] if name else None


def _account(row: Row) -> str | None:
    """The phone's own address used for the message (`p:+1…`, `e:x@icloud.com` in `account`)."""
    own = text(row.get("destination_caller_id")) or text(row.get("account"))
    if own and len(own) > 2 and own[1] == ":" and own[0] in "pPeE":
        own = own[2:]
    return own


def _clean(value: Any) -> str | None:
    """Message text as stored; None when it holds nothing but the characters marking attachments."""
    stored = body(value)
    if stored is None or not stored.replace(OBJECT_REPLACEMENT, "").strip():
        return None
    return stored
