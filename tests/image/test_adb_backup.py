"""Android `adb backup` files: decoded (decrypted, inflated) into a private tar in the case and walked.

The `.backup` files are android-backup-extractor's test files (tests/data/SOURCES.md): each must
decode to exactly its `test.tar`. A version 5 backup with a non-ASCII password is built here the
way Android encrypts it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from parse_helpers import parse_rows

DATA = Path(__file__).resolve().parents[1] / "data" / "android-backup-extractor"
TEST_TAR = DATA / "test.tar"


def evidence(tmp_path: Path, name: str, data: bytes | None = None) -> Path:
    """A copy of the backup alone in a folder, so anything written beside it would show."""
    folder = tmp_path / "evidence"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes((DATA / name).read_bytes() if data is None else data)
    return path


def snapshot(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.parent.iterdir())}


def tar_listing(data: bytes) -> dict[str, str | None]:
    """{/path: sha256 (None for a folder)} of a tar, read with tarfile."""
    out: dict[str, str | None] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        for member in tf.getmembers():
            stream = tf.extractfile(member) if member.isfile() else None
            out["/" + member.name.rstrip("/")] = hashlib.sha256(stream.read()).hexdigest() if stream else None
    return out


def listing(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    return {r["path"]: r["sha256"] for r in rows}


def warnings_of(case_dir: Path, exhibit: str) -> list[tuple[str, str]]:
    with sqlite3.connect(case_dir / "case.db") as db:
        return list(db.execute("SELECT location, message FROM warnings WHERE exhibit = ? ORDER BY id", (exhibit,)))


def last_parsed(case_dir: Path) -> dict[str, Any]:
    entries = [json.loads(line) for line in (case_dir / "custody.jsonl").read_text().splitlines()]
    parsed: dict[str, Any] = [e for e in entries if e["action"] == "parsed"][-1]
    return parsed


@pytest.mark.parametrize("name,password", [("uncompressed.backup", None), ("test.unencrypted.backup", None),
                                           ("test.encrypted.backup", "12345")])
def test_each_backup_decodes_to_exactly_test_tar(cli: Any, case_dir: Path, tmp_path: Path, name: str,
                                                 password: str | None) -> None:
    path = evidence(tmp_path, name)
    before = snapshot(path)
    extra = ["--password", password] if password else []
    rows = parse_rows(cli, case_dir, path, "AB", "--no-yara", *extra)
    expected = tar_listing(TEST_TAR.read_bytes())
    assert len(expected) == 7
    assert listing(rows) == expected
    assert not warnings_of(case_dir, "AB")
    container = last_parsed(case_dir)["details"]["container"]
    assert container["decoded_tar"] == {"size": 30720, "sha256": hashlib.sha256(TEST_TAR.read_bytes()).hexdigest()}
    assert container["kind"] == "android-backup" and container["encrypted"] is bool(password)
    assert container["password_given"] is bool(password) and container["version"] == 1
    assert snapshot(path) == before  # the evidence unchanged, nothing written beside it
    assert not (case_dir / ".work").exists()  # the decoded tar is gone
    assert "12345" not in last_parsed(case_dir)["command"]  # redacted (the value would follow --password)


def test_version_2_is_read_and_its_trailing_byte_is_one_warning(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """Versions 1-5 are Android's; android-backup-extractor's 2013 reader refused 2. Its payload is
    test.tar plus one byte, which the tar walk reports."""
    path = evidence(tmp_path, "invalid_header.uncompressed.unencrypted.backup")
    rows = parse_rows(cli, case_dir, path, "V2", "--no-yara")
    assert listing(rows) == tar_listing(TEST_TAR.read_bytes())
    warned = warnings_of(case_dir, "V2")
    assert len(warned) == 1 and "non-zero data at byte 30720 after the end-of-archive block" in warned[0][1]
    assert last_parsed(case_dir)["details"]["container"]["version"] == 2


@pytest.mark.parametrize("name,message", [
    ("test.encrypted_invalidHeader.backup", "invalid salt length: the user password salt is 65 bytes (64 expected)"),
    ("test.encrypted_invalidHeader2.backup", "invalid password or master key checksum"),
])
def test_a_broken_header_is_one_message(cli: Any, case_dir: Path, tmp_path: Path, name: str, message: str) -> None:
    path = evidence(tmp_path, name)
    result = cli("parse", path, "--exhibit", "BAD", "--case", case_dir, "--password", "12345", code=1)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and name in lines[0]


def test_a_wrong_password_is_one_message_and_a_missing_one_a_usage_error(cli: Any, case_dir: Path,
                                                                         tmp_path: Path) -> None:
    path = evidence(tmp_path, "test.encrypted.backup")
    wrong = cli("parse", path, "--exhibit", "AB", "--case", case_dir, "--password", "x", code=1)
    assert wrong.stderr.strip().splitlines() == [
        "error: wrong password for the Android backup test.encrypted.backup: it does not decrypt the backup's master key"]
    missing = cli("parse", path, "--exhibit", "AB", "--case", case_dir, code=2)
    assert "is encrypted (AES-256): give it with --password or the environment variable DALIL_BACKUP_PASSWORD" \
        in missing.stderr
    assert "AB" not in cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout


def test_a_truncated_backup_keeps_what_decoded_with_a_warning(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    whole = (DATA / "test.unencrypted.backup").read_bytes()
    path = evidence(tmp_path, "cut.ab", whole[:2500])
    rows = parse_rows(cli, case_dir, path, "CUT", "--no-yara")
    assert "/src/main/java/org/nick/abe" in listing(rows)  # the members before the cut are listed
    warned = warnings_of(case_dir, "CUT")
    assert warned[0] == ("CUT:cut.ab", "Android backup payload: the compressed data ends before its end marker "
                                       f"(truncated at byte 2500 of the file); the "
                                       f"{len(zlib.decompressobj().decompress(whole[24:2500])):,} bytes of tar "
                                       "decoded before it are listed")
    assert not (case_dir / ".work").exists()


def test_a_header_cut_short_is_one_message(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    path = evidence(tmp_path, "head.ab", (DATA / "test.encrypted.backup").read_bytes()[:200])
    result = cli("parse", path, "--exhibit", "HEAD", "--case", case_dir, "--password", "12345", code=1)
    assert result.stderr.strip().splitlines() == [
        "error: Android backup head.ab: header cut short at its master key checksum salt (the file ends there)"]


def test_a_backup_cut_before_any_tar_is_one_message(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    path = evidence(tmp_path, "empty.ab", (DATA / "test.encrypted.backup").read_bytes()[:600])
    result = cli("parse", path, "--exhibit", "EMPTY", "--case", case_dir, "--password", "12345", code=1)
    assert result.stderr.strip().splitlines() == [
        "error: Android backup empty.ab: the encrypted data ends inside a block or with bad padding (truncated or "
        "damaged, 83 bytes after the header): nothing could be decoded"]
    assert not (case_dir / ".work").exists()


# -- a version 5 backup, encrypted the way Android 8+ does it ---------------------------------------

def _pbkdf2(password: bytes, salt: bytes, rounds: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha1", password, salt, rounds, 32)


def _aes_cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def android_encrypted_backup(payload_tar: bytes, password: str, version: int = 5, rounds: int = 10000) -> bytes:
    """What `adb backup` writes with a password (BackupManagerService): from version 2 the master key
    checksum runs over Java's UTF-8 of the key's bytes each sign-extended to a char."""
    user_salt, ck_salt, user_iv = os.urandom(64), os.urandom(64), os.urandom(16)
    master_key = bytes([0x80, 0xFF, 0x7F, 0x00]) + os.urandom(28)  # bytes where the mangling matters
    master_iv = os.urandom(16)
    java_chars = "".join(chr(int.from_bytes(bytes([b]), "big", signed=True) & 0xFFFF) for b in master_key)
    checksum = _pbkdf2(java_chars.encode("utf-8"), ck_salt, rounds)
    blob = bytes([16]) + master_iv + bytes([32]) + master_key + bytes([32]) + checksum
    user_key = _pbkdf2(password.encode("utf-8"), user_salt, rounds)
    header = (f"ANDROID BACKUP\n{version}\n1\nAES-256\n{user_salt.hex().upper()}\n{ck_salt.hex().upper()}\n"
              f"{rounds}\n{user_iv.hex().upper()}\n{_aes_cbc(user_key, user_iv, blob).hex().upper()}\n").encode()
    return header + _aes_cbc(master_key, master_iv, zlib.compress(payload_tar))


def app_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in [("apps/com.whatsapp/_manifest", b"1\ncom.whatsapp\n"),
                           ("apps/com.whatsapp/db/msgstore.db", b"SQLite format 3\x00" + os.urandom(4080)),
                           ("apps/com.whatsapp/sp/com.whatsapp_preferences.xml", "<map>رقم</map>".encode())]:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_a_version_5_backup_with_a_non_ascii_password(cli: Any, case_dir: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    payload = app_tar()
    password = "كلمة السر 7"
    path = evidence(tmp_path, "phone.ab", android_encrypted_backup(payload, password))
    monkeypatch.setenv("DALIL_BACKUP_PASSWORD", password)
    rows = {r["path"]: r for r in parse_rows(cli, case_dir, path, "AB5", "--no-yara")}
    assert {p: r["sha256"] for p, r in rows.items()} == tar_listing(payload)
    assert rows["/apps/com.whatsapp/db/msgstore.db"]["mtime"] == "2023-11-14T22:13:20Z"
    container = last_parsed(case_dir)["details"]["container"]
    assert container["version"] == 5 and container["encrypted"] is True
    assert container["decoded_tar"]["sha256"] == hashlib.sha256(payload).hexdigest()
    for name in ("custody.jsonl", "case.db"):
        assert password.encode() not in (case_dir / name).read_bytes()
    # export walks it again (the same decoding) and copies what the listing hashed
    out = tmp_path / "out"
    cli("export", "--exhibit", "AB5", "--out", out, "--case", case_dir)
    index = json.loads((out / "index-AB5.json").read_text())
    assert {r["original_path"]: r["status"] for r in index} == {p: "ok" for p, h in tar_listing(payload).items() if h}
    assert not (case_dir / ".work").exists()


def test_a_work_folder_left_by_a_run_that_died_is_removed(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    stale = case_dir / ".work" / "android-backup-dead"
    stale.mkdir(parents=True)
    (stale / "x.ab.tar").write_bytes(b"decrypted leftovers")
    parse_rows(cli, case_dir, evidence(tmp_path, "uncompressed.backup"), "AB", "--no-yara")
    assert not (case_dir / ".work").exists()
    shutil.rmtree(tmp_path / "evidence")
