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

# --- schemas ------------------------------------------------------------------------------------

# mmssms.db: the tables (not the triggers, which maintain threads and the search index) of plaso's
# test_data/mmssms.db (log2timeline/plaso@4ea03ef9a4, Apache-2.0; telephony provider, user_version 57).
MMSSMS_SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,type INTEGER,reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,locked INTEGER DEFAULT 0,error_code INTEGER DEFAULT 0,seen INTEGER DEFAULT 0);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT,address TEXT);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT,date INTEGER DEFAULT 0,message_count INTEGER DEFAULT 0,recipient_ids TEXT,snippet TEXT,snippet_cs INTEGER DEFAULT 0,read INTEGER DEFAULT 1,type INTEGER DEFAULT 0,error INTEGER DEFAULT 0,has_attachment INTEGER DEFAULT 0);
CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT,thread_id INTEGER,date INTEGER,date_sent INTEGER DEFAULT 0,msg_box INTEGER,read INTEGER DEFAULT 0,m_id TEXT,sub TEXT,sub_cs INTEGER,ct_t TEXT,ct_l TEXT,exp INTEGER,m_cls TEXT,m_type INTEGER,v INTEGER,m_size INTEGER,pri INTEGER,rr INTEGER,rpt_a INTEGER,resp_st INTEGER,st INTEGER,tr_id TEXT,retr_st INTEGER,retr_txt TEXT,retr_txt_cs INTEGER,read_status INTEGER,ct_cls INTEGER,resp_txt TEXT,d_tm INTEGER,d_rpt INTEGER,locked INTEGER DEFAULT 0,seen INTEGER DEFAULT 0,text_only INTEGER DEFAULT 0);
CREATE TABLE addr (_id INTEGER PRIMARY KEY,msg_id INTEGER,contact_id INTEGER,address TEXT,type INTEGER,charset INTEGER);
CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT,mid INTEGER,seq INTEGER DEFAULT 0,ct TEXT,name TEXT,chset INTEGER,cd TEXT,fn TEXT,cid TEXT,cl TEXT,ctt_s INTEGER,ctt_t TEXT,_data TEXT,text TEXT);
"""

# calllog.db, Android 7+: sqlite_master of andriller's tests/data/calllog.db (den4uk/andriller@3b8c9f7b8d,
# MIT), the AOSP CallLogDatabaseHelper layout (user_version 5).
CALLLOG_SCHEMA = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE properties (property_key TEXT PRIMARY KEY, property_value TEXT );
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT,number TEXT,presentation INTEGER NOT NULL DEFAULT 1,post_dial_digits TEXT NOT NULL DEFAULT '',via_number TEXT NOT NULL DEFAULT '',date INTEGER,duration INTEGER,data_usage INTEGER,type INTEGER,features INTEGER NOT NULL DEFAULT 0,subscription_component_name TEXT,subscription_id TEXT,phone_account_address TEXT,phone_account_hidden INTEGER NOT NULL DEFAULT 0,sub_id INTEGER DEFAULT -1,new INTEGER,name TEXT,numbertype INTEGER,numberlabel TEXT,countryiso TEXT,voicemail_uri TEXT,is_read INTEGER,geocoded_location TEXT,lookup_uri TEXT,matched_number TEXT,normalized_number TEXT,photo_id INTEGER NOT NULL DEFAULT 0,photo_uri TEXT,formatted_number TEXT,add_for_all_users INTEGER NOT NULL DEFAULT 1,last_modified INTEGER DEFAULT 0,_data TEXT,has_content INTEGER,mime_type TEXT,source_data TEXT,source_package TEXT,transcription TEXT,transcription_state INTEGER NOT NULL DEFAULT 0,state INTEGER,dirty INTEGER NOT NULL DEFAULT 0,deleted INTEGER NOT NULL DEFAULT 0,backed_up INTEGER NOT NULL DEFAULT 0,restored INTEGER NOT NULL DEFAULT 0,archived INTEGER NOT NULL DEFAULT 0,is_omtp_voicemail INTEGER NOT NULL DEFAULT 0,conference_call_id INTEGER NOT NULL DEFAULT -1,indicate_phone_or_sim_contact INTEGER NOT NULL DEFAULT -1,is_sdn_contact INTEGER NOT NULL DEFAULT 0);
"""

# contacts2.db: AOSP ContactsProvider tests/assets/upgradeTest/contacts2_1108.sql
# (aosp-mirror/platform_packages_providers_contactsprovider@87d2149d75, Apache-2.0), database version 1108.
CONTACTS2_SCHEMA = """
CREATE TABLE accounts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_name TEXT, account_type TEXT, data_set TEXT);
CREATE TABLE contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,name_raw_contact_id INTEGER REFERENCES raw_contacts(_id),photo_id INTEGER REFERENCES data(_id),photo_file_id INTEGER REFERENCES photo_files(_id),custom_ringtone TEXT,send_to_voicemail INTEGER NOT NULL DEFAULT 0,times_contacted INTEGER NOT NULL DEFAULT 0,last_time_contacted INTEGER,starred INTEGER NOT NULL DEFAULT 0,pinned INTEGER NOT NULL DEFAULT 0,has_phone_number INTEGER NOT NULL DEFAULT 0,lookup TEXT,status_update_id INTEGER REFERENCES data(_id),contact_last_updated_timestamp INTEGER);
CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,account_id INTEGER REFERENCES accounts(_id),sourceid TEXT,backup_id TEXT,raw_contact_is_read_only INTEGER NOT NULL DEFAULT 0,version INTEGER NOT NULL DEFAULT 1,dirty INTEGER NOT NULL DEFAULT 0,deleted INTEGER NOT NULL DEFAULT 0,metadata_dirty INTEGER NOT NULL DEFAULT 0,contact_id INTEGER REFERENCES contacts(_id),aggregation_mode INTEGER NOT NULL DEFAULT 0,aggregation_needed INTEGER NOT NULL DEFAULT 1,custom_ringtone TEXT,send_to_voicemail INTEGER NOT NULL DEFAULT 0,times_contacted INTEGER NOT NULL DEFAULT 0,last_time_contacted INTEGER,starred INTEGER NOT NULL DEFAULT 0,pinned INTEGER NOT NULL DEFAULT 0,display_name TEXT,display_name_alt TEXT,display_name_source INTEGER NOT NULL DEFAULT 0,phonetic_name TEXT,phonetic_name_style TEXT,sort_key TEXT COLLATE PHONEBOOK,phonebook_label TEXT,phonebook_bucket INTEGER,sort_key_alt TEXT COLLATE PHONEBOOK,phonebook_label_alt TEXT,phonebook_bucket_alt INTEGER,name_verified INTEGER NOT NULL DEFAULT 0,sync1 TEXT, sync2 TEXT, sync3 TEXT, sync4 TEXT );
CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT,mimetype TEXT NOT NULL);
CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT,package_id INTEGER REFERENCES package(_id),mimetype_id INTEGER REFERENCES mimetype(_id) NOT NULL,raw_contact_id INTEGER REFERENCES raw_contacts(_id) NOT NULL,hash_id TEXT,is_read_only INTEGER NOT NULL DEFAULT 0,is_primary INTEGER NOT NULL DEFAULT 0,is_super_primary INTEGER NOT NULL DEFAULT 0,data_version INTEGER NOT NULL DEFAULT 0,data1 TEXT,data2 TEXT,data3 TEXT,data4 TEXT,data5 TEXT,data6 TEXT,data7 TEXT,data8 TEXT,data9 TEXT,data10 TEXT,data11 TEXT,data12 TEXT,data13 TEXT,data14 TEXT,data15 TEXT,data_sync1 TEXT, data_sync2 TEXT, data_sync3 TEXT, data_sync4 TEXT, carrier_presence INTEGER NOT NULL DEFAULT 0 );
"""

# msgstore.db, current schema: frozenspider/chat-history-manager
# crates/loaders/resources/test/whatsapp-android_2026-05/msgstore.sql (schema section, from a real 2026
# msgstore.db; message_revoked and message_forwarded as there too). jid_map and lid_display_name: as two
# public `sqlite3 .dump`s of 2024-2025 msgstore.db schemas write them (found by code search; the index
# does not name their repository); the same definitions are used by the tests of WhatsApp exporters.
MSGSTORE_SCHEMA = """
CREATE TABLE call_log (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER, from_me INTEGER, call_id TEXT, transaction_id INTEGER, timestamp INTEGER, video_call INTEGER, duration INTEGER, call_result INTEGER, bytes_transferred INTEGER, group_jid_row_id INTEGER NOT NULL DEFAULT 0, is_joinable_group_call INTEGER, call_creator_device_jid_row_id INTEGER NOT NULL DEFAULT 0, call_random_id TEXT, call_link_row_id INTEGER NOT NULL DEFAULT 0, is_dnd_mode_on INTEGER, call_type INTEGER, offer_silence_reason INTEGER, scheduled_id TEXT, telecom_uuid TEXT, terminated_by_device_switch INTEGER);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden INTEGER, subject TEXT, created_timestamp INTEGER, display_message_row_id INTEGER, last_message_row_id INTEGER, last_read_message_row_id INTEGER, last_read_receipt_sent_message_row_id INTEGER, last_important_message_row_id INTEGER, archived INTEGER, sort_timestamp INTEGER, mod_tag INTEGER, gen REAL, spam_detection INTEGER, unseen_earliest_message_received_time INTEGER, unseen_message_count INTEGER, unseen_missed_calls_count INTEGER, unseen_row_count INTEGER, plaintext_disabled INTEGER, vcard_ui_dismissed INTEGER, change_number_notified_message_row_id INTEGER, show_group_description INTEGER, ephemeral_expiration INTEGER, last_read_ephemeral_message_row_id INTEGER, ephemeral_setting_timestamp INTEGER, unseen_important_message_count INTEGER NOT NULL DEFAULT 0, ephemeral_disappearing_messages_initiator INTEGER, group_type INTEGER NOT NULL DEFAULT 0, last_message_reaction_row_id INTEGER, last_seen_message_reaction_row_id INTEGER, unseen_message_reaction_count INTEGER, growth_lock_level INTEGER, growth_lock_expiration_ts INTEGER, last_read_message_sort_id INTEGER, display_message_sort_id INTEGER, last_message_sort_id INTEGER, last_read_receipt_sent_message_sort_id INTEGER, has_new_community_admin_dialog_been_acknowledged INTEGER NOT NULL DEFAULT 0, history_sync_progress INTEGER, ephemeral_displayed_exemptions INTEGER, chat_lock INTEGER, unseen_comment_message_count INTEGER, chat_origin TEXT, participation_status INTEGER, account_jid_row_id INTEGER, chat_encryption_state INTEGER, group_member_count INTEGER, limited_sharing INTEGER, limited_sharing_setting_timestamp INTEGER, is_contact INTEGER, ephemeral_after_read_duration INTEGER, business_chat_state INTEGER);
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL, agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL, from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER, broadcast INTEGER, recipient_count INTEGER, participant_hash TEXT, origination_flags INTEGER, origin INTEGER, timestamp INTEGER, received_timestamp INTEGER, receipt_server_timestamp INTEGER, message_type INTEGER, text_data TEXT, starred INTEGER, lookup_tables INTEGER, sort_id INTEGER NOT NULL DEFAULT 0, message_add_on_flags INTEGER, view_mode INTEGER, translated_text TEXT, view_replies_thread_id INTEGER, server_sts INTEGER);
CREATE TABLE message_forwarded (message_row_id INTEGER PRIMARY KEY, forward_score INTEGER, forward_origin INTEGER);
CREATE TABLE message_location (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, latitude REAL, longitude REAL, place_name TEXT, place_address TEXT, url TEXT, live_location_share_duration INTEGER, live_location_sequence_number INTEGER, live_location_final_latitude REAL, live_location_final_longitude REAL, live_location_final_timestamp INTEGER, map_download_status INTEGER);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER, autotransfer_retry_enabled INTEGER, multicast_id TEXT, media_job_uuid TEXT, transferred INTEGER, transcoded INTEGER, file_path TEXT, file_size INTEGER, suspicious_content INTEGER, trim_from INTEGER, trim_to INTEGER, face_x INTEGER, face_y INTEGER, media_key BLOB, media_key_timestamp INTEGER, width INTEGER, height INTEGER, has_streaming_sidecar INTEGER, gif_attribution INTEGER, thumbnail_height_width_ratio REAL, direct_path TEXT, first_scan_sidecar BLOB, first_scan_length INTEGER, message_url TEXT, mime_type TEXT, file_length INTEGER, media_name TEXT, file_hash TEXT, media_duration INTEGER, page_count INTEGER, enc_file_hash TEXT, partial_media_hash TEXT, partial_media_enc_hash TEXT, is_animated_sticker INTEGER, original_file_hash TEXT, mute_video INTEGER DEFAULT 0, media_caption TEXT, media_upload_handle TEXT, sticker_flags INTEGER, raw_transcription_text TEXT, first_viewed_timestamp INTEGER, doodle_id TEXT, media_source_type INTEGER, accessibility_label TEXT, media_transcode_quality INTEGER DEFAULT 0, metadata_url TEXT, motion_photo_presentation_offset_ms INTEGER, qr_url TEXT, media_key_domain INTEGER, e2ee_media_key BLOB, premium_message INTEGER, emoji_tags TEXT, is_offloaded INTEGER);
CREATE TABLE message_quoted (message_row_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL, parent_message_chat_row_id INTEGER NOT NULL, from_me INTEGER NOT NULL, sender_jid_row_id INTEGER, key_id TEXT NOT NULL, timestamp INTEGER, message_type INTEGER, origin INTEGER, text_data TEXT, payment_transaction_id TEXT, lookup_tables INTEGER, quoted_source INTEGER, quoted_type INTEGER);
CREATE TABLE message_revoked (message_row_id INTEGER PRIMARY KEY, revoked_key_id TEXT NOT NULL, admin_jid_row_id INTEGER, revoke_timestamp INTEGER);
CREATE TABLE props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);
CREATE TABLE jid_map(lid_row_id INTEGER PRIMARY KEY NOT NULL,jid_row_id INTEGER NOT NULL, sort_id INTEGER);
CREATE TABLE lid_display_name(lid_row_id INTEGER PRIMARY KEY NOT NULL,display_name TEXT NOT NULL,username TEXT);
"""

# msgstore.db, legacy schema: the `messages` table of a 2.21-era msgstore.db as a public `sqlite3 .schema`
# dump gives it (found by code search); its leading columns are those listed in jberkel/whassup's
# WhatsAppMessage.java and written by WhatsApp's own MsgStore onCreate (decompiled copies are public).
MSGSTORE_LEGACY_SCHEMA = """
CREATE TABLE props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL, key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT, timestamp INTEGER, media_url TEXT, media_mime_type TEXT, media_wa_type TEXT, media_size INTEGER, media_name TEXT, media_caption TEXT, media_hash TEXT, media_duration INTEGER, origin INTEGER, latitude REAL, longitude REAL, thumb_image TEXT, remote_resource TEXT, received_timestamp INTEGER, send_timestamp INTEGER, receipt_server_timestamp INTEGER, receipt_device_timestamp INTEGER, read_device_timestamp INTEGER, played_device_timestamp INTEGER, raw_data BLOB, recipient_count INTEGER, participant_hash TEXT, starred INTEGER, quoted_row_id INTEGER, mentioned_jids TEXT, multicast_id TEXT, edit_version INTEGER, media_enc_hash TEXT, payment_transaction_id TEXT, forwarded INTEGER, preview_type INTEGER, send_count INTEGER, lookup_tables INTEGER, future_message_type INTEGER);
"""

# wa.db: frozenspider/chat-history-manager crates/loaders/resources/test/whatsapp-android_2026-05/wa.sql.
WA_SCHEMA = """
CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL, is_whatsapp_user BOOLEAN NOT NULL, status TEXT, status_timestamp INTEGER, number TEXT, raw_contact_id INTEGER, display_name TEXT, phone_type INTEGER, phone_label TEXT, photo_ts INTEGER, thumb_ts INTEGER, photo_id_timestamp INTEGER, given_name TEXT, family_name TEXT, wa_name TEXT, sort_name TEXT, nickname TEXT, company TEXT, title TEXT, status_autodownload_disabled INTEGER, keep_timestamp INTEGER, is_spam_reported INTEGER, is_sidelist_synced BOOLEAN DEFAULT 0, is_business_synced BOOLEAN DEFAULT 0, disappearing_mode_duration INTEGER, disappearing_mode_timestamp LONG, history_sync_initial_phash TEXT, is_starred BOOLEAN, is_wa_created_contact BOOLEAN, sync_policy INTEGER, status_emoji TEXT, is_contact_synced INTEGER, is_reachable INTEGER, external_user_state INTEGER, disappearing_mode_support_disabled INTEGER);
"""

# cache4.db: Telegram for Android MessagesStorage.createTables() (DrKLO/Telegram, LAST_DB_VERSION 175).
CACHE4_SCHEMA = """
CREATE TABLE messages_v2(mid INTEGER, uid INTEGER, read_state INTEGER, send_state INTEGER, date INTEGER, data BLOB, out INTEGER, ttl INTEGER, media INTEGER, replydata BLOB, imp INTEGER, mention INTEGER, forwards INTEGER, replies_data BLOB, thread_reply_id INTEGER, is_channel INTEGER, reply_to_message_id INTEGER, custom_params BLOB, group_id INTEGER, reply_to_story_id INTEGER, PRIMARY KEY(mid, uid));
CREATE TABLE dialogs(did INTEGER PRIMARY KEY, date INTEGER, unread_count INTEGER, last_mid INTEGER, inbox_max INTEGER, outbox_max INTEGER, last_mid_i INTEGER, unread_count_i INTEGER, pts INTEGER, date_i INTEGER, pinned INTEGER, flags INTEGER, folder_id INTEGER, data BLOB, unread_reactions INTEGER, last_mid_group INTEGER, ttl_period INTEGER, unread_poll_votes INTEGER);
CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB);
CREATE TABLE chats(uid INTEGER PRIMARY KEY, name TEXT, data BLOB);
"""


# --- building databases -------------------------------------------------------------------------

def database(target: Path, schema: str, rows: Callable[[sqlite3.Connection], None],
             deleted: Callable[[sqlite3.Connection], None] | None = None,
             wal_only: Callable[[sqlite3.Connection], None] | None = None) -> Path:
    """Build `target` (and its `-wal` when `wal_only` adds rows after the last checkpoint), as a phone
    leaves it: WAL mode, secure_delete off so `deleted` rows stay in free space. Built in a private
    folder and copied, so the build's `-shm` never reaches the extraction."""
    work = Path(tempfile.mkdtemp(prefix="dalil-fixture-"))
    try:
        conn = sqlite3.connect(work / target.name)
        conn.create_collation("PHONEBOOK", lambda a, b: (a > b) - (a < b))
        conn.execute("PRAGMA secure_delete = OFF")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.executescript(schema)
        rows(conn)
        conn.commit()
        if deleted is not None:
            deleted(conn)
            conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if wal_only is not None:
            wal_only(conn)
            conn.commit()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / target.name, target)
        wal = work / (target.name + "-wal")
        if wal_only is not None and wal.exists() and wal.stat().st_size:
            shutil.copyfile(wal, target.with_name(target.name + "-wal"))
        conn.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def insert(conn: sqlite3.Connection, table: str, rows: list[dict[str, object]]) -> None:
    for row in rows:
        conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                     tuple(row.values()))


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
