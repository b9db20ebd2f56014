"""What the three WhatsApp iOS parsers share: where the app group keeps its databases, and the
address book (`ContactsV2.sqlite`) read as {JID: (name, number)} for naming parties.

A full file system keeps the app group under `…/Containers/Shared/AppGroup/<UUID>/`; an iTunes or
Finder backup under the domain `AppDomainGroup-group.net.whatsapp.WhatsApp.shared` (WhatsApp
Business: `…WhatsAppSMB.shared`). LID JIDs (`…@lid`) are privacy ids, never numbers: `ctx.jid`
makes them `lid:<id>` handles; a number is given beside one only where the phone's own address
book maps it (`ZWAADDRESSBOOKCONTACT.ZLID`, in newer versions).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..context import Context
from ._common import text

FOLDERS = ("*/AppGroup/*/", "*group.net.whatsapp.*/")


def patterns(name: str) -> tuple[str, ...]:
    return tuple(folder + name for folder in FOLDERS)


@dataclass
class Person:
    name: str | None
    number: str | None


def address_book(ctx: Context) -> dict[str, Person]:
    """{handle (as ctx.jid gives it): Person} from the ContactsV2.sqlite nearest this database,
    keyed by WhatsApp id and, where the column exists, by LID."""
    found = ctx.find("*/ContactsV2.sqlite")
    if not found:
        return {}
    db = found[0]
    try:
        conn = db.sqlite()
        if "ZWAADDRESSBOOKCONTACT" not in db.tables():
            return {}
        columns = set(db.columns("ZWAADDRESSBOOKCONTACT"))
        lid = "ZLID" if "ZLID" in columns else "NULL"
        out: dict[str, Person] = {}
        for r in conn.execute(f"SELECT ZWHATSAPPID, ZFULLNAME, ZPHONENUMBER, {lid} AS lid FROM ZWAADDRESSBOOKCONTACT"):
            jid = ctx.jid(r["ZWHATSAPPID"])
            person = Person(text(r["ZFULLNAME"]), jid if jid and jid.startswith("+") else ctx.phone(r["ZPHONENUMBER"]))
            if jid:
                out.setdefault(jid, person)
            lid_handle = ctx.jid(str(r["lid"])) if r["lid"] else None
            if lid_handle:
                out.setdefault(lid_handle if lid_handle.startswith("lid:") else f"lid:{r['lid']}", person)
        return out
    except Exception as exc:  # a damaged companion only loses the names
        ctx.warn(f"the address book beside it ({db.path}) could not be read for names: {exc}")
        return {}
