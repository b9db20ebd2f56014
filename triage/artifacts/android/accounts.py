"""Accounts the phone's AccountManager holds: `accounts_ce.db`, `accounts_de.db` and, before Android 7,
`accounts.db` (AOSP `AccountsDb` / `AccountManagerService`).

One `account` per row of `accounts`: the name (often an e-mail address or a phone number) in
`value`, the type (`com.google`, `com.whatsapp`, …) in `title`. The DE database (and the pre-7 one)
keeps `last_password_entry_time_millis_epoch`, the last time the credentials were entered: that is
the record's time. Passwords and auth tokens are never copied into the case: `data` says that one is
stored (`password_stored`) and which token types exist. The DE `debug_table` logs account actions
with a local time of unknown zone (`yyyy-MM-dd HH:mm:ss`); they are kept as written, under
`data.actions`, never turned into UTC.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Callable, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import unix_ms
from ..records import Item, Record


def _database(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return {"accounts_ce.db": "ce", "accounts_de.db": "de"}.get(name, "pre-7")


class AndroidAccounts(Artifact):
    NAME = "android.accounts"
    VERSION = "1.0"
    APP = "android"
    DESCRIPTION = "Accounts held by the Android AccountManager (accounts_ce.db, accounts_de.db, accounts.db)"
    PATTERNS = ("*/system_ce/*/accounts_ce.db", "*/system_de/*/accounts_de.db", "*/system/users/*/accounts.db")

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("accounts", "_id", "name", "type"):
            ctx.warn("no accounts table with _id, name and type (unknown schema version)", "accounts")
            return
        which = _database(ctx.file.path)
        tokens = self._safely(ctx, self._token_types, "authtokens")
        actions = self._safely(ctx, self._actions, "debug_table")
        columns = set(ctx.file.columns("accounts"))
        for row in ctx.rows("SELECT * FROM accounts ORDER BY _id"):
            r = dict(row)
            data: dict[str, Any] = {"type": r["type"], "database": which}
            if "password" in columns:
                data["password_stored"] = r["password"] not in (None, "")
            if r.get("previous_name"):
                data["previous_name"] = r["previous_name"]
            last = unix_ms(r.get("last_password_entry_time_millis_epoch"))
            if last:
                data["last_authenticated"] = last
            if r["_id"] in tokens:
                data["authtoken_types"] = tokens[r["_id"]]
            if r["_id"] in actions:
                data["actions"] = actions[r["_id"]]
            yield Item(kind="account", app="android", source=ctx.source("accounts", r["_id"]), time=last,
                       title=r["type"], value=r["name"], data=data)

    @staticmethod
    def _safely(ctx: Context, read: Callable[[Context], dict[int, list[Any]]], table: str) -> dict[int, list[Any]]:
        try:
            return read(ctx)
        except sqlite3.DatabaseError as exc:
            ctx.warn(f"not read: {exc}", table)
            return {}

    @staticmethod
    def _token_types(ctx: Context) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        if "authtokens" not in ctx.file.tables():
            return out
        if not ctx.has("authtokens", "_id", "accounts_id", "type"):
            ctx.warn("columns this parser does not know: token types not read", "authtokens")
            return out
        for r in ctx.rows("SELECT accounts_id, type FROM authtokens ORDER BY _id"):
                out.setdefault(r["accounts_id"], []).append(r["type"])
        return out

    @staticmethod
    def _actions(ctx: Context) -> dict[int, list[Any]]:
        out: dict[int, list[Any]] = {}
        if "debug_table" not in ctx.file.tables():
            return out
        if not ctx.has("debug_table", "_id", "action_type", "time", "table_name", "caller_uid", "primary_key"):
            ctx.warn("columns this parser does not know: account actions not read", "debug_table")
        else:
            for r in ctx.rows("SELECT _id, action_type, time, caller_uid FROM debug_table "
                              "WHERE table_name = 'accounts' ORDER BY time, primary_key"):
                out.setdefault(r["_id"], []).append({"action": r["action_type"], "local_time": r["time"],
                                                     "caller_uid": r["caller_uid"]})
        return out
