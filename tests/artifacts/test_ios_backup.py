"""iOS parsers on an iTunes/Finder backup (built by tests/image/ios_backup.py the way iOS writes one):
`dalil parse` walks it through Manifest.db, so the parsers see `/<domain>/<relativePath>`, and an
attachment kept in another domain (MediaDomain) is still resolved to its file."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from ios_fixtures import SMS_ATTACHMENT, callhistory_db, photos_db, sms_db, whatsapp_db

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
import ios_backup  # noqa: E402  (tests/image's backup builder)

GUID = "8E1A2F3C-0000-4000-8000-00000000ABCD"


def _jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_records_from_a_backup(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    built = tmp_path / "built"
    sms, calls, photos = sms_db(built / "a"), callhistory_db(built / "b"), photos_db(built / "c")
    chats = whatsapp_db(built / "d")
    items = [
        ios_backup.Item("HomeDomain", "Library/SMS/sms.db", sms.read_bytes()),
        ios_backup.Item("MediaDomain", f"Library/SMS/Attachments/cd/13/{GUID}/IMG_0001.JPG", SMS_ATTACHMENT),
        ios_backup.Item("HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", calls.read_bytes()),
        ios_backup.Item("CameraRollDomain", "Media/PhotoData/Photos.sqlite", photos.read_bytes()),
        ios_backup.Item("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite", chats.read_bytes()),
    ]
    backup = ios_backup.build(tmp_path / "backups" / "00008110-TEST", items)
    cli("parse", backup, "--exhibit", "BK", "--case", case_dir, "--no-yara")
    runs = {r["parser"]: r for r in _jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))}
    assert {name: (r["path"], r["counts"]) for name, r in runs.items()} == {
        "ios.sms": ("/HomeDomain/Library/SMS/sms.db", {"messages": 4}),
        "ios.callhistory": ("/HomeDomain/Library/CallHistoryDB/CallHistory.storedata", {"calls": 4}),
        "ios.photos": ("/CameraRollDomain/Media/PhotoData/Photos.sqlite", {"items": 2}),
        "ios.whatsapp": ("/AppDomainGroup-group.net.whatsapp.WhatsApp.shared/ChatStorage.sqlite", {"messages": 4}),
    }
    photo = next(m for m in _jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--app", "imessage"))
                 if m["attachments"])
    assert photo["attachments"][0]["sha256"] == hashlib.sha256(SMS_ATTACHMENT).hexdigest()
