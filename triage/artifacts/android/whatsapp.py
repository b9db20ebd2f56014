"""WhatsApp and WhatsApp Business on Android: messages and calls from `msgstore.db`.

Both schemas are read from their tables, never from views: the current one (`message`, `chat`, `jid`,
`message_media`, `message_location`, `call_log`, `jid_map`…, see `_wa_new`) and the legacy one (one
`messages` table, see `_wa_old`). Databases from the 2021 migration hold both; the current tables are
read and the legacy rows left unread are counted in a warning. Names come from `wa.db` beside it
(`wa_contacts`), which `android.whatsapp.contacts` lists as contacts. Threads are the chat's JID as
what it names (`+E164`, `group:<id>`, `lid:<id>`, `status`); LIDs are mapped to numbers only through
the phone's own `jid_map` (see `_wa`). Deleted rows are recovered from `message`/`messages` and
`call_log` free space when recovery is available.
"""

from __future__ import annotations

from typing import Iterator

from .. import Artifact
from ..context import Context
from ..records import Record
from ._guard import Reading, guarded
from ._wa import Names, package
from ._wa_new import NewSchema
from ._wa_old import OldSchema


class AndroidWhatsApp(Artifact):
    NAME = "android.whatsapp"
    VERSION = "1.0"
    APP = "whatsapp"
    DESCRIPTION = "WhatsApp and WhatsApp Business messages, media, locations and calls (msgstore.db)"
    PATTERNS = ("*/com.whatsapp/databases/msgstore.db", "*/com.whatsapp.w4b/databases/msgstore.db",
                "*/apps/com.whatsapp/db/msgstore.db", "*/apps/com.whatsapp.w4b/db/msgstore.db", "*/msgstore.db")
    TABLES = (("message", "chat", "jid"), ("messages", "chat_list"))
    ALSO = ("*/wa.db",)

    def parse(self, ctx: Context) -> Iterator[Record]:
        reading = Reading()
        reading.table = "message"
        yield from guarded(ctx, reading, self._records(ctx, reading))

    def _records(self, ctx: Context, reading: Reading) -> Iterator[Record]:
        new = ctx.has("message", "_id", "chat_row_id", "from_me", "timestamp")
        old = ctx.has("messages", "_id", "key_remote_jid", "key_from_me", "timestamp")
        if not new and not old:
            ctx.warn("neither a message nor a messages table with the expected columns (unknown schema version)",
                     "message")
            return
        names = Names(ctx)
        app_package = package(ctx.file.path)
        current = NewSchema(ctx, names, app_package) if new else None
        legacy_rows = _count(ctx, "SELECT count(*) FROM messages WHERE key_remote_jid != '-1'") if old else 0
        if current is not None and (legacy_rows == 0 or _count(
                ctx, "SELECT count(*) FROM message WHERE chat_row_id != -1") > 0):
            yield from current.messages()
            reading.table = "call_log"
            yield from current.calls()
            if legacy_rows:
                ctx.warn(f"{legacy_rows} row(s) of the legacy messages table were not read: the current message "
                         "table holds this database's messages (a copy made by the 2021 migration)", "messages")
            return
        reading.table = "messages"
        yield from OldSchema(ctx, names, app_package).records()
        if current is not None:
            reading.table = "call_log"
            yield from current.calls()


def _count(ctx: Context, sql: str) -> int:
    row = next(iter(ctx.rows(sql)), None)
    return int(row[0]) if row is not None and row[0] is not None else 0
