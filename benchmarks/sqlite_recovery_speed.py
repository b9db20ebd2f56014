#!/usr/bin/env python3
"""triage.artifacts.recover on a large WhatsApp-shaped database: time, and how right the rows are.

Builds (once, under benchmarks/work/) a msgstore.db-like database with Python's sqlite3: a
`messages` table of 17 columns (the rowid alias _id, jid, key id, text, timestamps, media
columns) with an index, `chat_list`, secure_delete off; N messages, then a delete of
  heavy: _id % 10 in (3, 7) and the middle sixth of the ids (about a third of the rows), or
  light: _id % 97 = 5 (about 1 %),
and the same database without the delete as the reference. recover() runs once; the script
prints CPU and wall time, peak RSS, rows by place, and for `messages` how many returned rows
equal a deleted row of the reference on every value they have (true) or not (false), and the
share of deleted rows found.
Not a test: prints figures measured here. Usage:
  .venv/bin/python benchmarks/sqlite_recovery_speed.py [--rows 900000] [--delete heavy|light]
"""

from __future__ import annotations

import argparse
import collections
import random
import resource
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.artifacts.recover import recover  # noqa: E402

WORK = ROOT / "benchmarks" / "work"
DELETES = {"heavy": ("(_id % 10) IN (3, 7) OR (_id BETWEEN :a AND :b)"), "light": "(_id % 97) = 5"}
WORDS = ("meet the boat at dawn bring cash passport price per person border crossing tomorrow night "
         "call me on this number").split()


def build(path: Path, n: int, delete: str | None) -> None:
    rnd = random.Random(1)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("secure_delete=OFF", "synchronous=OFF", "journal_mode=OFF"):
        con.execute(f"PRAGMA {pragma}")
    con.execute("""CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL,
        key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT, timestamp INTEGER,
        media_url TEXT, media_mime_type TEXT, media_wa_type TEXT, media_size INTEGER, media_name TEXT,
        latitude REAL, longitude REAL, received_timestamp INTEGER, send_timestamp INTEGER)""")
    con.execute("CREATE INDEX messages_jid_id ON messages (key_remote_jid, _id)")
    con.execute("CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE, "
                "message_table_id INTEGER, subject TEXT, creation INTEGER)")
    con.execute("BEGIN")
    for i in range(n):
        jid = f"49{rnd.randrange(10**9, 10**10)}@s.whatsapp.net"
        text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(3, 40)))
        media = rnd.random() < 0.1
        con.execute(
            "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, needs_push, data, timestamp, "
            "media_url, media_mime_type, media_wa_type, media_size, media_name, latitude, longitude, "
            "received_timestamp, send_timestamp) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (jid, rnd.randrange(2), f"{rnd.getrandbits(64):016X}", rnd.randrange(14), 0, None if media else text,
             1500000000000 + i * 1000,
             f"https://mmg.whatsapp.net/d/f/{rnd.getrandbits(128):032x}.enc" if media else None,
             "image/jpeg" if media else None, "1" if media else "0", rnd.randrange(10**6) if media else 0, None,
             rnd.uniform(30, 40) if rnd.random() < 0.01 else None, None, 1500000000000 + i * 1000 + 500, -1))
        if i % 1000 == 0:
            con.execute("INSERT OR IGNORE INTO chat_list (key_remote_jid, message_table_id, subject, creation) "
                        "VALUES (?,?,?,?)", (jid, i, None, i))
    con.execute("COMMIT")
    if delete:
        con.execute("DELETE FROM messages WHERE " + DELETES[delete], {"a": n // 3, "b": n // 2})
    con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=900_000)
    ap.add_argument("--delete", choices=sorted(DELETES), default="heavy")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    db = WORK / f"msgstore-{args.rows}-{args.delete}.db"
    ref = WORK / f"msgstore-{args.rows}-reference.db"
    if not db.exists():
        print(f"building {db.name} ...", flush=True)
        build(db, args.rows, args.delete)
    if not ref.exists():
        print(f"building {ref.name} ...", flush=True)
        build(ref, args.rows, None)
    con = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    pages, free = con.execute("PRAGMA page_count").fetchone()[0], con.execute("PRAGMA freelist_count").fetchone()[0]
    live_ids = {r[0] for r in con.execute("SELECT _id FROM messages")}
    con.close()
    wall, cpu = time.perf_counter(), time.process_time()
    rows = recover(db)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{db.name}: {db.stat().st_size / 1e6:.0f} MB, {pages} pages, {free} on the freelist")
    print(f"recover: {len(rows)} rows in {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak:.0f} MiB")
    print("rows by place:", dict(collections.Counter(r.where.split(" page")[0] for r in rows).most_common()))
    ref_con = sqlite3.connect(f"file:{ref}?immutable=1", uri=True)
    cols = [c[1] for c in ref_con.execute("PRAGMA table_info(messages)")]
    original = {r[3]: r for r in ref_con.execute("SELECT * FROM messages")}   # by key_id: unique here
    ref_con.close()
    deleted = set(r[0] for r in original.values()) - live_ids
    true = false = 0
    found: set[int] = set()
    for r in rows:
        if r.table != "messages":
            false += 1
            continue
        o = original.get(r.values["key_id"])
        if o is not None and o[0] in deleted and all(
                v is None or v == o[i] for i, v in ((cols.index(c), v) for c, v in r.values.items())):
            true += 1
            found.add(o[0])
        else:
            false += 1
    print(f"messages: deleted {len(deleted)}, rows true {true}, false {false}, "
          f"deleted rows found {len(found)} ({len(found) / max(len(deleted), 1):.3f}), "
          f"partial {sum(r.partial for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
