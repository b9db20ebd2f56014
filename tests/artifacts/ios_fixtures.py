"""iOS databases built for the tests with the apps' real schemas (each schema names its public
source), for what the shared test data lacks: an sms.db of iOS 16+ (nanosecond dates, text only in
`attributedBody`, in Arabic), CallHistory.storedata, Photos.sqlite, a WhatsApp group with a LID
sender. Shared files are copied, never opened in place (phone/README.md)."""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

COCOA = 978307200

# --- sms.db ---------------------------------------------------------------------------------------
# Apple Messages, as `sqlite3 ~/Library/Messages/chat.db .schema` prints it on a current macOS (the
# same schema as iOS 16+ sms.db): the dump at the end of kch/imsg-grep messages.rb. Tables used here.
SMS_SCHEMA = """
CREATE TABLE deleted_messages (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, guid TEXT NOT NULL);
CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT, UNIQUE (id, service) );
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, message_date INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id));
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT, account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER, is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0, is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0, is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0, has_dd_results INTEGER DEFAULT 0, is_service_message INTEGER DEFAULT 0, is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0, is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, cache_roomnames TEXT, was_data_detected INTEGER DEFAULT 0, was_deduplicated INTEGER DEFAULT 0, is_audio_message INTEGER DEFAULT 0, is_played INTEGER DEFAULT 0, date_played INTEGER, item_type INTEGER DEFAULT 0, other_handle INTEGER DEFAULT 0, group_title TEXT, group_action_type INTEGER DEFAULT 0, share_status INTEGER DEFAULT 0, share_direction INTEGER DEFAULT 0, is_expirable INTEGER DEFAULT 0, expire_state INTEGER DEFAULT 0, message_action_type INTEGER DEFAULT 0, message_source INTEGER DEFAULT 0, associated_message_guid TEXT, associated_message_type INTEGER DEFAULT 0, balloon_bundle_id TEXT, payload_data BLOB, expressive_send_style_id TEXT, associated_message_range_location INTEGER DEFAULT 0, associated_message_range_length INTEGER DEFAULT 0, time_expressive_send_played INTEGER, message_summary_info BLOB, ck_sync_state INTEGER DEFAULT 0, ck_record_id TEXT, ck_record_change_tag TEXT, destination_caller_id TEXT, is_corrupt INTEGER DEFAULT 0, reply_to_guid TEXT, sort_id INTEGER, is_spam INTEGER DEFAULT 0, has_unseen_mention INTEGER DEFAULT 0, thread_originator_guid TEXT, thread_originator_part TEXT, syndication_ranges TEXT, synced_syndication_ranges TEXT, was_delivered_quietly INTEGER DEFAULT 0, did_notify_recipient INTEGER DEFAULT 0, date_retracted INTEGER DEFAULT 0, date_edited INTEGER DEFAULT 0, was_detonated INTEGER DEFAULT 0, part_count INTEGER, is_stewie INTEGER DEFAULT 0, is_sos INTEGER DEFAULT 0, is_critical INTEGER DEFAULT 0, bia_reference_id TEXT DEFAULT NULL, is_kt_verified INTEGER DEFAULT 0, fallback_hash TEXT DEFAULT NULL, associated_message_emoji TEXT DEFAULT NULL, is_pending_satellite_send INTEGER DEFAULT 0, needs_relay INTEGER DEFAULT 0, schedule_type INTEGER DEFAULT 0, schedule_state INTEGER DEFAULT 0, sent_or_received_off_grid INTEGER DEFAULT 0, date_recovered INTEGER DEFAULT 0);
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT, account_login TEXT, is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT, group_id TEXT, is_filtered INTEGER DEFAULT 0, successful_query INTEGER, engram_id TEXT, server_change_token TEXT, ck_sync_state INTEGER DEFAULT 0, original_group_id TEXT, last_read_message_timestamp INTEGER DEFAULT 0, cloudkit_record_id TEXT, last_addressed_sim_id TEXT, is_blackholed INTEGER DEFAULT 0, syndication_date INTEGER DEFAULT 0, syndication_type INTEGER DEFAULT 0, is_recovered INTEGER DEFAULT 0, is_deleting_incoming_messages INTEGER DEFAULT 0);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0, is_sticker INTEGER DEFAULT 0, sticker_user_info BLOB, attribution_info BLOB, hide_attachment INTEGER DEFAULT 0, ck_sync_state INTEGER DEFAULT 0, ck_server_change_token_blob BLOB, ck_record_id TEXT, original_guid TEXT UNIQUE NOT NULL, is_commsafety_sensitive INTEGER DEFAULT 0, emoji_image_content_identifier TEXT DEFAULT NULL, emoji_image_short_description TEXT DEFAULT NULL, preview_generation_state INTEGER DEFAULT 0);
CREATE TABLE chat_recoverable_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, delete_date INTEGER, ck_sync_state INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id), CHECK (delete_date != 0));
"""

SMS_ARABIC = "القارب يغادر من زوارة الساعة ٣ فجراً، الدفع ٢٠٠٠ دينار"
SMS_ATTACHMENT = b"\xff\xd8\xff\xe0 not really a photo, but bytes to hash"


def _ts_int(value: int) -> bytes:
    """A typedstream integer: one byte, or the 2-byte tag and value (little-endian)."""
    return bytes([value]) if value < 0x80 else b"\x81" + struct.pack("<H", value)


def attributed_body(text: str) -> bytes:
    """An NSAttributedString archived as Messages writes it: the same bytes as the real blobs of
    plaso's imessage_chat.db (one run, one __kIMMessagePartAttributeName = 0 attribute), with `text`."""
    utf8 = text.encode("utf-8")
    utf16_units = len(text.encode("utf-16-le")) // 2
    return (b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x19NSMutableAttributedString\x00"
            b"\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject\x00\x85\x92\x84\x84\x84\x0fNSMutableString"
            b"\x01\x84\x84\x08NSString\x01\x95\x84\x01+" + _ts_int(len(utf8)) + utf8 +
            b"\x86\x84\x02iI\x01" + _ts_int(utf16_units) +
            b"\x92\x84\x84\x84\x0cNSDictionary\x00\x95\x84\x01i\x01\x92\x84\x98\x98\x1d__kIMMessagePartAttributeName"
            b"\x86\x92\x84\x84\x84\x08NSNumber\x00\x84\x84\x07NSValue\x00\x95\x84\x01*\x84\x9b\x9b\x00\x86\x86\x86")


def nanos(iso_seconds: int, fraction_ns: int = 0) -> int:
    """Cocoa nanoseconds (iOS 11+ message dates) for a Unix second and a nanosecond fraction."""
    return (iso_seconds - COCOA) * 1_000_000_000 + fraction_ns


def sms_db(root: Path) -> Path:
    """An iOS 16+ sms.db under root/private/var/mobile/Library/SMS, with one attachment file."""
    folder = root / "private/var/mobile/Library/SMS"
    folder.mkdir(parents=True)
    db = sqlite3.connect(folder / "sms.db")
    db.executescript(SMS_SCHEMA)
    db.executemany("INSERT INTO handle (ROWID, id, country, service) VALUES (?,?,?,?)", [
        (1, "0912345678", "ly", "SMS"), (2, "smuggler.x@icloud.com", "ly", "iMessage"), (3, "+33612345678", "fr",
                                                                                         "iMessage")])
    db.executemany("INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name, display_name) "
                   "VALUES (?,?,?,?,?,?)", [
                       (1, "SMS;-;+218912345678", 45, "+218912345678", "SMS", None),
                       (2, "iMessage;+;chat4711", 43, "chat4711", "iMessage", "رحلة الجمعة")])
    db.executemany("INSERT INTO chat_handle_join VALUES (?,?)", [(1, 1), (2, 2), (2, 3)])
    messages = [
        # ROWID, guid, text, attributedBody, handle, service, date (ns), is_from_me, account
        (1, "G-1", None, attributed_body(SMS_ARABIC), 1, "SMS", nanos(1685581323, 123456789), 0, "p:+218910000001"),
        (2, "G-2", "\ufffc", attributed_body("\ufffc"), 0, "iMessage", nanos(1685581400), 1, "e:owner@icloud.com"),
        (3, "G-3", "OK, tomorrow", None, 2, "iMessage", nanos(1685581500, 500000000), 0, "e:owner@icloud.com"),
        (4, "G-4", None, b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84", 3, "iMessage", nanos(1685581600), 0, None),
    ]
    db.executemany("INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, service, date, is_from_me, "
                   "account) VALUES (?,?,?,?,?,?,?,?,?)", messages)
    db.executemany("INSERT INTO chat_message_join (chat_id, message_id) VALUES (?,?)", [(1, 1), (2, 2), (2, 3),
                                                                                         (2, 4)])
    guid = "8E1A2F3C-0000-4000-8000-00000000ABCD"
    db.execute("INSERT INTO attachment (ROWID, guid, filename, mime_type, transfer_name, total_bytes, original_guid) "
               "VALUES (1, ?, ?, 'image/jpeg', 'IMG_0001.JPG', ?, ?)",
               (guid, f"~/Library/SMS/Attachments/cd/13/{guid}/IMG_0001.JPG", len(SMS_ATTACHMENT), guid))
    db.execute("INSERT INTO message_attachment_join VALUES (2, 1)")
    db.execute("INSERT INTO chat_recoverable_message_join (chat_id, message_id, delete_date) VALUES (2, 3, ?)",
               (nanos(1685600000),))
    db.executemany("INSERT INTO deleted_messages (guid) VALUES (?)", [("G-old-1",), ("G-old-2",)])
    db.commit()
    db.close()
    attachment = folder / f"Attachments/cd/13/{guid}/IMG_0001.JPG"
    attachment.parent.mkdir(parents=True)
    attachment.write_bytes(SMS_ATTACHMENT)
    return folder / "sms.db"


# --- CallHistory.storedata ------------------------------------------------------------------------
# iOS 11.2 CallHistory.storedata: richinfante/iphonebackuptools schemas/calls/calls_11.2.sql.
CALLS_SCHEMA = """
CREATE TABLE ZCALLDBPROPERTIES ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZTIMER_ALL FLOAT, ZTIMER_INCOMING FLOAT, ZTIMER_LAST FLOAT, ZTIMER_LIFETIME FLOAT, ZTIMER_OUTGOING FLOAT );
CREATE TABLE ZCALLRECORD ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZANSWERED INTEGER, ZCALL_CATEGORY INTEGER, ZCALLTYPE INTEGER, ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA INTEGER, ZHANDLE_TYPE INTEGER, ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER, ZREAD INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZDEVICE_ID VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR, ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR UNIQUE, ZADDRESS BLOB );
CREATE INDEX Z_CallRecord_date ON ZCALLRECORD (ZDATE COLLATE BINARY ASC);
CREATE TABLE Z_PRIMARYKEY ( Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER );
CREATE TABLE Z_METADATA ( Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB );
CREATE TABLE Z_MODELCACHE (Z_CONTENT BLOB);
"""


def callhistory_db(root: Path) -> Path:
    """CallHistory.storedata: an outgoing call (number as a BLOB, in national form, Libya), a missed
    call (text), a FaceTime video call by Apple ID and a WhatsApp call recorded through CallKit."""
    folder = root / "private/var/mobile/Library/CallHistoryDB"
    folder.mkdir(parents=True)
    db = sqlite3.connect(folder / "CallHistory.storedata")
    db.executescript(CALLS_SCHEMA)
    rows = [
        # Z_PK, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, ZDURATION, ZISO_COUNTRY_CODE, ZNAME, ZSERVICE_PROVIDER, ZADDRESS
        (1, 1, 1, 1, 700000000.25, 125.75, "ly", None, "com.apple.Telephony", b"0912345678"),
        (2, 0, 1, 0, 700000600.0, 0.0, "fr", "Passeur", "com.apple.Telephony", "06 12 34 56 78"),
        (3, 1, 8, 0, 700001200.5, 61.0, None, None, "com.apple.FaceTime", b"Smuggler.X@icloud.com"),
        (4, 1, 0, 1, 700001800.0, 30.0, None, None, "net.whatsapp.WhatsApp", "+218 91 765 4321"),
    ]
    db.executemany("INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZORIGINATED, ZDATE, ZDURATION, "
                   "ZISO_COUNTRY_CODE, ZNAME, ZSERVICE_PROVIDER, ZADDRESS) VALUES (?,2,1,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()
    return folder / "CallHistory.storedata"


# --- Photos.sqlite --------------------------------------------------------------------------------
# iOS 11.2 Photos.sqlite: richinfante/iphonebackuptools schemas/photos/photos_11.2.sql (ZGENERICASSET and
# ZADDITIONALASSETATTRIBUTES, the columns in the order there). iOS 14 renamed the table ZASSET
# (iLEAPP's Ph005HasLocations queries ZASSET from iOS 14 with the same place and file columns).
GENERICASSET_COLUMNS = """Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZAVALANCHEPICKTYPE INTEGER, ZCLOUDDOWNLOADREQUESTS INTEGER, ZCLOUDHASCOMMENTSBYME INTEGER, ZCLOUDHASCOMMENTSCONVERSATION INTEGER, ZCLOUDHASUNSEENCOMMENTS INTEGER, ZCLOUDISDELETABLE INTEGER, ZCLOUDISMYASSET INTEGER, ZCLOUDLOCALSTATE INTEGER, ZCLOUDPLACEHOLDERKIND INTEGER, ZCOMPLETE INTEGER, ZCUSTOMRENDEREDVALUE INTEGER, ZDEPTHSTATES INTEGER, ZFACEAREAPOINTS INTEGER, ZFAVORITE INTEGER, ZGROUPINGSTATE INTEGER, ZHASADJUSTMENTS INTEGER, ZHEIGHT INTEGER, ZHIDDEN INTEGER, ZKIND INTEGER, ZKINDSUBTYPE INTEGER, ZLOCALRESOURCESSTATE INTEGER, ZORIENTATION INTEGER, ZPLAYBACKSTYLE INTEGER, ZPLAYBACKVARIATION INTEGER, ZSAVEDASSETTYPE INTEGER, ZTHUMBNAILINDEX INTEGER, ZTRASHEDSTATE INTEGER, ZVIDEOCPDURATIONVALUE INTEGER, ZVIDEOCPVISIBILITYSTATE INTEGER, ZVISIBILITYSTATE INTEGER, ZWIDTH INTEGER, ZADDITIONALATTRIBUTES INTEGER, ZCLOUDFEEDASSETSENTRY INTEGER, ZMASTER INTEGER, ZMOMENT INTEGER, ZSEARCHDATA INTEGER, Z_FOK_CLOUDFEEDASSETSENTRY INTEGER, Z_FOK_MOMENT INTEGER, ZADDEDDATE TIMESTAMP, ZADJUSTMENTTIMESTAMP TIMESTAMP, ZCLOUDBATCHPUBLISHDATE TIMESTAMP, ZCLOUDLASTVIEWEDCOMMENTDATE TIMESTAMP, ZCLOUDSERVERPUBLISHDATE TIMESTAMP, ZCURATIONSCORE FLOAT, ZDATECREATED TIMESTAMP, ZDURATION FLOAT, ZFACEADJUSTMENTVERSION TIMESTAMP, ZLASTSHAREDDATE TIMESTAMP, ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZMODIFICATIONDATE TIMESTAMP, ZSORTTOKEN FLOAT, ZTRASHEDDATE TIMESTAMP, ZAVALANCHEUUID VARCHAR, ZCLOUDASSETGUID VARCHAR, ZCLOUDBATCHID VARCHAR, ZCLOUDCOLLECTIONGUID VARCHAR, ZCLOUDOWNERHASHEDPERSONID VARCHAR, ZDIRECTORY VARCHAR, ZFILENAME VARCHAR, ZGROUPINGUUID VARCHAR, ZMEDIAGROUPUUID VARCHAR, ZORIGINALCOLORSPACE VARCHAR, ZUNIFORMTYPEIDENTIFIER VARCHAR, ZUUID VARCHAR, ZLOCATIONDATA BLOB, ZIMAGEURLDATA BLOB, ZTHUMBNAILURLDATA BLOB, ZWALLPAPEROPTIONSDATA BLOB"""
ADDITIONAL_ATTRIBUTES = """CREATE TABLE ZADDITIONALASSETATTRIBUTES ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZALLOWEDFORANALYSIS INTEGER, ZCAMERACAPTUREDEVICE INTEGER, ZCLOUDAVALANCHEPICKTYPE INTEGER, ZCLOUDGROUPINGSTATE INTEGER, ZCLOUDKINDSUBTYPE INTEGER, ZCLOUDRECOVERYSTATE INTEGER, ZCLOUDSTATERECOVERYATTEMPTSCOUNT INTEGER, ZEMBEDDEDTHUMBNAILHEIGHT INTEGER, ZEMBEDDEDTHUMBNAILLENGTH INTEGER, ZEMBEDDEDTHUMBNAILOFFSET INTEGER, ZEMBEDDEDTHUMBNAILWIDTH INTEGER, ZEXTERNALUSAGEINTENT INTEGER, ZIMPORTEDBY INTEGER, ZLOCATIONHASH INTEGER, ZORIGINALFILESIZE INTEGER, ZORIGINALHEIGHT INTEGER, ZORIGINALORIENTATION INTEGER, ZORIGINALRESOURCECHOICE INTEGER, ZORIGINALWIDTH INTEGER, ZPENDINGPLAYCOUNT INTEGER, ZPENDINGSHARECOUNT INTEGER, ZPENDINGVIEWCOUNT INTEGER, ZPLAYCOUNT INTEGER, ZPTPTRASHEDSTATE INTEGER, ZREVERSELOCATIONDATAISVALID INTEGER, ZSCENEANALYSISVERSION INTEGER, ZSHARECOUNT INTEGER, ZSHIFTEDLOCATIONISVALID INTEGER, ZTIMEZONEOFFSET INTEGER, ZUPLOADATTEMPTS INTEGER, ZVARIATIONSUGGESTIONSTATES INTEGER, ZVIDEOCPDISPLAYTIMESCALE INTEGER, ZVIDEOCPDISPLAYVALUE INTEGER, ZVIDEOCPDURATIONTIMESCALE INTEGER, ZVIEWCOUNT INTEGER, ZASSET INTEGER, Z27_ASSET INTEGER, ZASSETDESCRIPTION INTEGER, ZUNMANAGEDADJUSTMENT INTEGER, ZLASTUPLOADATTEMPTDATE TIMESTAMP, ZSCENEANALYSISTIMESTAMP TIMESTAMP, ZADJUSTEDFINGERPRINT VARCHAR, ZCREATORBUNDLEID VARCHAR, ZCUSTOMCOLLECTIONNAME VARCHAR, ZCUSTOMCOLLECTIONUUID VARCHAR, ZCUSTOMMOMENTNAME VARCHAR, ZCUSTOMMOMENTUUID VARCHAR, ZEDITORBUNDLEID VARCHAR, ZEXIFTIMESTAMPSTRING VARCHAR, ZIMPORTSESSIONID VARCHAR, ZMASTERFINGERPRINT VARCHAR, ZMONTAGE VARCHAR, ZORIGINALASSETSUUID VARCHAR, ZORIGINALFILENAME VARCHAR, ZORIGINATINGASSETIDENTIFIER VARCHAR, ZPUBLICGLOBALUUID VARCHAR, ZTIMEZONENAME VARCHAR, ZTITLE VARCHAR, ZDISTANCEIDENTITY BLOB, ZFACEREGIONS BLOB, ZORIGINALHASH BLOB, ZPLACEANNOTATIONDATA BLOB, ZREVERSELOCATIONDATA BLOB, ZSHIFTEDLOCATIONDATA BLOB );"""


def photos_db(root: Path, table: str = "ZASSET") -> Path:
    """Photos.sqlite with three assets: one taken in Zuwara (with an original file name), one without
    a place (-180.0), and one in "Recently Deleted" taken at sea."""
    folder = root / "private/var/mobile/Media/PhotoData"
    folder.mkdir(parents=True)
    db = sqlite3.connect(folder / "Photos.sqlite")
    db.executescript(f"CREATE TABLE {table} ( {GENERICASSET_COLUMNS} );\n{ADDITIONAL_ATTRIBUTES}")
    rows = [
        # Z_PK, ZKIND, ZTRASHEDSTATE, ZADDITIONALATTRIBUTES, ZDATECREATED, ZLATITUDE, ZLONGITUDE, ZDIRECTORY,
        # ZFILENAME, ZUUID, ZTRASHEDDATE
        (1, 0, 0, 11, 707000000.5, 32.9312, 12.0819, "DCIM/100APPLE", "IMG_0001.HEIC", "A1", None),
        (2, 0, 0, None, 707000100.0, -180.0, -180.0, "DCIM/100APPLE", "IMG_0002.HEIC", "A2", None),
        (3, 1, 1, None, 707003600.0, 33.5, 12.25, "DCIM/100APPLE", "IMG_0003.MOV", "A3", 707100000.0),
    ]
    db.executemany(f"INSERT INTO {table} (Z_PK, ZKIND, ZTRASHEDSTATE, ZADDITIONALATTRIBUTES, ZDATECREATED, ZLATITUDE, "
                   f"ZLONGITUDE, ZDIRECTORY, ZFILENAME, ZUUID, ZTRASHEDDATE) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.execute("INSERT INTO ZADDITIONALASSETATTRIBUTES (Z_PK, ZASSET, ZORIGINALFILENAME) VALUES (11, 1, "
               "'WhatsApp Image 2023-05-28.jpeg')")
    db.commit()
    db.close()
    return folder / "Photos.sqlite"


# --- WhatsApp ChatStorage.sqlite ------------------------------------------------------------------
# WhatsApp iOS ChatStorage.sqlite tables as in iLEAPP's josh_ios15_ffs test slice (MIT), i.e. the
# ChatStorage.sqlite of Josh Hickman's public iOS 15.3.1 image.
WHATSAPP_SCHEMA = """
CREATE TABLE ZWAMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCHILDMESSAGESDELIVEREDCOUNT INTEGER, ZCHILDMESSAGESPLAYEDCOUNT INTEGER, ZCHILDMESSAGESREADCOUNT INTEGER, ZDATAITEMVERSION INTEGER, ZDOCID INTEGER, ZENCRETRYCOUNT INTEGER, ZFILTEREDRECIPIENTCOUNT INTEGER, ZFLAGS INTEGER, ZGROUPEVENTTYPE INTEGER, ZISFROMME INTEGER, ZMESSAGEERRORSTATUS INTEGER, ZMESSAGESTATUS INTEGER, ZMESSAGETYPE INTEGER, ZSORT INTEGER, ZSPOTLIGHTSTATUS INTEGER, ZSTARRED INTEGER, ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZLASTSESSION INTEGER, ZMEDIAITEM INTEGER, ZMESSAGEINFO INTEGER, ZPARENTMESSAGE INTEGER, ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR, ZMEDIASECTIONID VARCHAR, ZPHASH VARCHAR, ZPUSHNAME VARCHAR, ZSTANZAID VARCHAR, ZTEXT VARCHAR, ZTOJID VARCHAR );
CREATE TABLE ZWACHATSESSION ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZARCHIVED INTEGER, ZCONTACTABID INTEGER, ZFLAGS INTEGER, ZHIDDEN INTEGER, ZIDENTITYVERIFICATIONEPOCH INTEGER, ZIDENTITYVERIFICATIONSTATE INTEGER, ZMESSAGECOUNTER INTEGER, ZREMOVED INTEGER, ZSESSIONTYPE INTEGER, ZSPOTLIGHTSTATUS INTEGER, ZUNREADCOUNT INTEGER, ZGROUPINFO INTEGER, ZLASTMESSAGE INTEGER, ZPROPERTIES INTEGER, ZLASTMESSAGEDATE TIMESTAMP, ZLOCATIONSHARINGENDDATE TIMESTAMP, ZCONTACTIDENTIFIER VARCHAR, ZCONTACTJID VARCHAR, ZETAG VARCHAR, ZLASTMESSAGETEXT VARCHAR, ZPARTNERNAME VARCHAR, ZSAVEDINPUT VARCHAR );
CREATE TABLE ZWAGROUPMEMBER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACTABID INTEGER, ZISACTIVE INTEGER, ZISADMIN INTEGER, ZSENDERKEYSENT INTEGER, ZCHATSESSION INTEGER, ZRECENTGROUPCHAT INTEGER, ZCONTACTIDENTIFIER VARCHAR, ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR, ZMEMBERJID VARCHAR );
CREATE TABLE ZWAMEDIAITEM ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCLOUDSTATUS INTEGER, ZFILESIZE INTEGER, ZMEDIAORIGIN INTEGER, ZMOVIEDURATION INTEGER, ZMESSAGE INTEGER, ZASPECTRATIO FLOAT, ZHACCURACY FLOAT, ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZMEDIAURLDATE TIMESTAMP, ZAUTHORNAME VARCHAR, ZCOLLECTIONNAME VARCHAR, ZMEDIALOCALPATH VARCHAR, ZMEDIAURL VARCHAR, ZTHUMBNAILLOCALPATH VARCHAR, ZTITLE VARCHAR, ZVCARDNAME VARCHAR, ZVCARDSTRING VARCHAR, ZXMPPTHUMBPATH VARCHAR, ZMEDIAKEY BLOB, ZMETADATA BLOB );
CREATE TABLE ZWAPROFILEPUSHNAME ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZJID VARCHAR, ZPUSHNAME VARCHAR );
"""
LID = "205690463334636"


def whatsapp_db(root: Path) -> Path:
    """ChatStorage.sqlite (in an iTunes-backup domain folder) with a group whose member writes under
    a LID, with a push name, and sends a location; and a one-to-one chat with a Libyan number
    (the chat names him "Driver")."""
    folder = root / "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"
    folder.mkdir(parents=True)
    db = sqlite3.connect(folder / "ChatStorage.sqlite")
    db.executescript(WHATSAPP_SCHEMA)
    db.executemany("INSERT INTO ZWACHATSESSION (Z_PK, ZSESSIONTYPE, ZCONTACTJID, ZPARTNERNAME) VALUES (?,?,?,?)",
                   [(1, 1, "120363000000000001@g.us", "رحلة زوارة"), (2, 0, "218912345678@s.whatsapp.net", "Driver")])
    db.execute("INSERT INTO ZWAGROUPMEMBER (Z_PK, ZCHATSESSION, ZMEMBERJID) VALUES (1, 1, ?)", (f"{LID}@lid",))
    db.execute("INSERT INTO ZWAPROFILEPUSHNAME (Z_PK, ZJID, ZPUSHNAME) VALUES (1, ?, 'Abu Salem')", (f"{LID}@lid",))
    rows = [
        # Z_PK, ZISFROMME, ZMESSAGETYPE, ZCHATSESSION, ZGROUPMEMBER, ZMESSAGEDATE, ZFROMJID, ZTOJID, ZTEXT
        (1, 0, 0, 1, 1, 707000000.0, "120363000000000001@g.us", None, "الانطلاق الليلة"),
        (2, 0, 5, 1, 1, 707000060.0, "120363000000000001@g.us", None, None),
        (3, 1, 0, 2, None, 707000120.0, None, "218912345678@s.whatsapp.net", "كم السعر؟"),
        (4, 0, 0, 2, None, 707000180.0, "218912345678@s.whatsapp.net", None, "٢٠٠٠ دينار"),
    ]
    db.executemany("INSERT INTO ZWAMESSAGE (Z_PK, ZISFROMME, ZMESSAGETYPE, ZCHATSESSION, ZGROUPMEMBER, ZMESSAGEDATE, "
                   "ZFROMJID, ZTOJID, ZTEXT) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    db.execute("INSERT INTO ZWAMEDIAITEM (Z_PK, ZMESSAGE, ZLATITUDE, ZLONGITUDE, ZTITLE) VALUES "
               "(1, 2, 32.9312, 12.0819, 'Zuwara beach')")
    db.execute("UPDATE ZWAMESSAGE SET ZMEDIAITEM = 1 WHERE Z_PK = 2")
    db.commit()
    db.close()
    return folder / "ChatStorage.sqlite"


# WhatsApp iOS ContactsV2.sqlite, ZWAADDRESSBOOKCONTACT as in iLEAPP's josh_ios15_ffs test slice (MIT).
WHATSAPP_CONTACTS_SCHEMA = """
CREATE TABLE ZWAADDRESSBOOKCONTACT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDISAPPEARINGMODEDURATION INTEGER, ZPHONESTATUS INTEGER, ZSECTIONSORT INTEGER, ZSORT INTEGER, ZSPOTLIGHTSTATUS INTEGER, ZABOUTTIMESTAMP TIMESTAMP, ZDISAPPEARINGMODETIMESTAMP TIMESTAMP, ZABOUTTEXT VARCHAR, ZFULLNAME VARCHAR, ZGIVENNAME VARCHAR, ZHIGHLIGHTEDNAME VARCHAR, ZIDENTIFIER VARCHAR, ZLOCALIZEDPHONENUMBER VARCHAR, ZPHONENUMBER VARCHAR, ZPHONENUMBERLABEL VARCHAR, ZSEARCHTOKENLIST VARCHAR, ZSECTIONTITLE VARCHAR, ZWHATSAPPID VARCHAR, ZDEVICELIST BLOB );
"""


def whatsapp_contacts_db(folder: Path) -> Path:
    """ContactsV2.sqlite in `folder`: the one-to-one partner as the phone's address book names him."""
    db = sqlite3.connect(folder / "ContactsV2.sqlite")
    db.executescript(WHATSAPP_CONTACTS_SCHEMA)
    db.execute("INSERT INTO ZWAADDRESSBOOKCONTACT (Z_PK, ZFULLNAME, ZPHONENUMBER, ZPHONENUMBERLABEL, ZWHATSAPPID) "
               "VALUES (1, 'السائق أبو علي', '091-234-5678', '_$!<Mobile>!$_', '218912345678@s.whatsapp.net')")
    db.commit()
    db.close()
    return folder / "ContactsV2.sqlite"


# --- com.apple.wifi.plist before iOS 16 ---------------------------------------------------------
# Keys as Richard Infante's "Reverse Engineering the iOS Backup" (richinfante.com, 2017) describes the
# plist: "List of known networks", each with SSID_STR, BSSID, lastJoined, lastAutoJoined,
# SecurityMode, HIDDEN_NETWORK and networkKnownBSSListKey (CHANNEL, BSSID, lastRoamed).
def legacy_wifi_plist(root: Path) -> Path:
    import datetime as dt
    import plistlib

    folder = root / "SystemPreferencesDomain/SystemConfiguration"
    folder.mkdir(parents=True)
    network = {"SSID_STR": "Zuwara-Port", "BSSID": "a:b:c:d:e:f", "SecurityMode": "WPA2 Personal",
               "HIDDEN_NETWORK": False, "lastJoined": dt.datetime(2023, 5, 28, 20, 0, 0, 250000),
               "lastAutoJoined": dt.datetime(2023, 5, 29, 1, 30, 0),
               "networkKnownBSSListKey": [{"BSSID": "a:b:c:d:e:f", "CHANNEL": 6,
                                           "lastRoamed": dt.datetime(2023, 5, 29, 1, 30, 0)}]}
    (folder / "com.apple.wifi.plist").write_bytes(plistlib.dumps({"List of known networks": [network]},
                                                                 fmt=plistlib.FMT_BINARY))
    return folder / "com.apple.wifi.plist"


# --- shared files ---------------------------------------------------------------------------------
def place(source: Path, target: Path) -> Path:
    """Copy a shared database (with its -wal, if any) to `target`; the shared file is never opened."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + "-wal"))
    return target
