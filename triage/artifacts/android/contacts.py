"""Android contacts: the contacts provider's `contacts2.db` (`raw_contacts`, `data`, `mimetypes`, `accounts`).

One Contact per raw contact (one per account that holds the person), so a number kept only in a
WhatsApp or SIM account is not lost in aggregation. Raw contacts the phone marked `deleted = 1` (kept
until the account syncs) are listed with `extra.deleted`. `data` rows are typed by `mimetypes`:
name (`data1` display name), phone_v2 (`data1` number, `data4` the phone's own E.164 form), email_v2,
im (`data5` protocol, `data6` custom protocol), organization (`data1` company, `data4` title),
nickname, note, website, sip_address, postal-address_v2, and the rows apps add for their accounts
(`vnd.android.cursor.item/vnd.com.whatsapp.profile`, Telegram's, Signal's…), whose `data1` is the
app's id for the person. Deleted `data` rows recovered from free space make a recovered Contact per
raw contact, with the name of the live raw contact where it still exists.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from .. import Artifact
from ..context import Context, RecoveredRow
from ..normalise import unix_ms
from ..records import Contact, Record
from ._guard import Reading, guarded
from ._sql import dicts
from .calllog import number_of

ITEM = "vnd.android.cursor.item/"
IM_PROTOCOL: dict[Any, str] = {0: "aim", 1: "msn", 2: "yahoo", 3: "skype", 4: "qq", 5: "gtalk", 6: "icq", 7: "jabber",
               8: "netmeeting"}
TEXT_KINDS = {"nickname": "nickname", "note": "note", "website": "website", "postal-address_v2": "address"}


class AndroidContacts(Artifact):
    NAME = "android.contacts"
    VERSION = "1.0"
    APP = "contacts"
    DESCRIPTION = "Contacts from the contacts provider (contacts2.db), one per raw contact, deleted ones flagged"
    PATTERNS = ("*/com.android.providers.contacts/databases/contacts2.db", "*/contacts2.db")
    TABLES = (("raw_contacts", "data", "mimetypes"),)

    def parse(self, ctx: Context) -> Iterator[Record]:
        reading = Reading()
        reading.table = "raw_contacts"
        yield from guarded(ctx, reading, self._contacts(ctx, reading))

    def _contacts(self, ctx: Context, reading: Reading) -> Iterator[Record]:
        if not ctx.has("raw_contacts", "_id") or not ctx.has("data", "raw_contact_id", "mimetype_id", "data1") \
                or not ctx.has("mimetypes", "_id", "mimetype"):
            missing = [t for t in ("raw_contacts", "data", "mimetypes") if not ctx.has(t)]
            ctx.warn(f"no contacts read: table(s) {', '.join(missing) or 'with the expected columns'} missing "
                     "(unknown schema version or a database reduced to other tables)", "raw_contacts")
            return
        mimes = {r["_id"]: r["mimetype"] for r in ctx.rows("SELECT _id, mimetype FROM mimetypes")}
        accounts = self._accounts(ctx)
        updated: dict[Any, Any] = {}
        if ctx.has("contacts", "_id", "contact_last_updated_timestamp"):
            updated = {r[0]: r[1] for r in ctx.rows("SELECT _id, contact_last_updated_timestamp FROM contacts")}
        data: dict[int, list[dict[str, Any]]] = {}
        reading.table = "data"
        for row in dicts(ctx, "SELECT * FROM data ORDER BY raw_contact_id, _id"):
            data.setdefault(row["raw_contact_id"], []).append(row)
        live: dict[int, dict[str, Any]] = {}
        reading.table = "raw_contacts"
        for row in dicts(ctx, "SELECT * FROM raw_contacts ORDER BY _id"):
            live[row["_id"]] = row
            yield self._contact(ctx, row, data.get(row["_id"], []), mimes, accounts, updated, None)
        yield from self._recovered(ctx, live, mimes, accounts, updated)

    def _accounts(self, ctx: Context) -> dict[Any, tuple[Any, Any]]:
        if not ctx.has("accounts", "_id", "account_name", "account_type"):
            return {}
        return {r["_id"]: (r["account_type"], r["account_name"])
                for r in ctx.rows("SELECT _id, account_type, account_name FROM accounts")}

    def _recovered(self, ctx: Context, live: dict[int, dict[str, Any]], mimes: dict[Any, str],
                   accounts: dict[Any, tuple[Any, Any]], updated: dict[Any, Any]) -> Iterator[Contact]:
        raw: dict[int, RecoveredRow] = {}
        rows: dict[int, list[tuple[RecoveredRow, dict[str, Any]]]] = {}
        for rec in ctx.file.recovered(["raw_contacts", "data"]):
            values = dict(rec.values)
            if rec.table == "raw_contacts":
                values.setdefault("_id", rec.rowid)
                raw.setdefault(values["_id"], rec)
            elif rec.table == "data" and values.get("raw_contact_id") is not None:
                rows.setdefault(values["raw_contact_id"], []).append((rec, values))
        for rid in sorted(set(raw) | set(rows), key=lambda x: (x is None, x)):
            found = rows.get(rid, [])
            rec = raw.get(rid) or found[0][0]
            person = dict(raw[rid].values) if rid in raw else dict(live.get(rid, {}))
            person.setdefault("_id", rid)
            yield self._contact(ctx, person, [v for _, v in found], mimes, accounts, updated, rec)

    def _contact(self, ctx: Context, person: Mapping[str, Any], data: list[dict[str, Any]], mimes: dict[Any, str],
                 accounts: dict[Any, tuple[Any, Any]], updated: dict[Any, Any], rec: RecoveredRow | None) -> Contact:
        name = person.get("display_name")
        phones: list[str] = []
        emails: list[str] = []
        handles: list[str] = []
        extra: dict[str, Any] = {"raw_contact_id": person.get("_id")}
        for row in data:
            kind = mimes.get(row.get("mimetype_id"), "")
            kind = kind[len(ITEM):] if kind.startswith(ITEM) else kind
            value = row.get("data1")
            if value in (None, ""):
                continue
            if kind == "name":
                name = name or value
                for key, col in (("given_name", "data2"), ("family_name", "data3")):
                    if row.get(col):
                        extra[key] = row[col]
            elif kind == "phone_v2":
                number = number_of(ctx, value, None, row.get("data4"))
                if number:
                    phones.append(number)
            elif kind == "email_v2":
                emails.append(str(value).strip())
            elif kind == "im":
                protocol = row.get("data5")
                label = row.get("data6") if str(protocol) == "-1" else IM_PROTOCOL.get(_int(protocol), protocol)
                handles.append(f"{label or 'im'}:{value}")
            elif kind == "sip_address":
                handles.append(f"sip:{value}")
            elif kind == "organization":
                extra["organization"] = value
                if row.get("data4"):
                    extra["title"] = row["data4"]
            elif kind in TEXT_KINDS:
                extra.setdefault(TEXT_KINDS[kind], []).append(value)
            elif kind.startswith("vnd."):
                handles.append(self._app_handle(ctx, kind, str(value)))
        account = accounts.get(person.get("account_id")) if "account_id" in person else \
            (person.get("account_type"), person.get("account_name"))
        if account:
            extra["account_type"], extra["account_name"] = account
        if person.get("deleted"):
            extra["deleted"] = True
        for key in ("starred", "times_contacted"):
            if person.get(key):
                extra[key] = person[key]
        if person.get("last_time_contacted"):
            extra["last_time_contacted"] = unix_ms(person["last_time_contacted"])
        source = ctx.recovered_source(rec) if rec is not None else ctx.source("raw_contacts", person.get("_id"))
        return Contact(app=self.APP, source=source, name=name or None, phones=phones, emails=emails,
                       handles=handles, time=unix_ms(updated.get(person.get("contact_id"))),
                       recovered=rec is not None, extra={k: v for k, v in extra.items() if v not in (None, "")})

    @staticmethod
    def _app_handle(ctx: Context, kind: str, value: str) -> str:
        """An app's own id for the person: `whatsapp:+E164` (or `whatsapp:lid:…`), `telegram:<id>`, …"""
        if "whatsapp" in kind:
            return f"whatsapp:{ctx.jid(value) or value}"
        if "telegram" in kind:
            return f"telegram:{value}"
        app = kind.split(".")[-2] if kind.count(".") >= 2 else kind
        return f"{app}:{value}"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
