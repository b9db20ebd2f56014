"""iOS accounts: `Accounts3.sqlite` (Core Data), every account the phone was signed in to.

`ZACCOUNT`: `ZUSERNAME`, `ZACCOUNTDESCRIPTION`, `ZIDENTIFIER`, `ZOWNINGBUNDLEID` (the app that
added it), `ZDATE` (Cocoa seconds: when it was added), `ZACTIVE`, `ZPARENTACCOUNT` (e.g. the iCloud
account a CalDAV account belongs to), `ZACCOUNTTYPE` -> `ZACCOUNTTYPE` (`ZACCOUNTTYPEDESCRIPTION`
"iCloud", "Gmail"…, `ZIDENTIFIER` com.apple.account.AppleAccount…). Each is an Item of kind
`account`: title the type, value the user name.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Item, Record
from ._common import Row, compact, live_and_recovered, source, text


class IOSAccounts(Artifact):
    NAME = "ios.accounts"
    VERSION = "1.0"
    APP = "ios"
    DESCRIPTION = "Accounts the phone was signed in to (Accounts3.sqlite)"
    PATTERNS = ("*/Library/Accounts/Accounts3.sqlite",)

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("ZACCOUNT", "Z_PK", "ZACCOUNTTYPE", "ZUSERNAME", "ZDATE"):
            ctx.warn("no ZACCOUNT table with Z_PK, ZACCOUNTTYPE, ZUSERNAME and ZDATE (unknown schema version)",
                     "ZACCOUNT")
            return
        types = {r["Z_PK"]: dict(r) for r in ctx.rows("SELECT * FROM ZACCOUNTTYPE")} \
            if ctx.has("ZACCOUNTTYPE", "Z_PK") else {}
        for row, rec in live_and_recovered(ctx, "ZACCOUNT", "SELECT * FROM ZACCOUNT ORDER BY Z_PK", "Z_PK"):
            yield _account(ctx, row, rec, types.get(row.get("ZACCOUNTTYPE") or -1, {}))


def _account(ctx: Context, row: Row, rec: Any, kind: Row) -> Item:
    name = text(kind.get("ZACCOUNTTYPEDESCRIPTION"))
    data = {"description": text(row.get("ZACCOUNTDESCRIPTION")), "identifier": text(row.get("ZIDENTIFIER")),
            "bundle": text(row.get("ZOWNINGBUNDLEID")), "type": text(kind.get("ZIDENTIFIER")),
            "active": None if row.get("ZACTIVE") is None else bool(row["ZACTIVE"]),
            "authenticated": None if row.get("ZAUTHENTICATED") is None else bool(row["ZAUTHENTICATED"]),
            "parent": row.get("ZPARENTACCOUNT")}
    return Item(kind="account", app="ios", source=source(ctx, "ZACCOUNT", row["Z_PK"], rec),
                time=cocoa(row.get("ZDATE")), title=name or text(row.get("ZACCOUNTDESCRIPTION")),
                value=text(row.get("ZUSERNAME")), recovered=rec is not None, data=compact(data))
