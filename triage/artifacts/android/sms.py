"""Android SMS and MMS: the telephony provider's `mmssms.db` (`sms`, `pdu`/`part`/`addr`, `threads`).

SMS `type`: 1 inbox, 2 sent, 3 draft, 4 outbox, 5 failed, 6 queued. MMS `msg_box` likewise; MMS
`date` is in seconds, SMS `date` in milliseconds. `addr.type` 137 is the sender, 151/130/129 the
recipients (to, cc, bcc). MMS parts keep their content in `part._data` (a file under `app_parts/`,
hashed from the listing) or, for text, in `part.text`. Deleted SMS rows are recovered from the
database's free space.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from .. import Artifact
from ..context import Context
from ..normalise import unix, unix_ms
from ..records import Attachment, Message, Record
from ._sql import dicts

SMS_BOX = {1: "incoming", 2: "outgoing", 4: "outgoing", 5: "outgoing", 6: "outgoing"}
SMS_STATUS = {1: "inbox", 2: "sent", 3: "draft", 4: "outbox", 5: "failed", 6: "queued"}
ADDR_FROM, ADDR_TO = 137, (151, 130, 129)
INSERT_ADDRESS = "insert-address-token"  # MMS placeholder for "this phone"


class AndroidSMS(Artifact):
    NAME = "android.sms"
    VERSION = "1.0"
    APP = "sms"
    DESCRIPTION = "SMS and MMS from the telephony provider (mmssms.db)"
    PATTERNS = ("*/com.android.providers.telephony/databases/mmssms.db", "*/mmssms.db")
    TABLES = (("sms", "threads"), ("pdu", "part", "addr"))

    def parse(self, ctx: Context) -> Iterator[Record]:
        threads = self._threads(ctx)
        if ctx.has("sms", "_id", "address", "date", "type", "body"):
            for row in dicts(ctx, "SELECT * FROM sms ORDER BY _id"):
                yield self._sms(ctx, row, threads, None)
            for rec in ctx.file.recovered(["sms"]):  # deleted rows, and older versions of live ones
                yield self._sms(ctx, rec.values, threads, rec)
        else:
            ctx.warn("no sms table with the expected columns (unknown schema version)", "sms")
        if ctx.has("pdu", "_id", "msg_box", "date"):
            yield from self._mms(ctx, threads)

    def _threads(self, ctx: Context) -> dict[int, list[str]]:
        if not ctx.has("threads", "_id", "recipient_ids") or not ctx.has("canonical_addresses", "_id", "address"):
            return {}
        canon = {r["_id"]: r["address"] for r in ctx.rows("SELECT _id, address FROM canonical_addresses")}
        out: dict[int, list[str]] = {}
        for r in ctx.rows("SELECT _id, recipient_ids FROM threads"):
            ids = [int(x) for x in str(r["recipient_ids"] or "").split() if x.isdigit()]
            out[r["_id"]] = [p for p in (ctx.phone(canon.get(i)) for i in ids) if p]
        return out

    def _sms(self, ctx: Context, row: Mapping[str, Any], threads: dict[int, list[str]], rec: Any) -> Message:
        kind = row.get("type")
        direction = SMS_BOX.get(kind) if isinstance(kind, int) else None
        other = ctx.phone(row.get("address"))
        thread_id = row.get("thread_id")
        sender, recipients = (other, []) if direction == "incoming" else (None, [other] if other else [])
        extra: dict[str, Any] = {"status": SMS_STATUS.get(kind, kind) if kind is not None else None}
        for key in ("read", "seen", "service_center", "subject", "date_sent", "sub_id"):
            if row.get(key) not in (None, ""):
                extra[key] = unix_ms(row[key]) if key == "date_sent" and row[key] else row[key]
        source = ctx.recovered_source(rec) if rec is not None else ctx.source("sms", row.get("_id"))
        return Message(app="sms", source=source, time=unix_ms(row.get("date")), direction=direction,
                       sender=sender, recipients=recipients, text=row.get("body"),
                       thread=f"sms:{thread_id}" if thread_id is not None else None,
                       thread_name=", ".join(threads.get(thread_id, [])) or other if thread_id is not None else other,
                       recovered=rec is not None, extra={k: v for k, v in extra.items() if v is not None})

    def _mms(self, ctx: Context, threads: dict[int, list[str]]) -> Iterator[Message]:
        addrs: dict[int, list[tuple[int, str]]] = {}
        if ctx.has("addr", "msg_id", "address", "type"):
            for r in ctx.rows("SELECT msg_id, address, type FROM addr ORDER BY _id"):
                addrs.setdefault(r["msg_id"], []).append((r["type"], r["address"]))
        parts: dict[int, list[dict[str, Any]]] = {}
        if ctx.has("part", "mid", "ct"):
            for r in ctx.rows("SELECT * FROM part ORDER BY mid, seq, _id"):
                parts.setdefault(r["mid"], []).append(dict(r))
        for row in ctx.rows("SELECT * FROM pdu ORDER BY _id"):
            box = row["msg_box"]
            direction = SMS_BOX.get(box) if isinstance(box, int) else None
            sender = None
            recipients: list[str] = []
            for kind, address in addrs.get(row["_id"], []):
                number = None if address == INSERT_ADDRESS else ctx.phone(address)
                if kind == ADDR_FROM:
                    sender = number
                elif kind in ADDR_TO and number:
                    recipients.append(number)
            texts, attachments = [], []
            for part in parts.get(row["_id"], []):
                ct = (part.get("ct") or "").lower()
                if ct == "application/smil":
                    continue
                if ct == "text/plain" and part.get("text") is not None:
                    texts.append(part["text"])
                    continue
                attachments.append(Attachment(name=part.get("cl") or part.get("name") or part.get("fn"),
                                              mime=part.get("ct"), path=part.get("_data")))
            thread_id = row["thread_id"]
            keys = row.keys()
            yield Message(
                app="mms", source=ctx.source("pdu", row["_id"]), time=unix(row["date"]), direction=direction,
                sender=sender, recipients=recipients, text="\n".join(texts) if texts else None,
                thread=f"sms:{thread_id}" if thread_id is not None else None,
                thread_name=", ".join(threads.get(thread_id, [])) or None, attachments=attachments,
                extra={k: row[k] for k in ("sub", "m_type", "read") if k in keys and row[k] is not None})
