"""Telegram for Android through the real CLI, on a cache4.db built with Telegram's real schema and TL
objects written field by field from the published schema; and the TL decoder on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from android_fixtures import (T0_S, TG_ALI, TG_DIR, TG_GROUP, TG_ME, TG_ODD, TG_OLD, geo_point, i32, i64, jsonl,
                              peer_user, phone_call, telegram, tl_message, tl_message_118, tl_str, tl_user, u32)
from triage.artifacts.android import _tl

CACHE4 = "/" + TG_DIR + "/cache4.db"
ALI = f"telegram:{TG_ALI}"
GROUP = f"telegram:-{TG_GROUP}"


@pytest.fixture
def parsed(cli: Any, case_dir: Path, tmp_path: Path) -> Any:
    ext = tmp_path / "ext"
    telegram(ext)
    return cli("parse", ext, "--exhibit", "TG", "--case", case_dir, "--no-yara")


def test_messages_decoded_and_fallbacks_flagged(cli: Any, case_dir: Path, parsed: Any) -> None:
    rows = jsonl(cli("messages", "--case", case_dir, "--format", "jsonl"))
    assert [(r["thread"], r["direction"], r["sender"], r["recipients"], r["text"], r["time"],
             r["extra"]["decoded"], r["source"]["row"]) for r in rows] == [
        (ALI, "incoming", ALI, [], "السلام عليكم، متى الرحلة؟", "2024-03-01T20:15:00Z", "structural", 1),
        (ALI, "outgoing", None, [ALI], "بكرة الساعة ٣ فجراً", "2024-03-01T20:16:00Z", "structural", 2),
        (ALI, "incoming", ALI, [], None, "2024-03-01T20:17:00Z", "structural", 3),
        (ALI, "incoming", ALI, [], "رقم القارب 7", "2024-03-01T20:20:00Z", "fallback", 6),
        (ALI, "incoming", ALI, [], None, "2024-03-01T20:21:00Z", "structural", 7),
        (GROUP, "incoming", ALI, [GROUP], "Departure confirmed / المغادرة مؤكدة", "2024-03-01T20:22:00Z",
         "structural", 8),
        (GROUP, "incoming", f"telegram:{TG_ODD}", [GROUP], "ok", "2024-03-01T20:23:00Z", "structural", 9),
        (GROUP, "outgoing", None, [GROUP], "مؤجل", "2024-03-01T20:24:00Z", "fallback", 10),
    ]
    assert all(r["app"] == "telegram" and r["source"]["path"] == CACHE4 and r["source"]["table"] == "messages_v2"
               for r in rows)
    assert rows[0]["thread_name"] == "أحمد الزوارة" and rows[5]["thread_name"] == "رحلة الجمعة"
    assert rows[5]["sender_name"] == "أحمد الزوارة" and rows[6]["sender_name"] == "mystery user"
    assert rows[2]["location"] == {"lat": 32.9312, "lon": 12.0819} and rows[2]["extra"]["media"] == "location"
    assert rows[4]["location"] == {"lat": 32.8872, "lon": 13.1913}
    assert rows[4]["extra"]["place_title"] == "Tripoli port" and rows[4]["extra"]["place_address"] == "ميناء طرابلس"
    assert rows[6]["extra"]["reply_to"] == 20 and rows[0]["extra"]["mid"] == 10
    assert "secret_chat" not in rows[5]["extra"]
    assert ("android.telegram: table messages_v2: 2 message(s) in layouts not read (0x94345242 (date or id not "
            "matching the row): 1, 0xdeadbeef: 1)") in parsed.stderr


def test_phone_calls_and_users(cli: Any, case_dir: Path, parsed: Any) -> None:
    calls = jsonl(cli("calls", "--case", case_dir, "--format", "jsonl"))
    assert [(c["app"], c["direction"], c["number"], c["name"], c["time"], c["duration"], c["video"],
             c["extra"]["reason"], c["source"]["row"]) for c in calls] == [
        ("telegram", "outgoing", ALI, "أحمد الزوارة", "2024-03-01T20:18:00Z", 185, True, "hangup", 4),
        ("telegram", "missed", ALI, "أحمد الزوارة", "2024-03-01T20:19:00Z", None, False, "missed", 5),
    ]
    contacts = jsonl(cli("contacts", "--case", case_dir, "--format", "jsonl"))
    assert [(c["name"], c["phones"], c["handles"], c["source"]) for c in contacts] == [
        ("Telegram", [], [f"telegram:{TG_OLD}"], {"path": CACHE4, "table": "users", "row": TG_OLD}),
        ("mystery user", [], [f"telegram:{TG_ODD}"], {"path": CACHE4, "table": "users", "row": TG_ODD}),
        ("أحمد الزوارة", ["+218912345678"], [ALI, "@zuwara_boats"], {"path": CACHE4, "table": "users", "row": TG_ALI}),
    ]
    assert contacts[1]["extra"]["decoded"] == "fallback"      # its BLOB is no user layout: the search name
    assert contacts[2]["extra"]["last_seen"] == "2024-03-01T20:14:00Z"
    runs = jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))
    assert [(r["parser"], r["counts"], r["status"]) for r in runs] == [
        ("android.telegram", {"contacts": 3, "messages": 8, "calls": 2}, "parsed")]


def test_decoder_reads_the_layers_it_knows() -> None:
    msg = _tl.message(tl_message(0x95EF6F2B, True, 5, peer_user(TG_ME), T0_S, "a" * 300, sender=peer_user(7)))
    assert (msg.id, msg.date, msg.text, msg.sender, msg.peer) == (5, T0_S, "a" * 300, ("user", 7), ("user", TG_ME))
    old = _tl.message(tl_message_118(9, 424242, 4001, 3, T0_S, "قديم"))
    assert (old.sender, old.peer, old.reply_to, old.text) == (("user", 424242), ("chat", 4001), 3, "قديم")
    call = _tl.message(phone_call(3, TG_ALI, T0_S, out=False, video=False, reason=0xFAF7E8C9, duration=None))
    assert call.action == "phone call" and call.call == {"video": False, "call_id": 9_000_000_003, "reason": "busy"}
    # a reply header (messageReplyHeader#afbc09db: flags, reply_to_msg_id:flags.4) is walked over
    reply = u32(0xAFBC09DB) + u32(16) + i32(77)
    blob = u32(0x94345242) + u32(1 << 3) + u32(0) + i32(6) + peer_user(TG_ALI) + reply + i32(T0_S) + tl_str("رد")
    assert (_tl.message(blob).reply_to, _tl.message(blob).text) == (77, "رد")
    geo = tl_message(0x9815CEC8, True, 8, peer_user(1), T0_S, "", media=u32(0x56E0D474) + geo_point(-33.5, 151.25))
    assert _tl.message(geo).location == (-33.5, 151.25)


def test_decoder_refuses_what_it_cannot_read() -> None:
    good = tl_message(0x94345242, True, 5, peer_user(1), T0_S, "hello")
    with pytest.raises(_tl.TLError):
        _tl.message(good[:-6])                                   # truncated inside the text
    with pytest.raises(_tl.TLError):
        _tl.message(u32(0x12345678) + bytes(40))                 # an unknown constructor
    quoted = u32(0x1B97DD66) + u32(256 | 16) + i32(1) + u32(0x695150D7)  # reply media: a nested object
    with pytest.raises(_tl.TLError):
        _tl.message(u32(0x94345242) + u32(1 << 3) + u32(0) + i32(6) + peer_user(1) + quoted + bytes(16))


def test_users_and_chats_decoded_only_when_the_id_matches() -> None:
    blob = tl_user(TG_ALI, "أحمد", "الزوارة", "zuwara_boats", "218912345678")
    info = _tl.user(blob, TG_ALI)
    assert info is not None and (info.first_name, info.last_name, info.username, info.phone) == (
        "أحمد", "الزوارة", "zuwara_boats", "218912345678")
    assert _tl.user(blob, TG_ALI + 1) is None
    old = _tl.user(tl_user(TG_OLD, "Telegram", None, None, None, flags2=False), TG_OLD)
    assert old is not None and old.first_name == "Telegram" and old.phone is None
    channel = u32(0xFE4478BD) + u32(1 << 13) + u32(0) + i64(99) + i64(5) + tl_str("قناة")
    info = _tl.chat(channel, 99)
    assert info is not None and info.title == "قناة"
    assert _tl.printable(u32(0xDEADBEEF) + tl_str("x") + tl_str("قارب") + b"\x00\x01\x02\x03") == ["قارب"]
