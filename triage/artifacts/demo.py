"""The demo's seized phone: an Android file-system extraction (zip) built at demo time.

Its databases are made with the apps' own schemas (`android/_schemas.py`) and invented rows that tell
one story: a smuggler's phone arranging a night crossing from Zuwara — SMS and WhatsApp chats in Arabic
and French (a group with a location), the calls around the departure, the contacts that name the
numbers in the ads (stored in national form and in Arabic-Indic digits), a message only in the WAL and
one deleted. The text files of `demo_data/phone_extraction.zip` come along unchanged.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from .android._schemas import (CALLLOG_SCHEMA, CONTACTS2_SCHEMA, MMSSMS_SCHEMA, MSGSTORE_SCHEMA, WA_SCHEMA,
                               database, insert)

T0 = 1_791_140_400_000  # 2026-10-04T19:00:00Z, in milliseconds
MIN = 60_000
SMS_DB = "data/data/com.android.providers.telephony/databases/mmssms.db"
CALLS_DB = "data/data/com.android.providers.contacts/databases/calllog.db"
CONTACTS_DB = "data/data/com.android.providers.contacts/databases/contacts2.db"
WA_DIR = "data/data/com.whatsapp/databases"
BOSS, CAPTAIN, PASSENGER = "0912345678", "+393331234567", "+21620123456"  # the ads carry the first two
GROUP = "120363041230000001"

SMS = [  # (minutes after T0, type 1 received / 2 sent, address, text)
    (0, 1, BOSS, "السلام عليكم، الرحلة يوم الجمعة من زوارة. السعر ١٥٠٠ يورو للشخص"),
    (3, 2, BOSS, "كم عدد الركاب؟"),
    (5, 1, BOSS, "٤٠ شخص. الدفع عند الوصول إلى لامبيدوزا"),
    (42, 1, PASSENGER, "Bonjour, c'est pour la traversée de vendredi. Deux places s'il vous plaît."),
    (45, 2, PASSENGER, "D'accord. Rendez-vous à Zuwara jeudi soir, 1500 EUR chacun."),
]
CALLS = [  # (minutes after T0, type, number, seconds)
    (-60, 2, BOSS, 95), (10, 1, BOSS, 240), (50, 3, CAPTAIN, 0), (52, 2, CAPTAIN, 130), (1440, 1, PASSENGER, 60),
]
WHATSAPP = [  # (minutes, chat id, from_me, sender jid row (group), type, text)
    (60, 1, 0, None, 0, "Captain here. Engine checked, fuel for 30 hours."),
    (61, 1, 1, None, 0, "Good. Departure Friday 03:00, no lights."),
    (90, 2, 0, 2, 0, "الانطلاق من الشاطئ الغربي الساعة ٣ فجراً"),
    (91, 2, 0, 2, 5, None),  # a location: the beach
    (95, 2, 1, None, 0, "تم. لا أحد يتصل بالأرقام القديمة"),
]


Rows = dict[str, list[dict[str, Any]]]


def _db(path: Path, schema: str, rows: Rows, wal: Rows | None = None, delete: str | None = None) -> None:
    """A database as the phone left it: rows, then (optionally) a deletion, then rows only in the WAL."""
    def fill(items: Rows) -> Callable[[sqlite3.Connection], None]:
        def run(conn: sqlite3.Connection) -> None:
            for table, values in items.items():
                insert(conn, table, list(values))
        return run

    def remove(conn: sqlite3.Connection) -> None:
        if delete:
            conn.execute(delete)

    database(path, schema, fill(rows), remove if delete else None, fill(wal) if wal else None)


def _sms(root: Path) -> None:
    rows = [{"_id": i + 1, "thread_id": 1 if addr == BOSS else 2, "address": addr, "date": T0 + m * MIN,
             "type": kind, "body": text, "read": 1} for i, (m, kind, addr, text) in enumerate(SMS)]
    rows.append({"_id": 9, "thread_id": 1, "address": BOSS, "date": T0 + 20 * MIN, "type": 1, "read": 1,
                 "body": "احذف هذه الرسالة بعد القراءة: المخزن قرب الميناء"})  # deleted below
    _db(root / SMS_DB, MMSSMS_SCHEMA, {
        "canonical_addresses": [{"_id": 1, "address": BOSS}, {"_id": 2, "address": PASSENGER}],
        "threads": [{"_id": 1, "recipient_ids": "1"}, {"_id": 2, "recipient_ids": "2"}],
        "sms": rows}, delete="DELETE FROM sms WHERE _id = 9",
        wal={"sms": [{"_id": 10, "thread_id": 1, "address": BOSS, "date": T0 + 300 * MIN, "type": 1, "read": 0,
                      "body": "غيّر رقمك. الشرطة في الميناء"}]})


def _calls(root: Path) -> None:
    _db(root / CALLS_DB, CALLLOG_SCHEMA, {"calls": [
        {"_id": i + 1, "number": num, "date": T0 + m * MIN, "duration": secs, "type": kind, "countryiso": "LY"}
        for i, (m, kind, num, secs) in enumerate(CALLS)]})


def _contacts(root: Path) -> None:
    mimes = ["vnd.android.cursor.item/name", "vnd.android.cursor.item/phone_v2"]
    _db(root / CONTACTS_DB, CONTACTS2_SCHEMA, {
        "accounts": [{"_id": 1, "account_name": "Phone", "account_type": "vnd.sec.contact.phone"}],
        "mimetypes": [{"_id": i + 1, "mimetype": m} for i, m in enumerate(mimes)],
        "contacts": [{"_id": 1, "name_raw_contact_id": 1}, {"_id": 2, "name_raw_contact_id": 2},
                     {"_id": 3, "name_raw_contact_id": 3}],
        "raw_contacts": [{"_id": 1, "account_id": 1, "contact_id": 1, "display_name": "الحاج (زوارة)"},
                         {"_id": 2, "account_id": 1, "contact_id": 2, "display_name": "Capitano"},
                         {"_id": 3, "account_id": 1, "contact_id": 3, "display_name": "Passager Sfax"}],
        "data": [{"raw_contact_id": 1, "mimetype_id": 1, "data1": "الحاج (زوارة)"},
                 {"raw_contact_id": 1, "mimetype_id": 2, "data1": "٠٩١-٢٣٤-٥٦٧٨", "data2": "2"},
                 {"raw_contact_id": 2, "mimetype_id": 1, "data1": "Capitano"},
                 {"raw_contact_id": 2, "mimetype_id": 2, "data1": "+39 333 123 4567", "data2": "2"},
                 {"raw_contact_id": 3, "mimetype_id": 1, "data1": "Passager Sfax"},
                 {"raw_contact_id": 3, "mimetype_id": 2, "data1": "+216 20 123 456", "data2": "2"}]})


def _whatsapp(root: Path) -> None:
    base = {"status": 0, "broadcast": 0, "recipient_count": 0, "starred": 0}
    messages = [{**base, "_id": i + 2, "sort_id": i + 2, "chat_row_id": chat, "from_me": me, "key_id": f"D{i}",
                 "sender_jid_row_id": sender, "timestamp": T0 + m * MIN, "message_type": kind, "text_data": text}
                for i, (m, chat, me, sender, kind, text) in enumerate(WHATSAPP)]
    _db(root / WA_DIR / "msgstore.db", MSGSTORE_SCHEMA, {
        "jid": [{"_id": 1, "user": CAPTAIN[1:], "server": "s.whatsapp.net", "raw_string": f"{CAPTAIN[1:]}@s.whatsapp.net"},
                {"_id": 2, "user": "218912345678", "server": "s.whatsapp.net",
                 "raw_string": "218912345678@s.whatsapp.net"},
                {"_id": 3, "user": GROUP, "server": "g.us", "raw_string": f"{GROUP}@g.us"}],
        "chat": [{"_id": 1, "jid_row_id": 1}, {"_id": 2, "jid_row_id": 3, "subject": "رحلة الجمعة"}],
        "message": messages,
        "message_location": [{"message_row_id": 5, "chat_row_id": 2, "latitude": 32.9401, "longitude": 12.0452,
                              "place_name": "الشاطئ الغربي"}],
        "call_log": [{"_id": 1, "jid_row_id": 1, "from_me": 0, "call_id": "W1", "timestamp": T0 + 70 * MIN,
                      "video_call": 0, "duration": 180, "call_result": 5}]})
    _db(root / WA_DIR / "wa.db", WA_SCHEMA, {"wa_contacts": [
        {"_id": 1, "jid": f"{CAPTAIN[1:]}@s.whatsapp.net", "is_whatsapp_user": 1, "display_name": "Capitano",
         "number": CAPTAIN},
        {"_id": 2, "jid": "218912345678@s.whatsapp.net", "is_whatsapp_user": 1, "display_name": "الحاج (زوارة)",
         "number": BOSS},
        {"_id": 3, "jid": f"{GROUP}@g.us", "is_whatsapp_user": 1, "display_name": "رحلة الجمعة"}]})


def build_extraction(out: Path) -> Path:
    """`out/phone_extraction.zip`: the bundled text files plus the phone's databases."""
    stage = Path(tempfile.mkdtemp(dir=out))
    try:
        for build in (_sms, _calls, _contacts, _whatsapp):
            build(stage)
        target = out / "phone_extraction.zip"
        bundled = Path(str(resources.files("triage") / "demo_data" / "phone_extraction.zip"))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf, zipfile.ZipFile(bundled) as src:
            for info in src.infolist():
                zf.writestr(info, src.read(info))
            for path in sorted(p for p in stage.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(path.relative_to(stage).as_posix(), date_time=(2026, 10, 6, 8, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
        return target
    finally:
        shutil.rmtree(stage, ignore_errors=True)
