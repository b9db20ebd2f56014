"""WhatsApp contacts on Android: `wa.db` `wa_contacts`.

One Contact per row: `jid` (the WhatsApp id, as what it names: `+E164`, `lid:<id>`, `group:<id>`),
`number` (as the address book holds it), `display_name` (the address-book name), `wa_name` (the name
the person gave themselves), `status` and its time. Groups and broadcast lists appear here too, with
their subject as the name; they are listed with `extra.kind` "group" or "broadcast" and no phone.
A LID row's number is used only when the row itself holds one (the phone's own mapping).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from .. import Artifact
from ..context import Context, RecoveredRow
from ..normalise import is_number, unix
from ..records import Contact, Record
from ._guard import Reading, guarded
from ._wa import package

KEEP = ("wa_name", "given_name", "family_name", "nickname", "company", "title", "status", "is_whatsapp_user",
        "raw_contact_id")


class AndroidWhatsAppContacts(Artifact):
    NAME = "android.whatsapp.contacts"
    VERSION = "1.0"
    APP = "whatsapp"
    DESCRIPTION = "WhatsApp and WhatsApp Business contacts (wa.db wa_contacts)"
    PATTERNS = ("*/com.whatsapp/databases/wa.db", "*/com.whatsapp.w4b/databases/wa.db",
                "*/apps/com.whatsapp/db/wa.db", "*/apps/com.whatsapp.w4b/db/wa.db", "*/wa.db")

    def parse(self, ctx: Context) -> Iterator[Record]:
        reading = Reading()
        reading.table = "wa_contacts"
        yield from guarded(ctx, reading, self._contacts(ctx))

    def _contacts(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("wa_contacts", "jid"):
            ctx.warn("no wa_contacts table with a jid column (unknown schema version)", "wa_contacts")
            return
        app_package = package(ctx.file.path)
        for r in ctx.rows("SELECT * FROM wa_contacts ORDER BY _id"):
            yield self._contact(ctx, dict(r), app_package, None)
        for rec in ctx.file.recovered(["wa_contacts"]):
            yield self._contact(ctx, rec.values, app_package, rec)

    def _contact(self, ctx: Context, row: Mapping[str, Any], app_package: str | None,
                 rec: RecoveredRow | None) -> Contact:
        raw = row.get("jid")
        handle = ctx.jid(raw) if isinstance(raw, str) else None
        phones: list[str] = []
        handles: list[str] = []
        extra: dict[str, Any] = {"jid": raw}
        if handle and is_number(handle):
            phones.append(handle)
        elif handle:
            handles.append(handle)
            if handle.startswith(("group:", "broadcast:", "status")):
                extra["kind"] = "group" if handle.startswith("group:") else "broadcast"
        number = ctx.phone(row.get("number")) if row.get("number") and not extra.get("kind") else None
        if number and number not in phones:
            phones.append(number)
        for key in KEEP:
            if row.get(key) not in (None, ""):
                extra[key] = row[key]
        if row.get("status_timestamp") and row["status_timestamp"] > 0:
            extra["status_time"] = unix(row["status_timestamp"])
        if app_package and app_package != "com.whatsapp":
            extra["package"] = app_package
        name = row.get("display_name") or row.get("wa_name") or None
        source = ctx.recovered_source(rec) if rec is not None else ctx.source("wa_contacts", row.get("_id"))
        return Contact(app=self.APP, source=source, name=name, phones=phones, handles=handles,
                       recovered=rec is not None, extra={k: v for k, v in extra.items() if v is not None})
