"""Tables of phone records: `messages`, `calls`, `contacts`, `phone_items` and `artifact_runs`.

Each record row names its parser, the exact file (path and partition as `dalil files` lists them),
table and row (rowid, or byte offset of a recovered cell) it came from. Column names are a contract
for `dalil messages|calls|contacts|records|artifacts`, the timeline, search, report and browser.
"""

from __future__ import annotations

from ..core.store import register_schema

_COMMON = """
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    exhibit TEXT NOT NULL, run_id INTEGER, parser TEXT NOT NULL, app TEXT NOT NULL,
    time TEXT, recovered INTEGER NOT NULL DEFAULT 0,
    source_path TEXT NOT NULL, source_partition INTEGER NOT NULL DEFAULT 0,
    source_table TEXT, source_row INTEGER, source_where TEXT, extra TEXT"""

PHONE_V1 = f"""
CREATE TABLE messages ({_COMMON},
    thread TEXT, thread_name TEXT, direction TEXT, sender TEXT, sender_name TEXT, recipients TEXT,
    text TEXT, attachments TEXT, lat REAL, lon REAL);
CREATE INDEX messages_exhibit ON messages(exhibit, app, thread, time);
CREATE INDEX messages_time ON messages(time);
CREATE TABLE calls ({_COMMON},
    direction TEXT, number TEXT, name TEXT, duration INTEGER, video INTEGER);
CREATE INDEX calls_exhibit ON calls(exhibit, time);
CREATE INDEX calls_number ON calls(number);
CREATE TABLE contacts ({_COMMON},
    name TEXT, phones TEXT, emails TEXT, handles TEXT);
CREATE INDEX contacts_exhibit ON contacts(exhibit);
CREATE TABLE phone_items ({_COMMON},
    kind TEXT NOT NULL, title TEXT, value TEXT, lat REAL, lon REAL);
CREATE INDEX phone_items_exhibit ON phone_items(exhibit, kind, time);
CREATE TABLE artifact_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, exhibit TEXT NOT NULL, run_id INTEGER, parser TEXT NOT NULL,
    version TEXT NOT NULL, sha256 TEXT NOT NULL, app TEXT, path TEXT NOT NULL, partition INTEGER NOT NULL DEFAULT 0,
    files TEXT NOT NULL, counts TEXT NOT NULL, warnings TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX artifact_runs_exhibit ON artifact_runs(exhibit);
"""

register_schema("triage.phone", [PHONE_V1])

TABLES = ("messages", "calls", "contacts", "phone_items")
