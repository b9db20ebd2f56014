"""Accounts: accounts_ce.db, accounts_de.db (Android 7+) and accounts.db (Android ≤ 6) with AOSP's schemas,
through the CLI; passwords and auth tokens never reach the case."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from android_sys_fixtures import (ACCOUNTS_CE_SCHEMA, ACCOUNTS_DE_SCHEMA, ACCOUNTS_PRE_N_SCHEMA, parse, records,
                                  runs, sqlite_db, tree_hashes)

CE = "data/system_ce/0/accounts_ce.db"
DE = "data/system_de/0/accounts_de.db"
PRE_N = "data/system/users/0/accounts.db"
ACCOUNT = "INSERT INTO accounts (_id, name, type, password) VALUES (?,?,?,?)"
TOKEN = "INSERT INTO authtokens (accounts_id, type, authtoken) VALUES (?,?,?)"
DE_ACCOUNT = ("INSERT INTO accounts (_id, name, type, previous_name, last_password_entry_time_millis_epoch) "
              "VALUES (?,?,?,?,?)")
DEBUG = ("INSERT INTO debug_table (_id, action_type, time, caller_uid, table_name, primary_key) "
         "VALUES (?,?,?,?,?,?)")


def _phone(root: Path) -> None:
    sqlite_db(root / CE, ACCOUNTS_CE_SCHEMA, [
        (ACCOUNT, (1, "smuggler.test@gmail.com", "com.google", "ya29.secret-password")),
        (ACCOUNT, (2, "+218912345678", "com.whatsapp", None)),
        (TOKEN, (1, "oauth2:https://www.googleapis.com/auth/drive", "ya29.token-one")),
        (TOKEN, (1, "SID", "token-two")),
    ])
    sqlite_db(root / DE, ACCOUNTS_DE_SCHEMA, [
        (DE_ACCOUNT, (1, "smuggler.test@gmail.com", "com.google", None, 1700000000000)),
        (DE_ACCOUNT, (2, "+218912345678", "com.whatsapp", "+218910000000", 0)),
        (DEBUG, (1, "action_account_add", "2023-11-14 23:13:20", 1000, "accounts", 1)),
        (DEBUG, (1, "action_called_account_add", "2023-11-14 23:13:19", 10098, "accounts", 2)),
        (DEBUG, (2, "action_account_rename", "2024-01-02 10:00:00", 10153, "accounts", 3)),
    ])


def test_accounts_from_ce_and_de(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    _phone(ext)
    before = tree_hashes(ext)
    parse(cli, case_dir, ext, "AC1")
    assert tree_hashes(ext) == before
    rows = records(cli, case_dir, "account")
    got = sorted((r["source"]["path"], r["source"]["row"], r["title"], r["value"], r["time"], r["data"])
                 for r in rows)
    assert got == [
        ("/" + CE, 1, "com.google", "smuggler.test@gmail.com", None, {
            "type": "com.google", "database": "ce", "password_stored": True,
            "authtoken_types": ["oauth2:https://www.googleapis.com/auth/drive", "SID"]}),
        ("/" + CE, 2, "com.whatsapp", "+218912345678", None, {
            "type": "com.whatsapp", "database": "ce", "password_stored": False}),
        ("/" + DE, 1, "com.google", "smuggler.test@gmail.com", "2023-11-14T22:13:20Z", {
            "type": "com.google", "database": "de", "last_authenticated": "2023-11-14T22:13:20Z",
            "actions": [{"action": "action_called_account_add", "local_time": "2023-11-14 23:13:19",
                         "caller_uid": 10098},
                        {"action": "action_account_add", "local_time": "2023-11-14 23:13:20", "caller_uid": 1000}]}),
        ("/" + DE, 2, "com.whatsapp", "+218912345678", None, {
            "type": "com.whatsapp", "database": "de", "previous_name": "+218910000000",
            "actions": [{"action": "action_account_rename", "local_time": "2024-01-02 10:00:00",
                         "caller_uid": 10153}]}),
    ]
    listing = cli("records", "--case", case_dir, "--format", "jsonl").stdout
    assert "smuggler.test@gmail.com" in listing
    for secret in ("ya29.secret-password", "ya29.token-one", "token-two"):
        assert secret not in listing
        assert secret.encode() not in (case_dir / "case.db").read_bytes()
    assert sorted((r["path"], r["counts"], r["warnings"]) for r in runs(cli, case_dir)) == [
        ("/" + CE, {"items": 2}, []), ("/" + DE, {"items": 2}, [])]


def test_accounts_db_before_android_7(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    sqlite_db(ext / PRE_N, ACCOUNTS_PRE_N_SCHEMA, [
        ("INSERT INTO accounts (_id, name, type, password, previous_name, last_password_entry_time_millis_epoch) "
         "VALUES (?,?,?,?,?,?)", (1, "old.phone@gmail.com", "com.google", "pw", None, 1450000000123)),
        (TOKEN, (1, "mail", "t")),
    ])
    parse(cli, case_dir, ext, "AC2")
    [row] = records(cli, case_dir, "account")
    assert (row["value"], row["title"], row["time"]) == ("old.phone@gmail.com", "com.google", "2015-12-13T09:46:40.123Z")
    assert row["data"] == {"type": "com.google", "database": "pre-7", "password_stored": True,
                           "last_authenticated": "2015-12-13T09:46:40.123Z", "authtoken_types": ["mail"]}


def test_an_accounts_database_of_another_shape_is_a_warning(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    sqlite_db(ext / CE, "CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT)", [])
    sqlite_db(ext / DE, ACCOUNTS_DE_SCHEMA, [(DE_ACCOUNT, (1, "a@b.c", "com.google", None, 0))])
    db = sqlite3.connect(ext / DE)                # debug_table of a vendor that renamed its columns
    db.executescript("DROP TABLE debug_table; CREATE TABLE debug_table (_id INTEGER, action TEXT);")
    db.close()
    parse(cli, case_dir, ext, "AC3")
    by_path = {r["path"]: r for r in runs(cli, case_dir)}
    assert by_path["/" + CE]["warnings"] == [
        "table accounts: no accounts table with _id, name and type (unknown schema version)"]
    assert by_path["/" + DE]["warnings"] == [
        "table debug_table: columns this parser does not know: account actions not read"]
    assert by_path["/" + DE]["counts"] == {"items": 1}
    assert [r["value"] for r in records(cli, case_dir, "account")] == ["a@b.c"]
