"""Builds iTunes/Finder backups (iOS 10.2+ layout) for the tests, plain or encrypted as iOS encrypts them.

A backup folder: `Manifest.db` (table `Files`: fileID = SHA-1 of `<domain>-<relativePath>`, domain,
relativePath, flags 1 file / 2 directory / 4 symbolic link, `file` = an NSKeyedArchiver binary
plist of class MBFile), `Manifest.plist`, `Info.plist`, `Status.plist`, and each file's content at
`<fileID[:2]>/<fileID>`.

Encrypted the way iOS does it, written independently of the library Dalil reads them with: a
keybag (TLV: VERS, TYPE, UUID, HMCK, WRAP, SALT, ITER, DPWT, DPIC, DPSL, then per protection class
UUID, CLAS, WRAP, KTYP, WPKY) whose class keys are wrapped (RFC 3394) with
PBKDF2-SHA1(PBKDF2-SHA256(password, DPSL, DPIC), SALT, ITER); each file's own random key wrapped
with its class key and kept in its MBFile's EncryptionKey (4 bytes class, little-endian, then the
wrapped key); the content AES-256-CBC with a zero IV and PKCS#7 padding; Manifest.db encrypted the
same way under ManifestKey (class 3).
"""

from __future__ import annotations

import hashlib
import os
import plistlib
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

ITER = 10_000          # what iOS writes
DPIC = 10_000_000      # what iOS writes (PBKDF2-SHA256 rounds)
CLASSES = range(1, 12)
MANIFEST_CLASS = 3


@dataclass
class Item:
    """One Manifest row: a file (content), a directory (content None) or a symbolic link (target)."""

    domain: str
    path: str
    content: bytes | None = None
    target: str | None = None
    mtime: int = 1_700_000_000
    mode: int | None = None
    protection: int = 3
    inode: int = 1000

    @property
    def flags(self) -> int:
        return 4 if self.target is not None else (1 if self.content is not None else 2)

    @property
    def file_id(self) -> str:
        return hashlib.sha1(f"{self.domain}-{self.path}".encode()).hexdigest()

    @property
    def phone_path(self) -> str:
        return f"/{self.domain}/{self.path}" if self.path else f"/{self.domain}"


def _tlv(tag: bytes, value: bytes | int) -> bytes:
    data = struct.pack(">L", value) if isinstance(value, int) else value
    return tag + struct.pack(">L", len(data)) + data


def _encrypt(key: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(b"\0" * 16)).encryptor()
    return enc.update(padded) + enc.finalize()


class Keybag:
    """A backup keybag with random class keys, wrapped under the password."""

    def __init__(self, password: str, dpic: int = DPIC, iterations: int = ITER) -> None:
        self.salt, self.dpsl = os.urandom(20), os.urandom(20)
        self.dpic, self.iterations = dpic, iterations
        round1 = hashlib.pbkdf2_hmac("sha256", password.encode(), self.dpsl, dpic, 32)
        self.passphrase_key = hashlib.pbkdf2_hmac("sha1", round1, self.salt, iterations, 32)
        self.class_keys = {c: os.urandom(32) for c in CLASSES}

    def blob(self) -> bytes:
        out = (_tlv(b"VERS", 4) + _tlv(b"TYPE", 1) + _tlv(b"UUID", os.urandom(16)) + _tlv(b"HMCK", os.urandom(40))
               + _tlv(b"WRAP", 0) + _tlv(b"SALT", self.salt) + _tlv(b"ITER", self.iterations) + _tlv(b"DPWT", 1)
               + _tlv(b"DPIC", self.dpic) + _tlv(b"DPSL", self.dpsl))
        for c, key in self.class_keys.items():
            out += (_tlv(b"UUID", os.urandom(16)) + _tlv(b"CLAS", c) + _tlv(b"WRAP", 2) + _tlv(b"KTYP", 0)
                    + _tlv(b"WPKY", aes_key_wrap(self.passphrase_key, key)))
        return out

    def wrapped(self, protection: int, key: bytes) -> bytes:
        """A key as Manifest keeps it: class (little-endian) + wrapped key."""
        return struct.pack("<l", protection) + aes_key_wrap(self.class_keys[protection], key)


def mbfile(item: Item, size: int, encryption_key: bytes | None) -> bytes:
    """The NSKeyedArchiver plist of an MBFile, as iOS writes it in Manifest.db."""
    objects: list[object] = ["$null"]
    root: dict[str, object] = {
        "Birth": item.mtime - 100, "Flags": 0, "GroupID": 501, "InodeNumber": item.inode,
        "LastModified": item.mtime, "LastStatusChange": item.mtime + 5,
        "Mode": item.mode if item.mode is not None else {1: 0o100644, 2: 0o40755, 4: 0o120755}[item.flags],
        "ProtectionClass": item.protection, "Size": size, "UserID": 501}
    objects.append(root)
    objects.append(item.path)
    root["RelativePath"] = plistlib.UID(2)
    if item.target is not None:
        objects.append(item.target)
        root["Target"] = plistlib.UID(len(objects) - 1)
    if encryption_key is not None:
        objects.append({"NS.data": encryption_key, "$class": plistlib.UID(len(objects) + 1)})
        root["EncryptionKey"] = plistlib.UID(len(objects) - 1)
        objects.append({"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]})
    objects.append({"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]})
    root["$class"] = plistlib.UID(len(objects) - 1)
    return plistlib.dumps({"$version": 100000, "$archiver": "NSKeyedArchiver", "$top": {"root": plistlib.UID(1)},
                           "$objects": objects}, fmt=plistlib.FMT_BINARY)


def build(folder: Path, items: list[Item], password: str | None = None, dpic: int = DPIC) -> Path:
    """Write a backup of `items` into the new folder `folder`; encrypted when a password is given."""
    folder.mkdir(parents=True)
    keybag = Keybag(password, dpic) if password is not None else None
    db_path = folder / "Manifest.db"
    plain_db = folder / "Manifest.db.plain" if keybag else db_path
    with sqlite3.connect(plain_db) as db:
        db.executescript("""
            CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
            CREATE INDEX FilesDomainIdx ON Files(domain);
            CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
            CREATE INDEX FilesFlagsIdx ON Files(flags);
            CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);""")
        for item in items:
            key = None
            if item.content is not None:
                stored = folder / item.file_id[:2] / item.file_id
                stored.parent.mkdir(exist_ok=True)
                if keybag is not None and item.content:
                    file_key = os.urandom(32)
                    key = keybag.wrapped(item.protection, file_key)
                    stored.write_bytes(_encrypt(file_key, item.content))
                else:
                    stored.write_bytes(item.content)
            size = len(item.content) if item.content is not None else 0
            db.execute("INSERT INTO Files VALUES (?,?,?,?,?)",
                       (item.file_id, item.domain, item.path, item.flags, mbfile(item, size, key)))
    db.close()
    manifest: dict[str, object] = {"Version": "10.0", "SystemDomainsVersion": "24.0", "WasPasscodeSet": True,
                                   "IsEncrypted": keybag is not None, "Date": _date(),
                                   "Lockdown": {"ProductVersion": "17.3", "DeviceName": "Test iPhone"}}
    if keybag is not None:
        manifest_key = os.urandom(32)
        db_path.write_bytes(_encrypt(manifest_key, plain_db.read_bytes()))
        plain_db.unlink()
        manifest["BackupKeyBag"] = keybag.blob()
        manifest["ManifestKey"] = keybag.wrapped(MANIFEST_CLASS, manifest_key)
    (folder / "Manifest.plist").write_bytes(plistlib.dumps(manifest, fmt=plistlib.FMT_BINARY))
    (folder / "Info.plist").write_bytes(plistlib.dumps({"Device Name": "Test iPhone", "Product Version": "17.3",
                                                        "Product Type": "iPhone14,5", "Last Backup Date": _date()}))
    (folder / "Status.plist").write_bytes(plistlib.dumps({"BackupState": "new", "IsFullBackup": False,
                                                          "SnapshotState": "finished", "Version": "3.3",
                                                          "Date": _date()}, fmt=plistlib.FMT_BINARY))
    return folder


def _date() -> object:
    from datetime import datetime

    return datetime(2024, 7, 1, 12, 0, 0)


def sample_items(big: int = 0) -> list[Item]:
    """A small phone: SMS and WhatsApp databases, a photo, folders, a link, an empty file, odd sizes;
    with `big`, one file of that many bytes (past the engine's 16 MiB in-memory limit it is streamed)."""
    # small, but with the tables iOS Messages and WhatsApp keep (the phone parsers read them cleanly)
    sms = _sqlite_bytes("CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT, service TEXT);"
                        "CREATE TABLE chat (ROWID INTEGER PRIMARY KEY, guid TEXT, chat_identifier TEXT);"
                        "CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER);"
                        "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER,"
                        " service TEXT, date INTEGER, is_from_me INTEGER);"
                        "INSERT INTO handle VALUES (1, '+218912345678', 'SMS');"
                        "INSERT INTO chat VALUES (1, 'SMS;-;+218912345678', '+218912345678');"
                        "INSERT INTO message VALUES (1, 'G1', 'see you at Zuwara', 1, 'SMS', 720000000, 0),"
                        " (2, 'G2', 'مرحبا', 1, 'SMS', 720000060, 1);"
                        "INSERT INTO chat_message_join VALUES (1, 1), (1, 2);")
    chats = _sqlite_bytes("CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, ZCONTACTJID VARCHAR,"
                          " ZPARTNERNAME VARCHAR);"
                          "CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCHATSESSION INTEGER, ZISFROMME INTEGER,"
                          " ZMESSAGEDATE TIMESTAMP, ZFROMJID VARCHAR, ZTEXT VARCHAR);"
                          "INSERT INTO ZWACHATSESSION VALUES (1, '218912345678@s.whatsapp.net', 'Driver');"
                          "INSERT INTO ZWAMESSAGE VALUES (1, 1, 0, 720000120, '218912345678@s.whatsapp.net',"
                          " 'the boat leaves at 2');")
    items = [
        Item("HomeDomain", ""),
        Item("HomeDomain", "Library"),
        Item("HomeDomain", "Library/SMS"),
        Item("HomeDomain", "Library/SMS/sms.db", sms, inode=2001),
        Item("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", ""),
        Item("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite", chats, inode=2002),
        Item("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.JPG", b"\xff\xd8\xff\xe0" + os.urandom(5000) + b"\xff\xd9",
             protection=2, inode=2003),
        Item("HomeDomain", "Library/Preferences/exactly16.bin", b"0123456789abcdef", inode=2004),
        Item("HomeDomain", "Library/Preferences/empty.plist", b"", inode=2005),
        Item("HomeDomain", "Library/Preferences/com.apple.link", target="/var/mobile/elsewhere", inode=2006),
        Item("HomeDomain", "Library/Notes/ملاحظة.txt", "ملاحظة".encode() * 7, protection=1, inode=2007),
    ]
    if big:
        items.append(Item("MediaDomain", "Media/Recordings/long.m4a", os.urandom(big), inode=2008))
    return items


def _sqlite_bytes(script: str) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.db"
        with sqlite3.connect(path) as db:
            db.executescript(script)
        db.close()
        return path.read_bytes()
