"""iTunes/Finder backups: `dalil parse` lists the phone's files at their domain paths, plain or encrypted.

The backups are built by `ios_backup.py` the way iOS writes them (encrypted ones with the real
key scheme and iteration counts) and read back through the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import ios_backup
from parse_helpers import parse_rows

PASSWORD = "Zuwara 2024 كلمة"  # a non-ASCII password: the key derivation takes its UTF-8 bytes
BIG = 17 * 1024 * 1024  # past the engine's 16 MiB: streamed through random-access decryption
OWN_FILES = {"/$Backup/Manifest.db", "/$Backup/Manifest.plist", "/$Backup/Info.plist", "/$Backup/Status.plist"}


@pytest.fixture(scope="module")
def backups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One phone's files as a plain backup and as an encrypted one (each in a folder of its own)."""
    base = tmp_path_factory.mktemp("ios")
    items = ios_backup.sample_items(big=BIG)
    plain = ios_backup.build(base / "plain" / "00008110-PLAIN", items)
    encrypted = ios_backup.build(base / "encrypted" / "00008110-ENC", items, password=PASSWORD)
    return {"items": items, "plain": plain, "encrypted": encrypted}


def fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`'s parent (the backup and anything written beside it)."""
    out = {}
    for path in sorted(folder.parent.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(folder.parent))] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[str(path.relative_to(folder.parent))] = "dir"
    return out


def by_path(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["path"]: r for r in rows}


def db_rows(case_dir: Path, exhibit: str) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        db.row_factory = sqlite3.Row
        return {r["path"]: dict(r) for r in db.execute("SELECT * FROM files WHERE exhibit = ?", (exhibit,))}


def warnings_of(case_dir: Path, exhibit: str) -> list[tuple[str, str]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return list(db.execute("SELECT location, message FROM warnings WHERE exhibit = ? ORDER BY id", (exhibit,)))


def ledger(case_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]


def test_a_plain_backup_lists_each_file_at_its_phone_path_with_its_manifest_metadata(
        cli: Any, case_dir: Path, backups: dict[str, Any]) -> None:
    backup = backups["plain"]
    before = fingerprint(backup)
    rows = by_path(parse_rows(cli, case_dir, backup, "IOS-1", "--no-yara"))
    for item in backups["items"]:
        row = rows[item.phone_path]
        if item.content is not None:
            assert row["sha256"] == hashlib.sha256(item.content).hexdigest(), item.phone_path
            assert row["size"] == len(item.content)
        assert row["mtime"] == "2023-11-14T22:13:20Z" and row["ctime"] == "2023-11-14T22:13:25Z"
        assert row["crtime"] == "2023-11-14T22:11:40Z" and row["inode"] == item.inode
    sms = rows["/HomeDomain/Library/SMS/sms.db"]
    assert sms["mime"] == "application/vnd.sqlite3" and sms["type"] == "r"
    assert rows["/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite"]["mime"] == "application/vnd.sqlite3"
    assert rows["/HomeDomain/Library/SMS"]["type"] == "d"
    stored = db_rows(case_dir, "IOS-1")
    assert stored["/HomeDomain/Library/SMS/sms.db"]["mode"] == "r/rrw-r--r--"
    assert stored["/HomeDomain/Library/SMS/sms.db"]["uid"] == 501 and stored["/HomeDomain/Library/SMS/sms.db"]["gid"] == 501
    link = stored["/HomeDomain/Library/Preferences/com.apple.link"]
    assert link["type"] == "l" and link["link"] == "/var/mobile/elsewhere"
    # the backup's own files are listed under /$Backup; a stored file given at its phone path is not listed twice
    assert OWN_FILES <= set(rows)
    assert rows["/$Backup/Manifest.db"]["sha256"] == hashlib.sha256((backup / "Manifest.db").read_bytes()).hexdigest()
    sms_id = next(i.file_id for i in backups["items"] if i.path == "Library/SMS/sms.db")
    assert f"/$Backup/{sms_id[:2]}/{sms_id}" not in rows and f"/$Backup/{sms_id[:2]}" in rows
    assert not warnings_of(case_dir, "IOS-1")
    parsed = ledger(case_dir)[-1]
    assert parsed["action"] == "parsed" and parsed["details"]["format"] == "itunes-backup"
    assert parsed["details"]["container"] == {"kind": "itunes-backup", "encrypted": False, "manifest_version": "10.0",
                                              "password_given": False}
    assert fingerprint(backup) == before  # unchanged, and nothing written beside it
    assert not (case_dir / ".work").exists()
    assert "PASS  evidence in place" in cli("verify", case_dir, "--evidence").stdout


def test_an_encrypted_backup_gives_the_same_files_as_the_plain_one(
        cli: Any, case_dir: Path, backups: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    plain = by_path(parse_rows(cli, case_dir, backups["plain"], "PLAIN", "--no-yara"))
    backup = backups["encrypted"]
    before = fingerprint(backup)
    monkeypatch.setenv("DALIL_BACKUP_PASSWORD", PASSWORD)
    encrypted = by_path(parse_rows(cli, case_dir, backup, "ENC", "--no-yara"))

    def comparable(rows: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
        return {p: (r["type"], r["size"], r["sha256"], r["mime"], r["mtime"], r["ctime"], r["crtime"], r["inode"])
                for p, r in rows.items() if not p.startswith("/$Backup/")}

    assert comparable(encrypted) == comparable(plain)
    assert len(comparable(plain)) == len(backups["items"])
    assert encrypted["/MediaDomain/Media/Recordings/long.m4a"]["size"] == BIG
    # the raw (encrypted) manifests are listed as they are
    assert OWN_FILES <= set(encrypted)
    assert encrypted["/$Backup/Manifest.db"]["sha256"] != plain["/$Backup/Manifest.db"]["sha256"]
    assert not warnings_of(case_dir, "ENC")
    details = ledger(case_dir)[-1]["details"]
    assert details["container"]["encrypted"] is True and details["container"]["password_given"] is True
    assert fingerprint(backup) == before
    assert not (case_dir / ".work").exists()
    for name in ("custody.jsonl", "case.db"):  # the password is never written to the case
        assert PASSWORD.encode() not in (case_dir / name).read_bytes()


def test_a_wrong_password_is_one_message_and_nothing_is_registered(cli: Any, case_dir: Path,
                                                                     backups: dict[str, Any]) -> None:
    result = cli("parse", backups["encrypted"], "--exhibit", "ENC", "--case", case_dir, "--password", "not it",
                 code=1)
    assert result.stderr.strip().splitlines() == [
        f"error: wrong password for the iOS backup {backups['encrypted'].name}: it does not unlock the backup's keybag"]
    assert "ENC" not in cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout
    assert b"not it" not in (case_dir / "custody.jsonl").read_bytes()


def test_an_encrypted_backup_without_a_password_is_a_usage_error(cli: Any, case_dir: Path,
                                                                   backups: dict[str, Any]) -> None:
    result = cli("parse", backups["encrypted"], "--exhibit", "ENC", "--case", case_dir, code=2)
    assert "is encrypted: give it with --password or the environment variable DALIL_BACKUP_PASSWORD" in result.stderr


def test_the_password_given_on_the_command_line_is_redacted_in_the_ledger(cli: Any, case_dir: Path,
                                                                           backups: dict[str, Any]) -> None:
    cli("parse", backups["encrypted"], "--exhibit", "ENC", "--case", case_dir, "--no-yara", f"--password={PASSWORD}")
    entries = ledger(case_dir)
    assert entries[-1]["command"][-1] == "--password=<redacted>"
    assert all(PASSWORD not in json.dumps(e, ensure_ascii=False) for e in entries)


def test_a_stored_file_missing_from_the_backup_is_one_warning_and_its_row_keeps_the_error(
        cli: Any, case_dir: Path, backups: dict[str, Any], tmp_path: Path) -> None:
    backup = tmp_path / "evidence" / "backup"
    shutil.copytree(backups["plain"], backup)
    gone = next(i for i in backups["items"] if i.path == "Library/SMS/sms.db")
    (backup / gone.file_id[:2] / gone.file_id).unlink()
    rows = by_path(parse_rows(cli, case_dir, backup, "MISS", "--no-yara"))
    warned = warnings_of(case_dir, "MISS")
    assert len(warned) == 1
    location, message = warned[0]
    assert location == "MISS@0:/HomeDomain/Library/SMS/sms.db"
    assert f"{gone.file_id[:2]}/{gone.file_id}" in message and "HomeDomain/Library/SMS/sms.db" in message
    assert "missing from the backup" in message
    row = rows["/HomeDomain/Library/SMS/sms.db"]
    assert row["sha256"] is None and "missing from the backup" in row["error"]
    chats = rows["/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite"]
    expected = next(i for i in backups["items"] if i.path == "ChatStorage.sqlite")
    assert chats["sha256"] == hashlib.sha256(expected.content or b"").hexdigest() and chats["error"] is None


def test_a_manifest_db_that_is_a_jpeg_is_one_warning_and_every_stored_file_is_still_listed(
        cli: Any, case_dir: Path, backups: dict[str, Any], tmp_path: Path) -> None:
    backup = tmp_path / "evidence" / "backup"
    shutil.copytree(backups["plain"], backup)
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
    (backup / "Manifest.db").write_bytes(jpeg)
    before = fingerprint(backup)
    rows = by_path(parse_rows(cli, case_dir, backup, "JPEG", "--no-yara"))
    warned = warnings_of(case_dir, "JPEG")
    assert len(warned) == 1 and warned[0][0] == "JPEG:/$Backup/Manifest.db"
    assert "is not a readable Manifest database (file is not a database)" in warned[0][1]
    assert rows["/$Backup/Manifest.db"]["mime"] == "image/jpeg"
    for item in backups["items"]:
        if item.content is not None:
            assert rows[f"/$Backup/{item.file_id[:2]}/{item.file_id}"]["sha256"] == hashlib.sha256(item.content).hexdigest()
    assert not any(p.startswith("/HomeDomain") for p in rows)
    assert fingerprint(backup) == before


def test_export_decrypts_on_demand_and_matches_the_listing(cli: Any, case_dir: Path, backups: dict[str, Any],
                                                           tmp_path: Path) -> None:
    cli("parse", backups["encrypted"], "--exhibit", "ENC", "--case", case_dir, "--no-yara", "--password", PASSWORD)
    result = cli("export", "--exhibit", "ENC", "--out", tmp_path / "out", "--case", case_dir, code=2)
    assert "is encrypted" in result.stderr and not (tmp_path / "out").exists()
    cli("export", "--exhibit", "ENC", "--out", tmp_path / "out", "--case", case_dir, "--password", PASSWORD)
    index = json.loads((tmp_path / "out" / "index-ENC.json").read_text())
    assert index and all(r["status"] == "ok" for r in index)
    exported = {r["original_path"]: r["sha256_copy"] for r in index}
    for item in backups["items"]:
        if item.content:
            assert exported[item.phone_path] == hashlib.sha256(item.content).hexdigest()
    assert not (case_dir / ".work").exists()


def test_any_range_of_an_encrypted_file_decrypts_to_the_same_bytes(backups: dict[str, Any], tmp_path: Path) -> None:
    """Random access over AES-CBC: each block needs only the one before it."""
    import plistlib

    from triage.image import itunes, itunes_crypto

    root = backups["encrypted"]
    keys = itunes.open_backup(root, PASSWORD).keys
    assert keys is not None
    item = next(i for i in backups["items"] if i.path == "Library/Notes/ملاحظة.txt")
    copy = tmp_path / "Manifest.db"  # the Manifest as the walk gets it: decrypted into a private copy
    manifest = plistlib.loads((root / "Manifest.plist").read_bytes())
    itunes_crypto.decrypt_to(root / "Manifest.db", keys.unwrap(manifest["ManifestKey"]), copy)
    db = sqlite3.connect(copy)
    blob = db.execute("SELECT file FROM Files WHERE fileID = ?", (item.file_id,)).fetchone()[0]
    db.close()
    meta = itunes.mbfile(blob)
    assert meta.key is not None
    reader = itunes_crypto.EncryptedFile(root / item.file_id[:2] / item.file_id, keys.unwrap(meta.key))
    content = item.content or b""
    assert reader.size == len(content)
    for offset, length in [(0, 1), (0, len(content)), (15, 2), (16, 16), (17, 40), (len(content) - 3, 10),
                           (len(content), 5), (33, 0)]:
        assert reader.read_random(offset, length) == content[offset:offset + length], (offset, length)


def test_a_folder_without_manifest_db_is_still_a_plain_folder(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "Manifest.plist").write_bytes(b"not a backup")
    cli("parse", folder, "--exhibit", "DIR", "--no-yara", "--case", case_dir)
    assert ledger(case_dir)[-1]["details"]["format"] == "directory"
    assert os.listdir(folder) == ["Manifest.plist"]
