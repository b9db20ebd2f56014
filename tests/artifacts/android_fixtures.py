"""Android extractions with the phones' real database schemas, for the Android parser tests.

No public WhatsApp or Telegram database for Android may be used (the ones published are personal
data), so these are built here: the CREATE TABLE statements are the apps' own, copied from the places
named beside each, and the rows are invented (Arabic text, Arabic-Indic digits, a group, media with
its file in the extraction, a location, WhatsApp LIDs with and without the phone's mapping, a row
only in the WAL, a deleted row left in free space with secure_delete off). Times are fixed, so tests
assert exact values. `benchmarks/phone_gen.py` builds its large extraction from the same schemas.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
import struct
import tempfile
from pathlib import Path
from typing import Callable

T0 = 1709324100000          # 2024-03-01T20:15:00Z, in milliseconds
T0_S = T0 // 1000
CONTACTS_DIR = "data/data/com.android.providers.contacts/databases"
WA_DIR = "data/data/com.whatsapp/databases"
WA_ROOT = "sdcard/Android/media/com.whatsapp/WhatsApp"
TG_DIR = "data/data/org.telegram.messenger/files"
# a JPEG's first bytes and an end marker: enough for a file that is what its name says
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"

# the schemas live with the parsers (the demo builds its phone with them too)
from triage.artifacts.android._schemas import database, insert, MMSSMS_SCHEMA, CALLLOG_SCHEMA, CONTACTS2_SCHEMA, MSGSTORE_SCHEMA, MSGSTORE_LEGACY_SCHEMA, WA_SCHEMA, CACHE4_SCHEMA  # noqa: F401


# --- building databases -------------------------------------------------------------------------

# --- call log and contacts ----------------------------------------------------------------------

def calllog(root: Path) -> Path:
    """calllog.db: 5 calls in the main file, 1 only in the WAL, 1 deleted (left in free space)."""
    def rows(conn: sqlite3.Connection) -> None:
        insert(conn, "calls", [
            {"_id": 1, "number": "٠٩١٢٣٤٥٦٧٨", "date": T0, "duration": 95, "type": 1, "countryiso": "LY",
             "name": "أبو محمد", "geocoded_location": "ليبيا", "new": 0, "is_read": 1},
            {"_id": 2, "number": "+393331234567", "date": T0 + 3_600_000, "duration": 310, "type": 2, "features": 1,
             "countryiso": "LY"},
            {"_id": 3, "number": "00218925550001", "date": T0 + 7_200_000, "duration": 0, "type": 3,
             "countryiso": "LY"},
            {"_id": 4, "number": "0912345678", "date": T0 + 10_800_000, "duration": 0, "type": 5,
             "countryiso": "LY"},
            {"_id": 5, "number": "", "presentation": 2, "date": T0 + 14_400_000, "duration": 0, "type": 6},
            {"_id": 6, "number": "+218944440000", "date": T0 + 15_000_000, "duration": 33, "type": 1,
             "countryiso": "LY", "name": "DELETED-CALL-MARKER"},
        ])

    def deleted(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM calls WHERE _id = 6")

    def wal_only(conn: sqlite3.Connection) -> None:
        insert(conn, "calls", [{"_id": 7, "number": "+218912345678", "date": T0 + 18_000_000, "duration": 12,
                                "type": 2, "countryiso": "LY"}])

    return database(root / CONTACTS_DIR / "calllog.db", CALLLOG_SCHEMA, rows, deleted, wal_only)


MIMES = ["vnd.android.cursor.item/name", "vnd.android.cursor.item/phone_v2", "vnd.android.cursor.item/email_v2",
         "vnd.android.cursor.item/im", "vnd.android.cursor.item/organization",
         "vnd.android.cursor.item/vnd.com.whatsapp.profile", "vnd.android.cursor.item/nickname"]


def contacts2(root: Path) -> Path:
    """contacts2.db: 3 raw contacts (one marked deleted, one in the WhatsApp account)."""
    def rows(conn: sqlite3.Connection) -> None:
        insert(conn, "accounts", [{"_id": 1, "account_name": "abu.m@example.com", "account_type": "com.google"},
                                  {"_id": 2, "account_name": "WhatsApp", "account_type": "com.whatsapp"}])
        insert(conn, "mimetypes", [{"_id": i + 1, "mimetype": m} for i, m in enumerate(MIMES)])
        insert(conn, "contacts", [{"_id": 1, "name_raw_contact_id": 1, "contact_last_updated_timestamp": T0},
                                  {"_id": 2, "name_raw_contact_id": 2, "contact_last_updated_timestamp": T0 + 1000}])
        insert(conn, "raw_contacts", [
            {"_id": 1, "account_id": 1, "contact_id": 1, "display_name": "أبو محمد", "times_contacted": 4},
            {"_id": 2, "account_id": 1, "contact_id": 2, "display_name": "Captain Zuwara", "deleted": 1},
            {"_id": 3, "account_id": 2, "contact_id": 1, "display_name": "أبو محمد"},
        ])
        insert(conn, "data", [
            {"raw_contact_id": 1, "mimetype_id": 1, "data1": "أبو محمد", "data2": "أبو", "data3": "محمد"},
            {"raw_contact_id": 1, "mimetype_id": 2, "data1": "٠٩١-٢٣٤-٥٦٧٨", "data2": "2"},
            {"raw_contact_id": 1, "mimetype_id": 3, "data1": "abu.m@example.com"},
            {"raw_contact_id": 1, "mimetype_id": 4, "data1": "abu_m", "data5": "-1", "data6": "Signal"},
            {"raw_contact_id": 1, "mimetype_id": 5, "data1": "Sea Transport Co", "data4": "Manager"},
            {"raw_contact_id": 2, "mimetype_id": 1, "data1": "Captain Zuwara"},
            {"raw_contact_id": 2, "mimetype_id": 2, "data1": "+39 333 123 4567", "data2": "2"},
            {"raw_contact_id": 3, "mimetype_id": 6, "data1": "218912345678@s.whatsapp.net",
             "data3": "Message +218 91 234 5678"},
        ])

    return database(root / CONTACTS_DIR / "contacts2.db", CONTACTS2_SCHEMA, rows)


# --- WhatsApp -----------------------------------------------------------------------------------

IMAGE_PATH = "Media/WhatsApp Images/IMG-20240301-WA0001.jpg"
LID_MAPPED, LID_ALONE = "123456789012345", "987654321098765"
GROUP = "120363041234567890"


def whatsapp(root: Path, folder: str = WA_DIR) -> dict[str, str]:
    """msgstore.db (current schema) and wa.db, and the one media file the phone still has.
    Returns {what: value} the tests compare against (the media file's SHA-256)."""
    media = root / WA_ROOT / IMAGE_PATH
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(JPEG)
    digest = hashlib.sha256(JPEG).digest()

    def rows(conn: sqlite3.Connection) -> None:
        insert(conn, "jid", [
            {"_id": 1, "user": "218912345678", "server": "s.whatsapp.net", "raw_string": "218912345678@s.whatsapp.net"},
            {"_id": 2, "user": GROUP, "server": "g.us", "raw_string": f"{GROUP}@g.us"},
            {"_id": 3, "user": "218925550001", "server": "s.whatsapp.net", "raw_string": "218925550001@s.whatsapp.net"},
            {"_id": 4, "user": LID_MAPPED, "server": "lid", "raw_string": f"{LID_MAPPED}@lid"},
            {"_id": 5, "user": "393331234567", "server": "s.whatsapp.net", "raw_string": "393331234567@s.whatsapp.net"},
            {"_id": 6, "user": LID_ALONE, "server": "lid", "raw_string": f"{LID_ALONE}@lid"},
        ])
        insert(conn, "jid_map", [{"lid_row_id": 4, "jid_row_id": 5}])
        insert(conn, "lid_display_name", [{"lid_row_id": 6, "display_name": "Smuggler X"}])
        insert(conn, "chat", [{"_id": 1, "jid_row_id": 1}, {"_id": 2, "jid_row_id": 2, "subject": "رحلة ١٥ مارس"},
                              {"_id": 3, "jid_row_id": 6}])
        base = {"status": 0, "broadcast": 0, "recipient_count": 0, "starred": 0}
        msgs: list[dict[str, object]] = [
            {"_id": 1, "chat_row_id": -1, "from_me": 0, "key_id": "-1", "timestamp": 0, "message_type": 0},
            {"_id": 2, "chat_row_id": 1, "from_me": 0, "key_id": "K2", "timestamp": T0, "message_type": 0,
             "text_data": "السلام عليكم", "received_timestamp": T0 + 2000},
            {"_id": 3, "chat_row_id": 1, "from_me": 1, "key_id": "K3", "timestamp": T0 + 60_000, "message_type": 0,
             "text_data": "كم السعر للشخص؟ ٢٠٠٠ دينار"},
            {"_id": 4, "chat_row_id": 1, "from_me": 0, "key_id": "K4", "timestamp": T0 + 120_000, "message_type": 1,
             "text_data": "صورة القارب"},
            {"_id": 5, "chat_row_id": 2, "from_me": 0, "key_id": "K5", "sender_jid_row_id": 3,
             "timestamp": T0 + 180_000, "message_type": 0, "text_data": "الانطلاق من زوارة"},
            {"_id": 6, "chat_row_id": 2, "from_me": 0, "key_id": "K6", "sender_jid_row_id": 4,
             "timestamp": T0 + 240_000, "message_type": 0, "text_data": "Boat leaves at 3am"},
            {"_id": 7, "chat_row_id": 2, "from_me": 0, "key_id": "K7", "sender_jid_row_id": 6,
             "timestamp": T0 + 300_000, "message_type": 5},
            {"_id": 8, "chat_row_id": 2, "from_me": 1, "key_id": "K8", "timestamp": T0 + 360_000, "message_type": 0,
             "text_data": "تم"},
            {"_id": 9, "chat_row_id": 1, "from_me": 0, "key_id": "K9", "timestamp": T0 + 420_000, "message_type": 9},
            {"_id": 10, "chat_row_id": 3, "from_me": 0, "key_id": "K10", "timestamp": T0 + 480_000,
             "message_type": 0, "text_data": "who is this"},
            {"_id": 12, "chat_row_id": 1, "from_me": 0, "key_id": "K12", "timestamp": T0 + 600_000,
             "message_type": 0, "text_data": "DELETED-MESSAGE-MARKER احذف هذه"},
        ]
        insert(conn, "message", [{**base, "sort_id": m["_id"], **m} for m in msgs])
        insert(conn, "message_media", [
            {"message_row_id": 4, "chat_row_id": 1, "file_path": IMAGE_PATH, "mime_type": "image/jpeg",
             "file_size": len(JPEG), "file_hash": base64.b64encode(digest).decode(), "media_name": None},
            {"message_row_id": 9, "chat_row_id": 1, "file_path": "Media/WhatsApp Documents/list.pdf",
             "mime_type": "application/pdf", "file_size": 48213, "media_name": "list.pdf"},
        ])
        insert(conn, "message_location", [{"message_row_id": 7, "chat_row_id": 2, "latitude": 32.9312,
                                           "longitude": 12.0819, "place_name": "Zuwara"}])
        insert(conn, "message_quoted", [{"message_row_id": 8, "chat_row_id": 2, "parent_message_chat_row_id": 2,
                                         "from_me": 0, "sender_jid_row_id": 4, "key_id": "K6",
                                         "text_data": "Boat leaves at 3am"}])
        insert(conn, "call_log", [
            {"_id": 1, "jid_row_id": 1, "from_me": 0, "call_id": "C1", "timestamp": T0 + 900_000, "video_call": 0,
             "duration": 62, "call_result": 5},
            {"_id": 2, "jid_row_id": 4, "from_me": 1, "call_id": "C2", "timestamp": T0 + 960_000, "video_call": 1,
             "duration": 240, "call_result": 5},
            {"_id": 3, "jid_row_id": 6, "from_me": 0, "call_id": "C3", "timestamp": T0 + 1_020_000,
             "video_call": 0, "duration": 0, "call_result": 2},
        ])

    def deleted(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM message WHERE _id = 12")

    def wal_only(conn: sqlite3.Connection) -> None:
        insert(conn, "message", [{"_id": 13, "chat_row_id": 1, "from_me": 1, "key_id": "K13", "sort_id": 13,
                                  "timestamp": T0 + 660_000, "message_type": 0, "text_data": "رسالة في السجل فقط"}])

    database(root / folder / "msgstore.db", MSGSTORE_SCHEMA, rows, deleted, wal_only)
    database(root / folder / "wa.db", WA_SCHEMA, lambda conn: insert(conn, "wa_contacts", [
        {"_id": 1, "jid": "218912345678@s.whatsapp.net", "is_whatsapp_user": 1, "number": "+218 91 234 5678",
         "display_name": "أبو محمد", "wa_name": "Abu M", "status": "متاح", "status_timestamp": T0},
        {"_id": 2, "jid": "393331234567@s.whatsapp.net", "is_whatsapp_user": 1, "wa_name": "Captain"},
        {"_id": 3, "jid": f"{GROUP}@g.us", "is_whatsapp_user": 1, "display_name": "رحلة ١٥ مارس"},
        {"_id": 4, "jid": f"{LID_ALONE}@lid", "is_whatsapp_user": 1, "wa_name": "X"},
    ]))
    return {"image_sha256": digest.hex()}


def whatsapp_legacy(root: Path, folder: str = "apps/com.whatsapp.w4b/db") -> dict[str, str]:
    """A legacy-schema msgstore.db (WhatsApp Business, adb-backup layout) and its sent image."""
    phone_path = "/storage/emulated/0/WhatsApp Business/Media/WhatsApp Business Images/Sent/IMG-20190301-WA0003.jpg"
    media = root / "sdcard/WhatsApp Business/Media/WhatsApp Business Images/Sent/IMG-20190301-WA0003.jpg"
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(JPEG[::-1])
    digest = hashlib.sha256(JPEG[::-1]).digest()
    # thumb_image holds a serialised com.whatsapp.MediaData whose java.io.File carries the path
    thumb = b"\xac\xed\x00\x05sr\x00\x16com.whatsapp.MediaData" + bytes(20) + b"t\x00" + \
        bytes([len(phone_path)]) + phone_path.encode() + b"x"
    t = 1551398400000                                   # 2019-03-01T00:00:00Z

    def rows(conn: sqlite3.Connection) -> None:
        insert(conn, "messages", [
            {"_id": 1, "key_remote_jid": "-1", "key_from_me": 0, "key_id": "-1", "timestamp": 0},
            {"_id": 2, "key_remote_jid": "218912345678@s.whatsapp.net", "key_from_me": 0, "key_id": "L2",
             "data": "مرحبا", "timestamp": t, "media_wa_type": "0", "status": 0},
            {"_id": 3, "key_remote_jid": f"{GROUP}@g.us", "key_from_me": 0, "key_id": "L3", "data": "group hello",
             "timestamp": t + 60_000, "media_wa_type": "0", "remote_resource": "218925550001@s.whatsapp.net"},
            {"_id": 4, "key_remote_jid": "218912345678@s.whatsapp.net", "key_from_me": 1, "key_id": "L4",
             "timestamp": t + 120_000, "media_wa_type": "1", "media_mime_type": "image/jpeg",
             "media_size": len(JPEG), "media_hash": base64.b64encode(digest).decode(), "media_caption": "القارب",
             "thumb_image": thumb},
            {"_id": 5, "key_remote_jid": "218912345678@s.whatsapp.net", "key_from_me": 0, "key_id": "L5",
             "timestamp": t + 180_000, "media_wa_type": "5", "latitude": 32.9312, "longitude": 12.0819,
             "media_name": "Zuwara"},
            {"_id": 6, "key_remote_jid": "218912345678@s.whatsapp.net", "key_from_me": 0, "key_id": "L6",
             "timestamp": t + 240_000, "media_wa_type": "8", "media_duration": 0},
        ])

    database(root / folder / "msgstore.db", MSGSTORE_LEGACY_SCHEMA, rows)
    return {"image_sha256": digest.hex()}


# --- Telegram: TL serialisation written field by field from the published schema ---------------

def u32(v: int) -> bytes:
    return struct.pack("<I", v)


def i32(v: int) -> bytes:
    return struct.pack("<i", v)


def i64(v: int) -> bytes:
    return struct.pack("<q", v)


def f64(v: float) -> bytes:
    return struct.pack("<d", v)


def tl_str(text: str) -> bytes:
    raw = text.encode()
    head = bytes([len(raw)]) if len(raw) < 254 else b"\xfe" + len(raw).to_bytes(3, "little")
    out = head + raw
    return out + bytes(-len(out) % 4)


def peer_user(uid: int) -> bytes:
    return u32(0x59511722) + i64(uid)


def peer_chat(cid: int) -> bytes:
    return u32(0x36C6019A) + i64(cid)


def tl_message(constructor: int, flags2: bool, mid: int, peer: bytes, date: int, text: str, *, out: bool = False,
               sender: bytes | None = None, media: bytes | None = None) -> bytes:
    """message#…: flags [flags2] id from_id:flags.8 peer_id date message media:flags.9 (layers 135-226)."""
    flags = (2 if out else 0) | (1 << 8 if sender else 0) | (1 << 9 if media else 0)
    return (u32(constructor) + u32(flags) + (u32(0) if flags2 else b"") + i32(mid) + (sender or b"") + peer
            + i32(date) + tl_str(text) + (media or b""))


def tl_message_118(mid: int, from_id: int, chat_id: int, reply_to: int, date: int, text: str) -> bytes:
    """message#f52e6b7f (layer 118): from_id and reply_to_msg_id plain int32, peerChat#bad0e5bb int32 id."""
    flags = (1 << 8) | (1 << 3)
    return (u32(0xF52E6B7F) + u32(flags) + i32(mid) + i32(from_id) + u32(0xBAD0E5BB) + i32(chat_id)
            + i32(reply_to) + i32(date) + tl_str(text))


def geo_point(lat: float, lon: float) -> bytes:
    return u32(0xB2A2F663) + u32(0) + f64(lon) + f64(lat) + i64(0x1122334455667788)


def phone_call(mid: int, peer: int, date: int, *, out: bool, video: bool, reason: int, duration: int | None) -> bytes:
    """messageService#2b085862 carrying messageActionPhoneCall#80e11a7f."""
    call_flags = 1 | (4 if video else 0) | (2 if duration is not None else 0)
    action = u32(0x80E11A7F) + u32(call_flags) + i64(9_000_000_000 + mid) + u32(reason) + \
        (i32(duration) if duration is not None else b"")
    return u32(0x2B085862) + u32(2 if out else 0) + i32(mid) + peer_user(peer) + i32(date) + action


def tl_user(uid: int, first: str, last: str | None, username: str | None, phone: str | None,
            flags2: bool = True) -> bytes:
    """user#83314fca (tdesktop api.tl) or, without flags2, a layer-144-style user#3ff6ecb0 with a long id."""
    flags = 1 | 2 | (4 if last else 0) | (8 if username else 0) | (16 if phone else 0)
    body = u32(flags) + (u32(0) if flags2 else b"") + i64(uid) + i64(0x0102030405060708) + tl_str(first)
    for value in (last, username, phone):
        if value:
            body += tl_str(value)
    return u32(0x83314FCA if flags2 else 0x3FF6ECB0) + body + u32(0x4F11BAE1)   # + userProfilePhotoEmpty


TG_ME, TG_ALI, TG_OLD, TG_ODD, TG_GROUP = 100, 5012345678, 777000, 424242, 4001


def telegram(root: Path) -> Path:
    """cache4.db: 3 users, 1 group, 10 messages_v2 rows (8 messages, 2 calls; 2 rows in fallback form)."""
    d = T0_S

    def rows(conn: sqlite3.Connection) -> None:
        insert(conn, "users", [
            {"uid": TG_ALI, "name": "أحمد الزوارة;;;zuwara_boats", "status": d - 60,
             "data": tl_user(TG_ALI, "أحمد", "الزوارة", "zuwara_boats", "218912345678")},
            {"uid": TG_OLD, "name": "telegram;;;", "status": 0, "data": tl_user(TG_OLD, "Telegram", None, None, None,
                                                                                flags2=False)},
            {"uid": TG_ODD, "name": "mystery user;;;", "status": -100, "data": b"\x01\x02\x03\x04garbage"},
        ])
        chat_blob = u32(0x41CBF256) + u32(0) + i64(TG_GROUP) + tl_str("رحلة الجمعة") + u32(0x37C1011C)
        insert(conn, "chats", [{"uid": TG_GROUP, "name": "رحلة الجمعة", "data": chat_blob}])
        venue = u32(0x2EC0533F) + geo_point(32.8872, 13.1913) + tl_str("Tripoli port") + tl_str("ميناء طرابلس") + \
            tl_str("foursquare") + tl_str("4b5a") + tl_str("")
        bad_date = tl_message(0x94345242, True, 22, peer_chat(TG_GROUP), d + 999, "مؤجل", out=True)
        msgs = [
            (10, TG_ALI, d, 0, tl_message(0x94345242, True, 10, peer_user(TG_ME), d, "السلام عليكم، متى الرحلة؟",
                                          sender=peer_user(TG_ALI))),
            (11, TG_ALI, d + 60, 1, tl_message(0x85D6CBE2, False, 11, peer_user(TG_ALI), d + 60,
                                               "بكرة الساعة ٣ فجراً", out=True)),
            (12, TG_ALI, d + 120, 0, tl_message(0x9815CEC8, True, 12, peer_user(TG_ME), d + 120, "",
                                                media=u32(0x56E0D474) + geo_point(32.9312, 12.0819))),
            (13, TG_ALI, d + 180, 1, phone_call(13, TG_ALI, d + 180, out=True, video=True, reason=0x57ADC690,
                                                duration=185)),
            (14, TG_ALI, d + 240, 0, phone_call(14, TG_ALI, d + 240, out=False, video=False, reason=0x85E42301,
                                                duration=None)),
            (15, TG_ALI, d + 300, 0, u32(0xDEADBEEF) + i32(15) + tl_str("رقم القارب 7") + bytes(8)),
            (16, TG_ALI, d + 360, 0, tl_message(0x3AE56482, True, 16, peer_user(TG_ME), d + 360, "", media=venue)),
            (20, -TG_GROUP, d + 420, 0, tl_message(0x3AE56482, True, 20, peer_chat(TG_GROUP), d + 420,
                                                   "Departure confirmed / المغادرة مؤكدة", sender=peer_user(TG_ALI))),
            (21, -TG_GROUP, d + 480, 0, tl_message_118(21, TG_ODD, TG_GROUP, 20, d + 480, "ok")),
            (22, -TG_GROUP, d + 540, 1, bad_date),
        ]
        insert(conn, "messages_v2", [{"mid": m, "uid": u, "date": t, "out": o, "data": blob, "read_state": 1,
                                      "send_state": 0} for m, u, t, o, blob in msgs])
        insert(conn, "dialogs", [{"did": TG_ALI, "date": d + 360}, {"did": -TG_GROUP, "date": d + 540}])

    return database(root / TG_DIR / "cache4.db", CACHE4_SCHEMA, rows)


def jsonl(result: object) -> list[dict[str, object]]:
    """The rows of a `--format jsonl` listing."""
    import json

    return [json.loads(line) for line in getattr(result, "stdout").splitlines() if line.strip()]
