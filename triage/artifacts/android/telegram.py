"""Telegram for Android (and forks that keep its storage): messages, calls and users from `cache4.db`.

`messages_v2` (`messages` before 2021) holds one row per cached message: `uid` the dialog (a user id,
or minus a group or channel id; bit 62 set for a secret chat), `mid`, `date` (Unix seconds), `out`,
`read_state` and `data`, the message object in Telegram's TL serialisation (decoded in `_tl`). `users`
and `chats` hold each peer's TL object (`data`) and a lower-case search name (`name`, "name;;;username").

Threads and parties are `telegram:<id>` (the dialog or user id): Telegram ids, not phone numbers; a
user's phone number, when the cache holds it, is in the user's Contact. Messages are decoded from the
BLOB and accepted when the decoded date equals the row's; any other layout falls back to the row's
columns (`uid`, `date`, `out`) with the printable text found in the BLOB, flagged
`extra.decoded = "fallback"` and counted in one warning. Phone-call service messages become Calls.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterator, Mapping

from .. import Artifact
from ..context import Context, RecoveredRow
from ..normalise import unix
from ..records import Call, Contact, Message, Record
from . import _tl
from ._guard import Reading, guarded
from ._sql import dicts

SECRET = 1 << 62


class AndroidTelegram(Artifact):
    NAME = "android.telegram"
    VERSION = "1.0"
    APP = "telegram"
    DESCRIPTION = "Telegram messages, calls and users from cache4.db (TL-serialised objects decoded)"
    PATTERNS = ("*/org.telegram.messenger*/files/cache4.db", "*/org.telegram.messenger*/files/account*/cache4.db",
                "*/files/cache4.db", "*/files/account*/cache4.db", "*/apps/*/f/cache4.db",
                "*/apps/*/f/account*/cache4.db")
    TABLES = (("messages_v2", "users", "dialogs"), ("messages", "users", "dialogs", "enc_chats"))

    def parse(self, ctx: Context) -> Iterator[Record]:
        reading = Reading()
        reading.table = "users"
        yield from guarded(ctx, reading, self._records(ctx, reading))

    def _records(self, ctx: Context, reading: Reading) -> Iterator[Record]:
        table = next((t for t in ("messages_v2", "messages") if ctx.has(t, "mid", "uid", "date", "out", "data")), None)
        if table is None and not ctx.has("users", "uid"):
            ctx.warn("no messages_v2, messages or users table with the expected columns (unknown schema version)",
                     "messages_v2")
            return
        names: dict[int, str] = {}
        for contact in self._users(ctx):
            uid = contact.extra["uid"]
            if contact.name:
                names[uid] = contact.name
            yield contact
        reading.table = "chats"
        names.update(self._chats(ctx))
        if table is None:
            ctx.warn("no messages_v2 or messages table with the expected columns", "messages_v2")
            return
        fallback: Counter[str] = Counter()
        reading.table = table
        for row in dicts(ctx, f"SELECT rowid, * FROM {table} ORDER BY date, uid, mid"):
            yield self._record(ctx, table, row, names, fallback, None)
        for rec in ctx.file.recovered([table]):
            yield self._record(ctx, table, rec.values, names, fallback, rec)
        if fallback:
            kinds = ", ".join(f"{k}: {n}" for k, n in sorted(fallback.items()))
            ctx.warn(f"{sum(fallback.values())} message(s) in layouts not read ({kinds}) were listed from their "
                     "uid, date and out columns with the text found in the BLOB (extra.decoded = fallback)", table)

    # -- users and chats ------------------------------------------------------------------------

    def _users(self, ctx: Context) -> Iterator[Contact]:
        if not ctx.has("users", "uid"):
            return
        for r in ctx.rows("SELECT * FROM users ORDER BY uid"):
            row = dict(r)
            uid = row["uid"]
            info = _tl.user(row["data"], uid) if isinstance(row.get("data"), bytes) else None
            search_name, _, search_user = str(row.get("name") or "").partition(";;;")
            extra: dict[str, Any] = {"uid": uid}
            if info is not None:
                name = " ".join(p for p in (info.first_name, info.last_name) if p) or None
                username = info.username or search_user or None
            else:
                name, username = search_name.strip() or None, search_user.strip() or None
                extra["decoded"] = "fallback"
            phones = [p for p in [ctx.phone("+" + info.phone.lstrip("+"))] if p] if info and info.phone else []
            handles = [f"telegram:{uid}"] + ([f"@{username}"] if username else [])
            if username:
                extra["username"] = username
            if isinstance(row.get("status"), int) and row["status"] > 0:
                extra["last_seen"] = unix(row["status"])
            yield Contact(app=self.APP, source=ctx.source("users", uid), name=name, phones=phones, handles=handles,
                          extra=extra)

    def _chats(self, ctx: Context) -> dict[int, str]:
        titles: dict[int, str] = {}
        if not ctx.has("chats", "uid"):
            return titles
        for r in ctx.rows("SELECT * FROM chats"):
            uid = r["uid"]
            info = _tl.chat(r["data"], uid) if "data" in r.keys() and isinstance(r["data"], bytes) else None
            title = info.title if info is not None else (str(r["name"] or "").partition(";;;")[0] or None)
            if title:
                titles[-uid] = title
        return titles

    # -- messages -------------------------------------------------------------------------------

    def _record(self, ctx: Context, table: str, row: Mapping[str, Any], names: dict[int, str],
                fallback: Counter[str], rec: RecoveredRow | None) -> Record:
        uid, mid, date, blob = row.get("uid"), row.get("mid"), row.get("date"), row.get("data")
        decoded = None
        reason = "not a BLOB"
        if isinstance(blob, bytes):
            try:
                decoded = _tl.message(blob)
                reason = f"{decoded.constructor:#010x}"
                if decoded.date != date or (isinstance(mid, int) and mid > 0 and decoded.id != mid):
                    decoded, reason = None, f"{reason} (date or id not matching the row)"
            except (_tl.TLError, ValueError) as exc:
                reason = f"{int.from_bytes(blob[:4], 'little'):#010x}" if len(blob) >= 4 else "short BLOB"
                if "constructor" not in str(exc):
                    reason += " (layout not matching)"
        out = bool(row.get("out"))
        thread = f"telegram:{uid}" if uid is not None else None
        thread_name = names.get(uid) if isinstance(uid, int) else None
        extra: dict[str, Any] = {"mid": mid, "read_state": row.get("read_state")}
        if isinstance(uid, int) and uid > 0 and uid & SECRET:
            extra["secret_chat"] = True
        source = ctx.recovered_source(rec) if rec is not None else ctx.source(table, _rowid(row))
        if decoded is not None and decoded.call is not None:
            return self._call(decoded, out, thread, thread_name, date, source, rec)
        group = isinstance(uid, int) and uid < 0
        sender = None
        if not out:
            if decoded is not None and decoded.sender is not None:
                kind, ident = decoded.sender
                sender = f"telegram:{ident if kind == 'user' else -ident}"
            elif isinstance(uid, int) and uid > 0:
                sender = thread
        if decoded is not None:
            extra["decoded"] = "structural"
            text = decoded.text or None
            for key, value in (("media", decoded.media), ("reply_to", decoded.reply_to),
                               ("forwarded", decoded.forwarded or None), ("service", decoded.action)):
                if value is not None:
                    extra[key] = value
            extra.update({f"place_{k}": v for k, v in decoded.place.items() if v})
        else:
            extra["decoded"] = "fallback"
            fallback[reason] += 1
            text = "\n".join(_tl.printable(blob)) or None
        sender_id = int(sender.split(":")[1]) if sender and sender.split(":")[1].lstrip("-").isdigit() else None
        return Message(app=self.APP, source=source, time=unix(date), direction="outgoing" if out else "incoming",
                       sender=sender, recipients=[thread] if thread and (out or group) else [], text=text,
                       thread=thread, thread_name=thread_name,
                       sender_name=names.get(sender_id) if sender_id is not None else None,
                       location=decoded.location if decoded is not None else None, recovered=rec is not None,
                       extra={k: v for k, v in extra.items() if v is not None})

    def _call(self, decoded: _tl.TLMessage, out: bool, thread: str | None, name: str | None, date: Any,
              source: Any, rec: RecoveredRow | None) -> Call:
        call = decoded.call or {}
        reason = call.get("reason")
        direction = "outgoing" if out else ("missed" if reason in ("missed", "busy") else "incoming")
        extra = {"mid": decoded.id, "call_id": call.get("call_id"), "reason": reason, "decoded": "structural"}
        return Call(app=self.APP, source=source, time=unix(date), direction=direction, number=thread, name=name,
                    duration=call.get("duration"), video=call.get("video"), recovered=rec is not None,
                    extra={k: v for k, v in extra.items() if v is not None})


def _rowid(row: Mapping[str, Any]) -> int | None:
    value = row.get("rowid")
    return value if isinstance(value, int) else None
