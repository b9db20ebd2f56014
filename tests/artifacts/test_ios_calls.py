"""iOS call history (CallHistory.storedata), on a database built with the iOS 11.2 schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ios_fixtures import callhistory_db


def _jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_call_history(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    callhistory_db(ext)
    out = cli("parse", ext, "--exhibit", "CH", "--case", case_dir, "--no-yara")
    assert "4 calls" in out.stdout
    calls = {c["source"]["row"]: c for c in _jsonl(cli("calls", "--case", case_dir, "--format", "jsonl"))}
    picked = {k: (c["app"], c["direction"], c["number"], c["name"], c["time"], c["duration"], c["video"])
              for k, c in calls.items()}
    assert picked == {
        1: ("phone", "outgoing", "+218912345678", None, "2023-03-08T20:26:40.250Z", 125, False),
        2: ("phone", "missed", "+33612345678", "Passeur", "2023-03-08T20:36:40Z", 0, False),
        3: ("facetime", "incoming", "smuggler.x@icloud.com", None, "2023-03-08T20:46:40.500Z", 61, True),
        4: ("whatsapp", "outgoing", "+218917654321", None, "2023-03-08T20:56:40Z", 30, None),
    }
    assert calls[1]["extra"]["duration_exact"] == 125.75 and calls[1]["extra"]["country"] == "ly"
    assert calls[4]["extra"] == {"answered": True, "call_type": "third-party app",
                                 "service_provider": "net.whatsapp.WhatsApp"}  # a CallKit app's call
    assert calls[1]["source"] == {"path": "/private/var/mobile/Library/CallHistoryDB/CallHistory.storedata",
                                  "table": "ZCALLRECORD", "row": 1}
    by_number = _jsonl(cli("calls", "--case", case_dir, "--format", "jsonl", "--number", "00218 91 234 5678"))
    assert [c["source"]["row"] for c in by_number] == [1]
