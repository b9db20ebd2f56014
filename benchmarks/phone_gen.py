#!/usr/bin/env python3
"""Generate an Android extraction folder for benchmarks: SMS, WhatsApp and the phone's call log.

    .venv/bin/python benchmarks/phone_gen.py OUT [--sms 100000] [--whatsapp 100000] [--calls 20000] [--seed 1]

or `generate(root, sms=…, whatsapp=…, calls=…)` from Python. It writes, with the apps' real schemas
(the statements in `triage/artifacts/android/_schemas.py`, which the tests use too):

    data/data/com.android.providers.telephony/databases/mmssms.db   sms, threads, canonical_addresses
    data/data/com.whatsapp/databases/msgstore.db, wa.db             message, chat, jid, message_media,
                                                                    message_location, call_log, jid_map…
    data/data/com.android.providers.contacts/databases/calllog.db   calls
    sdcard/Android/media/com.whatsapp/WhatsApp/Media/…              the first media files WhatsApp kept

The distribution is that of a phone used for smuggling logistics: a few hundred correspondents
(Libyan, Tunisian, Italian, Egyptian numbers; some stored in national form or Arabic-Indic digits),
conversations that favour a few of them, a quarter of WhatsApp messages in groups (some members
known only by LID, half of those mapped by the phone), Arabic and Latin text, about 12% media
(images, voice notes, documents), 2% locations, and a call log with every call type. Output is
deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from triage.artifacts.android._schemas import CALLLOG_SCHEMA, MMSSMS_SCHEMA, MSGSTORE_SCHEMA, WA_SCHEMA  # noqa: E402

SMS_DB = "data/data/com.android.providers.telephony/databases/mmssms.db"
WA_DIR = "data/data/com.whatsapp/databases"
CALLLOG_DB = "data/data/com.android.providers.contacts/databases/calllog.db"
WA_ROOT = "sdcard/Android/media/com.whatsapp/WhatsApp"
START_MS = 1_693_526_400_000            # 2023-09-01T00:00:00Z
SPAN_MS = 180 * 86_400_000
MEDIA_FILES = 200                        # media rows whose file is written into the extraction

ARABIC = ["السلام عليكم", "متى موعد الرحلة؟", "القارب جاهز الليلة", "كم السعر للشخص الواحد", "الدفع نقداً عند الوصول",
          "لا تتصل بهذا الرقم", "الانطلاق من زوارة الساعة ٣ فجراً", "أرسل الصور", "العدد ٤٠ شخص", "الطقس جيد غداً",
          "انتظر في المخزن", "الشرطة في الميناء", "تم التحويل", "أين أنت الآن؟", "وصلنا لامبيدوزا", "حاضر",
          "اتصل بي بعد ساعة", "المبلغ ٢٥٠٠ دينار", "لا تخبر أحداً", "نلتقي عند المسجد"]
LATIN = ["ok", "Boat leaves at 3am", "send the location", "how many people?", "price is 2500 euro per person",
         "call me on the other number", "the engine is fixed", "wait for my signal", "arrived in Lampedusa",
         "Ciao, quando partiamo?", "d'accord, à demain", "the money is ready", "don't use this phone again",
         "we need more fuel", "meeting point changed", "passports later", "5 jerrycans", "they are 40", "yes", "no"]
PREFIXES = [("+21891", 7), ("+21892", 7), ("+21894", 7), ("+2162", 7), ("+39333", 7), ("+39347", 7),
            ("+2010", 8), ("+2011", 8)]
AR_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


def _numbers(rnd: random.Random, count: int) -> list[str]:
    out: set[str] = set()
    while len(out) < count:
        prefix, digits = rnd.choice(PREFIXES)
        out.add(prefix + "".join(rnd.choice("0123456789") for _ in range(digits)))
    return sorted(out)


def _as_stored(rnd: random.Random, number: str) -> str:
    """How a phone may keep a number: E.164, national form, or in Arabic-Indic digits."""
    roll = rnd.random()
    if number.startswith("+218") and roll < 0.25:
        national = "0" + number[4:]
        return national.translate(AR_DIGITS) if roll < 0.08 else national
    return number


def _text(rnd: random.Random) -> str:
    pool = ARABIC if rnd.random() < 0.65 else LATIN
    return " ".join(rnd.choice(pool) for _ in range(rnd.choice((1, 1, 1, 2, 3))))


def _times(rnd: random.Random, count: int) -> Iterator[int]:
    """`count` increasing Unix-millisecond times over the span, bunched as conversations are."""
    step = SPAN_MS / max(count, 1)
    now = float(START_MS)
    for _ in range(count):
        now += rnd.expovariate(1 / step)
        yield int(now)


def _weighted(rnd: random.Random, items: list[Any], count: int) -> list[Any]:
    """Pick `count` items, a few of them much more often (Zipf-like)."""
    weights = [1 / (i + 1) ** 0.9 for i in range(len(items))]
    return rnd.choices(items, weights=weights, k=count)


def _connect(path: Path, schema: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(schema)
    return conn


def _sms(root: Path, rnd: random.Random, count: int, numbers: list[str]) -> int:
    conn = _connect(root / SMS_DB, MMSSMS_SCHEMA)
    people = _weighted(rnd, numbers[:150], count)
    threads: dict[str, int] = {}
    rows = []
    for i, (number, when) in enumerate(zip(people, _times(rnd, count)), start=1):
        thread = threads.setdefault(number, len(threads) + 1)
        kind = 1 if rnd.random() < 0.6 else 2
        rows.append((i, thread, _as_stored(rnd, number), when, when - rnd.randint(1000, 60_000) if kind == 1 else 0,
                     1, kind, _text(rnd), 1))
    conn.executemany("INSERT INTO sms (_id, thread_id, address, date, date_sent, read, type, body, seen) "
                     "VALUES (?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany("INSERT INTO canonical_addresses (_id, address) VALUES (?,?)",
                     [(t, n) for n, t in threads.items()])
    conn.executemany("INSERT INTO threads (_id, recipient_ids, message_count) VALUES (?,?,?)",
                     [(t, str(t), 0) for t in threads.values()])
    conn.commit()
    conn.close()
    return count


def _whatsapp(root: Path, rnd: random.Random, count: int, calls: int, numbers: list[str]) -> dict[str, int]:
    conn = _connect(root / WA_DIR / "msgstore.db", MSGSTORE_SCHEMA)
    users = numbers[:250]
    jids = [(i + 1, n[1:], "s.whatsapp.net") for i, n in enumerate(users)]
    lids = [(len(jids) + i + 1, str(rnd.randrange(10**14, 10**15)), "lid") for i in range(40)]
    groups = [(len(jids) + len(lids) + i + 1, f"1203630{rnd.randrange(10**10, 10**11)}", "g.us") for i in range(30)]
    everyone = jids + lids + groups
    conn.executemany("INSERT INTO jid (_id, user, server, agent, device, type, raw_string) VALUES (?,?,?,0,0,0,?)",
                     [(i, u, s, f"{u}@{s}") for i, u, s in everyone])
    conn.executemany("INSERT INTO jid_map (lid_row_id, jid_row_id, sort_id) VALUES (?,?,0)",
                     [(lid[0], rnd.choice(jids)[0]) for lid in lids[:20]])
    chats = [(i + 1, j[0], None) for i, j in enumerate(jids[:200])] + \
        [(200 + i + 1, g[0], f"مجموعة {i + 1} / group {i + 1}") for i, g in enumerate(groups)]
    conn.executemany("INSERT INTO chat (_id, jid_row_id, subject) VALUES (?,?,?)", chats)
    members = [j[0] for j in jids[:120]] + [lid[0] for lid in lids]
    direct, grouped = chats[:200], chats[200:]
    messages, media, places = [], [], []
    files = 0
    conn.execute("INSERT INTO message (_id, chat_row_id, from_me, key_id, timestamp, message_type) "
                 "VALUES (1, -1, 0, '-1', 0, 0)")                  # the placeholder WhatsApp writes
    picks = _weighted(rnd, direct, count)
    for n, (when, chat) in enumerate(zip(_times(rnd, count), picks), start=2):
        if rnd.random() < 0.25:
            chat = rnd.choice(grouped)
        is_group = chat[0] > 200
        from_me = int(rnd.random() < 0.4)
        sender = rnd.choice(members) if is_group and not from_me else None
        roll = rnd.random()
        text: str | None
        kind, text = (0, _text(rnd))
        if roll < 0.08:
            kind, text = 1, (_text(rnd) if rnd.random() < 0.3 else None)
        elif roll < 0.11:
            kind, text = 2, None
        elif roll < 0.12:
            kind, text = 9, None
        elif roll < 0.14:
            kind, text = 5, None
        # recipient_count as WhatsApp keeps it: 0 in a one-to-one chat, the members in a group (no draw:
        # the rest of the output stays as it was)
        messages.append((n, chat[0], from_me, f"{n:016X}", sender, when, when + 800, kind, text, n,
                         len(members) if is_group else 0))
        if kind in (1, 2, 9):
            folder, ext, mime = {1: ("WhatsApp Images", "jpg", "image/jpeg"), 2: ("WhatsApp Voice Notes", "opus",
                                 "audio/ogg; codecs=opus"), 9: ("WhatsApp Documents", "pdf", "application/pdf")}[kind]
            path = f"Media/{folder}/{'IMG' if kind == 1 else 'PTT' if kind == 2 else 'DOC'}-{n:08d}-WA0001.{ext}"
            content = JPEG_HEAD + n.to_bytes(8, "big") + bytes(rnd.randrange(256) for _ in range(64))
            if files < MEDIA_FILES:
                target = root / WA_ROOT / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                files += 1
            digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
            media.append((n, chat[0], path, len(content), mime, digest))
        elif kind == 5:
            places.append((n, chat[0], 32.9 + rnd.random() * 0.2, 12.0 + rnd.random() * 0.3, "زوارة"))
    conn.executemany("INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, "
                     "received_timestamp, message_type, text_data, sort_id, recipient_count, status, starred) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,0,0)", messages)
    conn.executemany("INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size, mime_type, "
                     "file_hash, transferred) VALUES (?,?,?,?,?,?,1)", media)
    conn.executemany("INSERT INTO message_location (message_row_id, chat_row_id, latitude, longitude, place_name) "
                     "VALUES (?,?,?,?,?)", places)
    conn.executemany("INSERT INTO call_log (_id, jid_row_id, from_me, call_id, timestamp, video_call, duration, "
                     "call_result) VALUES (?,?,?,?,?,?,?,?)",
                     [(i + 1, rnd.choice(jids + lids)[0], int(rnd.random() < 0.5), f"C{i:010d}", when,
                       int(rnd.random() < 0.15), rnd.choice((0, 0, 12, 45, 130, 600)), 5)
                      for i, when in enumerate(_times(rnd, calls))])
    conn.commit()
    conn.close()
    wa = _connect(root / WA_DIR / "wa.db", WA_SCHEMA)
    wa.executemany("INSERT INTO wa_contacts (jid, is_whatsapp_user, number, display_name, wa_name, status) "
                   "VALUES (?,1,?,?,?,?)",
                   [(f"{u}@{s}", "+" + u, f"جهة {i}" if rnd.random() < 0.5 else None, f"user{i}", "متاح")
                    for i, u, s in jids] + [(f"{u}@{s}", None, subject, None, None)
                                            for (i, u, s), (_c, _j, subject) in zip(groups, grouped)])
    wa.commit()
    wa.close()
    return {"whatsapp_messages": count, "whatsapp_calls": calls, "whatsapp_media_rows": len(media),
            "whatsapp_media_files": files, "whatsapp_locations": len(places), "wa_contacts": len(jids) + len(groups)}


def _calls(root: Path, rnd: random.Random, count: int, numbers: list[str]) -> int:
    conn = _connect(root / CALLLOG_DB, CALLLOG_SCHEMA)
    people = _weighted(rnd, numbers, count)
    types = rnd.choices([1, 2, 3, 4, 5, 6], weights=[38, 40, 14, 2, 4, 2], k=count)
    rows = []
    for i, (number, kind, when) in enumerate(zip(people, types, _times(rnd, count)), start=1):
        withheld = kind == 6 and rnd.random() < 0.5
        duration = 0 if kind in (3, 5, 6) else rnd.choice((4, 35, 62, 180, 420, 1500))
        rows.append((i, "" if withheld else _as_stored(rnd, number), 2 if withheld else 1, when, duration, kind,
                     int(rnd.random() < 0.04), "LY", f"جهة {i % 97}" if rnd.random() < 0.4 else None))
    conn.executemany("INSERT INTO calls (_id, number, presentation, date, duration, type, features, countryiso, "
                     "name) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    conn.commit()
    conn.close()
    return count


def generate(root: Path, sms: int = 100_000, whatsapp: int = 100_000, calls: int = 20_000,
             whatsapp_calls: int | None = None, seed: int = 1) -> dict[str, int]:
    """Write the extraction under `root` (created; existing databases replaced). Returns what was written."""
    rnd = random.Random(seed)
    numbers = _numbers(rnd, 400)
    counts = {"sms": _sms(root, rnd, sms, numbers)}
    counts.update(_whatsapp(root, rnd, whatsapp, whatsapp // 100 if whatsapp_calls is None else whatsapp_calls,
                            numbers))
    counts["calls"] = _calls(root, rnd, calls, numbers)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description="Write an Android extraction with SMS, WhatsApp and call-log databases.")
    ap.add_argument("out", type=Path)
    ap.add_argument("--sms", type=int, default=100_000)
    ap.add_argument("--whatsapp", type=int, default=100_000)
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--whatsapp-calls", type=int, default=None, help="default: one per 100 WhatsApp messages")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    started = time.perf_counter()
    counts = generate(args.out, args.sms, args.whatsapp, args.calls, args.whatsapp_calls, args.seed)
    print(f"{args.out}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
          + f" ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
