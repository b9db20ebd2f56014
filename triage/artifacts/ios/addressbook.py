"""iOS Contacts: `AddressBook.sqlitedb`.

`ABPerson` is one card (First/Middle/Last, Organization, Nickname, CreationDate and
ModificationDate in Cocoa seconds, StoreID naming the `ABStore` it syncs with: local, iCloud
"Card", Google…). `ABMultiValue` holds its values, `property` saying which: 3 phone, 4 e-mail,
5 postal address, 13 instant-messaging, 22 URL, 46 social profile; `label` points to
`ABMultiValueLabel` (`_$!<Mobile>!$_`). Values made of parts (addresses, IM and social profiles)
keep them in `ABMultiValueEntry` (`parent_id` = the multivalue's UID) keyed by
`ABMultiValueEntryKey` (Street, City, service, username…). `ABStore.MeIdentifier` names the
owner's own card. Rows recovered from free space come through the same conversion: a recovered
value of a live card (a number deleted from a contact) is its own record, named after the card.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Contact, Record
from ._common import Row, compact, live_and_recovered, mapped, number, source, text

PHONE, EMAIL, ADDRESS, IM, URL, SOCIAL = 3, 4, 5, 13, 22, 46
NAME_PARTS = ("Prefix", "First", "Middle", "Last", "Suffix")


def label(raw: Any) -> str | None:
    """`_$!<Mobile>!$_` -> `Mobile`; a user's own label as written."""
    value = text(raw)
    if value and value.startswith("_$!<") and value.endswith(">!$_"):
        return value[4:-4]
    return value


class IOSAddressBook(Artifact):
    NAME = "ios.addressbook"
    VERSION = "1.0"
    APP = "contacts"
    DESCRIPTION = "Contacts from the address book (AddressBook.sqlitedb)"
    PATTERNS = ("*/Library/AddressBook/AddressBook.sqlitedb",)

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("ABPerson", "ROWID", "First", "Last"):
            ctx.warn("no ABPerson table with ROWID, First and Last (unknown schema version, or the data is "
                     "in a -wal that was not found)", "ABPerson")
            return
        self.ctx = ctx
        self.labels = mapped(ctx, "SELECT rowid AS k, value AS v FROM ABMultiValueLabel", "k", "v") \
            if ctx.has("ABMultiValueLabel", "value") else {}
        self.stores = mapped(ctx, "SELECT ROWID AS k, Name AS v FROM ABStore", "k", "v") \
            if ctx.has("ABStore", "ROWID", "Name") else {}
        self.me = {r["m"] for r in ctx.rows("SELECT MeIdentifier AS m FROM ABStore")} \
            if ctx.has("ABStore", "MeIdentifier") else set()
        self.parts = self._parts()
        values: dict[int, list[Row]] = {}
        loose: list[tuple[Row, Any]] = []   # recovered values: grouped with their card below
        if ctx.has("ABMultiValue", "UID", "record_id", "property", "value"):
            for row, rec in live_and_recovered(ctx, "ABMultiValue", "SELECT * FROM ABMultiValue ORDER BY UID",
                                               "UID", ["ABPerson", "ABMultiValue"]):
                if rec is None:
                    values.setdefault(row["record_id"], []).append(row)
                else:
                    loose.append((row, rec))
        else:
            ctx.warn("no ABMultiValue table: contacts are listed without numbers or e-mail addresses",
                     "ABMultiValue")
        people: dict[int, Row] = {}
        gone: set[int] = set()
        for row, rec in live_and_recovered(ctx, "ABPerson", "SELECT * FROM ABPerson ORDER BY ROWID", "ROWID",
                                           ["ABPerson", "ABMultiValue"]):
            if rec is None:
                people[row["ROWID"]] = row
                yield self._contact(row, values.get(row["ROWID"], []), None)
            else:
                gone.add(row["ROWID"])
                yield self._contact(row, [v for v, _ in loose if v.get("record_id") == row["ROWID"]], rec)
        for value, rec in loose:
            card_id = value.get("record_id")
            if card_id in gone and card_id not in people:
                continue  # listed with its recovered card above
            card = people.get(card_id or -1, {"ROWID": card_id})
            contact = self._contact(card, [value], rec)  # a value deleted from a card (or from a lost one)
            contact.extra["deleted_value_of_card"] = card_id
            yield contact

    def _parts(self) -> dict[int, dict[str, str]]:
        """Parts of composite values (addresses, IM, social profiles), by multivalue UID."""
        ctx = self.ctx
        if not (ctx.has("ABMultiValueEntry", "parent_id", "key", "value") and ctx.has("ABMultiValueEntryKey",
                                                                                       "value")):
            return {}
        keys = mapped(ctx, "SELECT rowid AS k, value AS v FROM ABMultiValueEntryKey", "k", "v")
        out: dict[int, dict[str, str]] = {}
        for r in ctx.rows("SELECT parent_id, key, value FROM ABMultiValueEntry ORDER BY parent_id, key"):
            if r["value"] is not None:
                out.setdefault(r["parent_id"], {})[str(keys.get(r["key"], r["key"]))] = str(r["value"])
        return out

    def _contact(self, person: Row, values: list[Row], rec: Any) -> Contact:
        ctx = self.ctx
        phones: list[str] = []
        emails: list[str] = []
        handles: list[str] = []
        labels: dict[str, str] = {}
        addresses: list[str] = []
        urls: list[str] = []
        for v in values:
            prop, raw = v.get("property"), text(v.get("value"))
            parts = self.parts.get(v.get("UID") or -1, {})
            name = label(self.labels.get(v.get("label")))
            shown: str | None = None
            if prop == PHONE and raw:
                shown = number(ctx, raw)
                phones.append(shown or raw)
            elif prop == EMAIL and raw:
                shown = raw.lower()
                emails.append(shown)
            elif prop in (IM, SOCIAL):
                user = parts.get("username") or parts.get("identifier") or raw
                service = (parts.get("service") or "").lower()
                if user:
                    shown = f"{service}:{user}" if service else user
                    handles.append(shown)
                if parts.get("url"):
                    urls.append(parts["url"])
            elif prop == ADDRESS:
                shown = ", ".join(parts[k] for k in ("Street", "City", "State", "ZIP", "Country")
                                  if parts.get(k)) or raw
                if shown:
                    addresses.append(shown)
            elif prop == URL and raw:
                shown = raw
                urls.append(raw)
            if shown and name:
                labels[shown] = name
        full = " ".join(text(person.get(k)) or "" for k in NAME_PARTS).split()
        organisation = text(person.get("Organization"))
        extra = {"first": text(person.get("First")), "last": text(person.get("Last")),
                 "organisation": organisation, "nickname": text(person.get("Nickname")),
                 "job_title": text(person.get("JobTitle")), "note": text(person.get("Note")),
                 "birthday": text(person.get("Birthday")), "modified": cocoa(person.get("ModificationDate")),
                 "store": self.stores.get(person.get("StoreID")), "labels": labels, "addresses": addresses,
                 "urls": urls, "guid": text(person.get("guid")),
                 "own_card": True if person.get("ROWID") in self.me else None}
        return Contact(app="contacts", source=source(ctx, "ABPerson", person.get("ROWID"), rec),
                       name=" ".join(full) or organisation or text(person.get("Nickname")) or
                       text(person.get("DisplayName")) or text(person.get("CompositeNameFallback")),
                       phones=phones, emails=emails, handles=handles, time=cocoa(person.get("CreationDate")),
                       recovered=rec is not None, extra=compact(extra))
