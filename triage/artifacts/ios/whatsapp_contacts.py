"""WhatsApp on iOS: the app's address book, `ContactsV2.sqlite` (Core Data).

`ZWAADDRESSBOOKCONTACT`: one row per number of a phone contact (`ZFULLNAME`, `ZGIVENNAME`,
`ZPHONENUMBER` as the address book wrote it, `ZPHONENUMBERLABEL`, `ZIDENTIFIER` = the iOS contact's
id), with `ZWHATSAPPID` (`<number>@s.whatsapp.net`) when the number is on WhatsApp, `ZABOUTTEXT` and
`ZABOUTTIMESTAMP` (Cocoa seconds), and in newer versions `ZLID` (the contact's privacy id).
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Contact, Record
from ._common import Row, compact, live_and_recovered, number, source, text
from ._whatsapp import patterns
from .addressbook import label


class IOSWhatsAppContacts(Artifact):
    NAME = "ios.whatsapp.contacts"
    VERSION = "1.0"
    APP = "whatsapp"
    DESCRIPTION = "WhatsApp's address book (ContactsV2.sqlite)"
    PATTERNS = patterns("ContactsV2.sqlite")

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("ZWAADDRESSBOOKCONTACT", "Z_PK", "ZFULLNAME", "ZWHATSAPPID"):
            ctx.warn("no ZWAADDRESSBOOKCONTACT table with Z_PK, ZFULLNAME and ZWHATSAPPID (not WhatsApp's, "
                     "or an unknown schema version)", "ZWAADDRESSBOOKCONTACT")
            return
        for row, rec in live_and_recovered(ctx, "ZWAADDRESSBOOKCONTACT",
                                           "SELECT * FROM ZWAADDRESSBOOKCONTACT ORDER BY Z_PK", "Z_PK"):
            yield _contact(ctx, row, rec)


def _contact(ctx: Context, row: Row, rec: Any) -> Contact:
    jid = ctx.jid(text(row.get("ZWHATSAPPID")))
    stored = text(row.get("ZPHONENUMBER"))
    on_whatsapp = jid if jid and jid.startswith("+") else None
    digits = "".join(c for c in stored or "" if c.isdigit())
    if on_whatsapp and digits and on_whatsapp[1:].endswith(digits):
        phones = [on_whatsapp]  # WhatsApp made its id from this very number: one number, in E.164
    else:
        phones = [p for p in (on_whatsapp, number(ctx, stored)) if p]
    handles = [h for h in (jid if jid and not jid.startswith("+") else None,) if h]
    lid = row.get("ZLID")
    if lid:
        handle = ctx.jid(str(lid))
        handles.append(handle if handle and handle.startswith("lid:") else f"lid:{lid}")
    extra = {"whatsapp_id": text(row.get("ZWHATSAPPID")), "on_whatsapp": bool(jid) or None,
             "number_as_stored": stored, "label": label(row.get("ZPHONENUMBERLABEL")),
             "about": text(row.get("ZABOUTTEXT")), "about_at": cocoa(row.get("ZABOUTTIMESTAMP")),
             "given_name": text(row.get("ZGIVENNAME")), "contact_identifier": text(row.get("ZIDENTIFIER"))}
    return Contact(app="whatsapp", source=source(ctx, "ZWAADDRESSBOOKCONTACT", row["Z_PK"], rec),
                   name=text(row.get("ZFULLNAME")) or text(row.get("ZHIGHLIGHTEDNAME")), phones=phones,
                   handles=handles, recovered=rec is not None, extra=compact(extra))
