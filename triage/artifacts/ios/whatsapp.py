"""WhatsApp on iOS: messages in `ChatStorage.sqlite` (Core Data).

`ZWAMESSAGE`: `ZCHATSESSION` (the conversation), `ZISFROMME`, `ZMESSAGEDATE`/`ZSENTDATE` (Cocoa
seconds), `ZFROMJID`/`ZTOJID`, `ZTEXT`, `ZMESSAGETYPE` (0 text, 1 image, 2 video, 3 audio, 4
contact card, 5 location, 6 group event, 7 link, 8 document, 10 system…: the labels are the
forensic community's readings, the number is kept), `ZGROUPMEMBER` (the sender in a group, a
`ZWAGROUPMEMBER` with `ZMEMBERJID`), `ZMEDIAITEM`. `ZWACHATSESSION`: `ZCONTACTJID` (the other party,
or the group's `…@g.us`), `ZPARTNERNAME` (contact name, or the group's subject). `ZWAMEDIAITEM`:
`ZMEDIALOCALPATH` (under the app group's `Message/` folder), `ZFILESIZE`, `ZTITLE`, and
`ZLATITUDE`/`ZLONGITUDE`, which are coordinates only for a location message (for images they hold
other numbers). `ZWAPROFILEPUSHNAME` gives the names people chose for themselves.
"""

from __future__ import annotations

import mimetypes
from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Attachment, Message, Record
from ._common import Row, body, compact, live_and_recovered, mapped, source, text
from ._whatsapp import address_book, patterns

KINDS: dict[Any, str] = {0: "text", 1: "image", 2: "video", 3: "audio", 4: "contact", 5: "location", 6: "group event",
         7: "link", 8: "document", 10: "system", 11: "gif", 15: "sticker"}
LOCATION = 5
SYSTEM = (6, 10)


class IOSWhatsApp(Artifact):
    NAME = "ios.whatsapp"
    VERSION = "1.0"
    APP = "whatsapp"
    DESCRIPTION = "WhatsApp messages, media and shared locations (ChatStorage.sqlite)"
    PATTERNS = patterns("ChatStorage.sqlite")
    ALSO = patterns("ContactsV2.sqlite")  # names from the app's address book beside it

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("ZWAMESSAGE", "Z_PK", "ZCHATSESSION", "ZISFROMME", "ZMESSAGEDATE"):
            ctx.warn("no ZWAMESSAGE table with Z_PK, ZCHATSESSION, ZISFROMME and ZMESSAGEDATE "
                     "(not WhatsApp's, or an unknown schema version)", "ZWAMESSAGE")
            return
        self.ctx = ctx
        self.sessions = {r["Z_PK"]: dict(r) for r in ctx.rows("SELECT * FROM ZWACHATSESSION")} \
            if ctx.has("ZWACHATSESSION", "Z_PK", "ZCONTACTJID") else {}
        self.members = {r["Z_PK"]: dict(r) for r in ctx.rows("SELECT * FROM ZWAGROUPMEMBER")} \
            if ctx.has("ZWAGROUPMEMBER", "Z_PK", "ZMEMBERJID") else {}
        self.push = {ctx.jid(k): v for k, v in mapped(ctx, "SELECT ZJID, ZPUSHNAME FROM ZWAPROFILEPUSHNAME",
                                                      "ZJID", "ZPUSHNAME").items()} \
            if ctx.has("ZWAPROFILEPUSHNAME", "ZJID", "ZPUSHNAME") else {}
        self.book = address_book(ctx)
        self.media, self.media_of = self._media()
        for row, rec in live_and_recovered(ctx, "ZWAMESSAGE", "SELECT * FROM ZWAMESSAGE ORDER BY Z_PK", "Z_PK"):
            yield self._message(row, rec)

    def _media(self) -> tuple[dict[int, Row], dict[int, int]]:
        if not self.ctx.has("ZWAMEDIAITEM", "Z_PK"):
            return {}, {}
        items = {r["Z_PK"]: dict(r) for r in self.ctx.rows("SELECT * FROM ZWAMEDIAITEM")}
        by_message = {row["ZMESSAGE"]: pk for pk, row in items.items() if row.get("ZMESSAGE") is not None}
        return items, by_message

    def _name(self, handle: str, group: bool, session: Row, member: Row | None) -> str | None:
        """The name the phone shows: its address book's, the chat's (one-to-one), the group member's
        contact name, else the name the person chose (push name)."""
        person = self.book.get(handle)
        return (person.name if person else None) or (None if group else text(session.get("ZPARTNERNAME"))) \
            or (text(member.get("ZCONTACTNAME")) or text(member.get("ZFIRSTNAME")) if member else None) \
            or text(self.push.get(handle))

    def _message(self, row: Row, rec: Any) -> Message:
        ctx = self.ctx
        pk = row["Z_PK"]
        session = self.sessions.get(row.get("ZCHATSESSION") or -1, {})
        thread = ctx.jid(text(session.get("ZCONTACTJID")))
        group = bool(thread and thread.startswith("group:"))
        kind = row.get("ZMESSAGETYPE")
        outgoing = row.get("ZISFROMME") == 1
        member = self.members.get(row.get("ZGROUPMEMBER") or -1)
        if outgoing:
            sender, recipients = None, [thread] if thread else []
        elif group:
            sender = ctx.jid(text(member.get("ZMEMBERJID"))) if member else None
            recipients = []
        else:
            sender = ctx.jid(text(row.get("ZFROMJID"))) or thread
            recipients = []
        sender_name = self._name(sender, group, session, member) if sender else None
        media = self.media.get(self.media_of.get(pk, -1)) or self.media.get(row.get("ZMEDIAITEM") or -1)
        attachments, location, media_extra = self._attachments(media, kind)
        extra: dict[str, Any] = {
            "kind": KINDS.get(kind, kind), "message_type": kind, "system": True if kind in SYSTEM else None,
            "group_event": row.get("ZGROUPEVENTTYPE") or None if kind in SYSTEM else None,
            "sent_at": cocoa(row.get("ZSENTDATE")), "status": row.get("ZMESSAGESTATUS"),
            "starred": bool(row.get("ZSTARRED")) or None, "stanza_id": text(row.get("ZSTANZAID")),
            "from_jid": text(row.get("ZFROMJID")), "to_jid": text(row.get("ZTOJID")),
            "push_name": text(self.push.get(sender)) if sender else None, **media_extra}
        person = self.book.get(sender or "")
        if sender and sender.startswith("lid:") and person and person.number:
            extra["sender_number"] = person.number  # the phone's own address book maps this LID
        return Message(app="whatsapp", source=source(ctx, "ZWAMESSAGE", pk, rec),
                       time=cocoa(row.get("ZMESSAGEDATE")), direction="outgoing" if outgoing else "incoming",
                       sender=sender, recipients=recipients, text=body(row.get("ZTEXT")), thread=thread,
                       thread_name=text(session.get("ZPARTNERNAME")) or thread, sender_name=sender_name,
                       attachments=attachments, location=location, recovered=rec is not None, extra=compact(extra))

    def _attachments(self, media: Row | None, kind: Any
                     ) -> tuple[list[Attachment], tuple[float, float] | None, dict[str, Any]]:
        if not media:
            return [], None, {}
        extra: dict[str, Any] = {"media_title": text(media.get("ZTITLE")), "media_url": None,
                                 "vcard_name": text(media.get("ZVCARDNAME")),
                                 "duration": media.get("ZMOVIEDURATION") or None}
        location = None
        lat, lon = media.get("ZLATITUDE"), media.get("ZLONGITUDE")
        if kind == LOCATION and isinstance(lat, (int, float)) and isinstance(lon, (int, float)) \
                and -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0, 0):
            location = (float(lat), float(lon))
        if kind == 7:
            extra["media_url"] = text(media.get("ZMEDIAURL"))
        local = text(media.get("ZMEDIALOCALPATH"))
        if not local:
            return [], location, extra
        path = "Message/" + local if local.startswith("Media/") else local
        name = local.rsplit("/", 1)[-1]
        size = media.get("ZFILESIZE")
        return [Attachment(name=text(media.get("ZTITLE")) if kind == 8 and media.get("ZTITLE") else name,
                           mime=mimetypes.guess_type(name)[0], path=path,
                           size=size if isinstance(size, int) and size > 0 else None)], location, extra

