"""Telegram's TL serialisation, as Telegram for Android keeps objects in `cache4.db` BLOBs.

An object is a 4-byte little-endian constructor id and its fields in schema order; optional fields
follow a `flags` word (bit n set: field present). Strings are a length byte (or 254 and three length
bytes) and the bytes, padded to a multiple of 4. Layouts are read from Telegram's published schema
(tdesktop `api.tl`) and the Android client's legacy constructors (`TL_legacy_message.java`):

* message (layers 118…226): flags [flags2] id from_id:flags.8 [from_boosts_applied:flags.29]
  [from_rank:flags2.12] peer_id [saved_peer_id:flags.28] fwd_from:flags.2 via_bot_id:flags.11
  [via_business_bot_id:flags2.0] [guestchat_via_from:flags2.19] reply_to:flags.3 date message
  media:flags.9 … — layer 118 keeps from_id, via_bot_id and reply_to as plain int32, 123 and 131
  via_bot_id as int32; peers before layer 133 carry int32 ids under their own constructors.
* messageService: flags id from_id:flags.8 peer_id [saved_peer_id:flags.28] reply_to:flags.3 date action.
* media with a place: messageMediaGeo, messageMediaVenue, messageMediaGeoLive; GeoPoint is `long` then
  `lat` (doubles).
* user: flags [flags2] id access_hash:flags.0 first_name:flags.1 last_name:flags.2 username:flags.3
  phone:flags.4; chat and channel: flags [flags2] id [access_hash:flags.13] title.

A decoded message is accepted only when its date equals the row's `date` column (and users and chats
only when their id equals the row's `uid`), so a layout misread is never reported as content; the
caller then falls back to the row's columns and the printable text in the BLOB.
"""

from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass, field
from typing import Any

PEERS = {0x59511722: ("user", 8), 0x36C6019A: ("chat", 8), 0xA2A5371E: ("channel", 8),
         0x9DB1BC6D: ("user", 4), 0xBAD0E5BB: ("chat", 4), 0xBDDDE532: ("channel", 4)}
# message constructor -> (has flags2, via_bot_id width, reply_to is a plain int32, from_id is a plain int32)
MESSAGES: dict[int, tuple[bool, int, bool, bool]] = {
    0x95EF6F2B: (True, 8, False, False),   # layer 226
    0x3AE56482: (True, 8, False, False),   # layer 224
    0x9CB490E9: (True, 8, False, False), 0xB92F76CF: (True, 8, False, False),
    0x9815CEC8: (True, 8, False, False),   # layer 216
    0xEABCDD4D: (True, 8, False, False), 0x96FDBBE9: (True, 8, False, False),
    0x94345242: (True, 8, False, False),   # tdesktop api.tl (layer 18x)
    0xBDE09C2E: (True, 8, False, False), 0x2357BF25: (True, 8, False, False),
    0xA66C7EFC: (False, 8, False, False), 0x1E4C8A69: (False, 8, False, False),
    0x76BEC211: (False, 8, False, False), 0x38116EE0: (False, 8, False, False),
    0x85D6CBE2: (False, 8, False, False),  # layer 135
    0xBCE383D2: (False, 4, False, False),  # layer 131
    0x58AE39C9: (False, 4, False, False),  # layer 123
    0xF52E6B7F: (False, 4, True, True),    # layer 118
}
# messageService constructor -> (from_id is a plain int32, reply_to is a plain int32)
SERVICES = {0x7A800E0A: (False, False), 0xD3D28540: (False, False), 0x2B085862: (False, False),
            0x286FA604: (False, False), 0x9E19A1F6: (True, True), 0xC06B9607: (True, False)}
FWD_HEADERS: dict[int, tuple[tuple[int, str], ...]] = {   # (flag bit value or 0 for always, kind)
    0x4E4DF4BB: ((1, "peer"), (32, "str"), (0, "i32"), (4, "i32"), (8, "str"), (16, "peer"), (16, "i32"),
                 (256, "peer"), (512, "str"), (1024, "i32"), (64, "str")),
    0x5F777DCE: ((1, "peer"), (32, "str"), (0, "i32"), (4, "i32"), (8, "str"), (16, "peer"), (16, "i32"),
                 (64, "str")),
}
REPLY_HEADERS: dict[int, tuple[tuple[int, str], ...]] = {
    0x1B97DD66: ((16, "i32"), (1, "peer"), (32, "fwd"), (256, "?"), (2, "i32"), (64, "str"), (128, "?"),
                 (1024, "i32"), (2048, "i32"), (4096, "?")),
    0x6917560B: ((16, "i32"), (1, "peer"), (32, "fwd"), (256, "?"), (2, "i32"), (64, "str"), (128, "?"),
                 (1024, "i32"), (2048, "i32")),
    0xAFBC09DB: ((16, "i32"), (1, "peer"), (32, "fwd"), (256, "?"), (2, "i32"), (64, "str"), (128, "?"),
                 (1024, "i32")),
    0x6EEBCABD: ((16, "i32"), (1, "peer"), (32, "fwd"), (256, "?"), (2, "i32"), (64, "str"), (128, "?")),
    0xA6D57763: ((0, "i32"), (1, "peer"), (2, "i32")),
}
STORY_REPLIES = {0x0E5AF939: "peer", 0x9C98BFC1: "i64"}
GEO_MEDIA = {0x56E0D474: "geo", 0x2EC0533F: "venue", 0x7912B71F: "venue", 0xB940C666: "geo_live",
             0x7C3C2609: "geo_live"}
OTHER_MEDIA = {0x3DED6320: None, 0x695150D7: "photo", 0xDD570BD5: "document", 0x70322949: "contact",
               0xDDF10C3B: "webpage", 0x4BD6E798: "poll", 0x3F7EE58B: "dice", 0x9F84F49E: "unsupported"}
PHONE_CALL = 0x80E11A7F
DISCARD = {0x85E42301: "missed", 0xE095C1A0: "disconnected", 0x57ADC690: "hangup", 0xFAF7E8C9: "busy"}
ACTIONS = {0xBD47CBAD: "group created", 0xA6638B9A: "group created", 0xB5A1CE5A: "title changed",
           0x15CEFD00: "members added", 0x488A7337: "members added", 0xA43F30CC: "member removed",
           0xB2AE9B0C: "member removed", 0x031224C3: "joined by link", 0xF89CF5E8: "joined by link",
           0x95D2AC92: "channel created", 0x94BD38ED: "message pinned", 0x9FBAB604: "history cleared",
           0x4792929B: "screenshot taken", 0xF3F25F76: "contact joined Telegram", 0x7FCB13A8: "photo changed",
           0x95E3FBEF: "photo removed", 0x3C134D7B: "auto-delete timer changed", 0x98E0D697: "proximity alert",
           0x7A0D7F42: "group call", 0x502F92F7: "invited to group call", PHONE_CALL: "phone call"}


class TLError(Exception):
    """The bytes do not follow the layout being read."""


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise TLError("past the end")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return int(struct.unpack_from("<I", self.take(4))[0])

    def i32(self) -> int:
        return int(struct.unpack_from("<i", self.take(4))[0])

    def i64(self) -> int:
        return int(struct.unpack_from("<q", self.take(8))[0])

    def f64(self) -> float:
        return float(struct.unpack_from("<d", self.take(8))[0])

    def int_of(self, width: int) -> int:
        return self.i64() if width == 8 else self.i32()

    def raw_string(self) -> bytes:
        first = self.take(1)[0]
        if first == 255:
            raise TLError("bad string length")
        if first == 254:
            length = int.from_bytes(self.take(3), "little")
            head = 4
        else:
            length, head = first, 1
        out = self.take(length)
        self.take((-(head + length)) % 4)
        return out

    def string(self) -> str:
        try:
            return self.raw_string().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TLError("not UTF-8") from exc

    def peer(self) -> tuple[str, int]:
        kind = PEERS.get(self.u32())
        if kind is None:
            raise TLError("unknown peer")
        return kind[0], self.int_of(kind[1])

    def skip(self, kind: str) -> None:
        if kind == "i32":
            self.take(4)
        elif kind == "i64":
            self.take(8)
        elif kind == "str":
            self.raw_string()
        elif kind == "peer":
            self.peer()
        elif kind == "fwd":
            self.fields(FWD_HEADERS.get(self.u32()))
        else:
            raise TLError(f"a nested {kind} object is not read")

    def fields(self, layout: tuple[tuple[int, str], ...] | None) -> None:
        if layout is None:
            raise TLError("unknown header")
        flags = self.u32()
        for bit, kind in layout:
            if not bit or flags & bit:
                self.skip(kind)

    def reply_header(self) -> int | None:
        constructor = self.u32()
        if constructor in STORY_REPLIES:
            self.skip(STORY_REPLIES[constructor])
            self.take(4)
            return None
        layout = REPLY_HEADERS.get(constructor)
        if layout is None:
            raise TLError("unknown reply header")
        flags = self.u32()
        reply_to: int | None = None
        for bit, kind in layout:
            if bit and not flags & bit:
                continue
            if kind == "i32" and bit in (0, 16) and reply_to is None:
                reply_to = self.i32()
            else:
                self.skip(kind)
        return reply_to


@dataclass
class TLMessage:
    constructor: int
    id: int
    out: bool
    date: int
    peer: tuple[str, int]
    sender: tuple[str, int] | None = None
    text: str | None = None
    media: str | None = None
    location: tuple[float, float] | None = None
    place: dict[str, str] = field(default_factory=dict)
    forwarded: bool = False
    reply_to: int | None = None
    action: str | None = None
    call: dict[str, Any] | None = None


def message(blob: bytes) -> TLMessage:
    """Decode a `messages_v2.data` BLOB (raises TLError when the layout is not one read here)."""
    r = Reader(blob)
    constructor = r.u32()
    if constructor in SERVICES:
        return _service(r, constructor)
    layout = MESSAGES.get(constructor)
    if layout is None:
        raise TLError(f"message constructor {constructor:#010x} not read")
    has_flags2, via_width, reply_int, from_int = layout
    flags = r.u32()
    flags2 = r.u32() if has_flags2 else 0
    mid = r.i32()
    sender = None
    if flags & 1 << 8:
        sender = ("user", r.i32()) if from_int else r.peer()
    if flags & 1 << 29:
        r.take(4)
    if flags2 & 1 << 12:
        r.raw_string()
    peer = r.peer()
    if flags & 1 << 28:
        r.peer()
    forwarded = bool(flags & 1 << 2)
    if forwarded:
        r.skip("fwd")
    if flags & 1 << 11:
        r.take(via_width)
    if flags2 & 1:
        r.take(8)
    if flags2 & 1 << 19:
        r.peer()
    reply_to = None
    if flags & 1 << 3:
        reply_to = r.i32() if reply_int else r.reply_header()
    date = r.i32()
    msg = TLMessage(constructor, mid, bool(flags & 2), date, peer, sender, r.string(), forwarded=forwarded,
                    reply_to=reply_to)
    if flags & 1 << 9:
        _media(r, msg)
    return msg


def _media(r: Reader, msg: TLMessage) -> None:
    constructor = r.u32()
    kind = GEO_MEDIA.get(constructor)
    if kind is None:
        msg.media = OTHER_MEDIA.get(constructor, f"{constructor:#010x}")
        return
    msg.media = "location" if kind != "venue" else "venue"
    try:
        if constructor == 0xB940C666:
            r.take(4)                                   # flags of messageMediaGeoLive
        msg.location = _geo(r)
        if kind == "venue":
            msg.place = {"title": r.string(), "address": r.string()}
    except TLError:
        pass                                            # the text and place so far stand


def _geo(r: Reader) -> tuple[float, float] | None:
    """geoPoint#b2a2f663 flags long lat access_hash accuracy_radius:flags.0, #296f104 long lat access_hash,
    #2049d70c long lat; geoPointEmpty#1117dd5f has nothing. The whole point is consumed."""
    constructor = r.u32()
    flags = r.u32() if constructor == 0xB2A2F663 else 0
    if constructor == 0x1117DD5F:
        return None                                     # geoPointEmpty
    if constructor not in (0xB2A2F663, 0x296F104, 0x2049D70C):
        raise TLError("unknown geo point")
    lon, lat = r.f64(), r.f64()
    if constructor != 0x2049D70C:
        r.take(8)                                       # access_hash
    if flags & 1:
        r.take(4)                                       # accuracy_radius
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat, lon) == (0, 0):
        return None
    return lat, lon


def _service(r: Reader, constructor: int) -> TLMessage:
    from_int, reply_int = SERVICES[constructor]
    flags = r.u32()
    mid = r.i32()
    sender = None
    if flags & 1 << 8:
        sender = ("user", r.i32()) if from_int else r.peer()
    peer = r.peer()
    if flags & 1 << 28 and not from_int:
        r.peer()
    if flags & 1 << 3:
        if reply_int:
            r.i32()
        else:
            r.reply_header()
    msg = TLMessage(constructor, mid, bool(flags & 2), r.i32(), peer, sender)
    action = r.u32()
    msg.action = ACTIONS.get(action, f"{action:#010x}")
    if action == PHONE_CALL:
        try:
            call_flags = r.u32()
            call: dict[str, Any] = {"video": bool(call_flags & 4), "call_id": r.i64()}
            if call_flags & 1:
                call["reason"] = DISCARD.get(r.u32(), "other")
            if call_flags & 2:
                call["duration"] = r.i32()
            msg.call = call
        except TLError:
            msg.call = {}
    return msg


@dataclass
class TLPeerInfo:
    id: int
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    phone: str | None = None
    title: str | None = None


def user(blob: bytes, uid: int) -> TLPeerInfo | None:
    """A `users.data` BLOB whose id is `uid`, or None: each flags-led user layout is tried in turn."""
    for has_flags2 in (True, False):
        for width in (8, 4):
            try:
                r = Reader(blob)
                r.u32()
                flags = r.u32()
                if has_flags2:
                    r.u32()
                if r.int_of(width) != uid:
                    continue
                if flags & 1:
                    r.take(8)
                values = [r.string() if flags & 1 << bit else None for bit in (1, 2, 3, 4)]
                return TLPeerInfo(uid, *values)
            except TLError:
                continue
    return None


def chat(blob: bytes, uid: int) -> TLPeerInfo | None:
    """A `chats.data` BLOB (group or channel) whose id is `uid`, or None."""
    for flags_words, hashed in ((1, False), (2, True), (1, True), (0, False)):
        for width in (8, 4):
            try:
                r = Reader(blob)
                r.u32()
                flags = r.u32() if flags_words else 0
                if flags_words == 2:
                    r.u32()
                if r.int_of(width) != uid:
                    continue
                if hashed and flags & 1 << 13:
                    r.take(8)
                return TLPeerInfo(uid, title=r.string())
            except TLError:
                continue
    return None


def printable(blob: Any, limit: int = 20) -> list[str]:
    """Texts in a BLOB read as TL strings at 4-byte boundaries: valid UTF-8, two or more characters with a
    letter or digit, no control characters other than line breaks and tabs (for layouts not read)."""
    if not isinstance(blob, (bytes, bytearray)):
        return []
    data = bytes(blob)
    found: list[str] = []
    pos = 4
    while pos < len(data) - 1 and len(found) < limit:
        r = Reader(data)
        r.pos = pos
        try:
            text = r.string()
        except TLError:
            pos += 4
            continue
        if len(text) >= 2 and _readable(text) and text not in found:
            found.append(text)
            pos = r.pos
        else:
            pos += 4
    return found


def _readable(text: str) -> bool:
    if not any(c.isalnum() for c in text):
        return False
    return all(c in "\n\t" or unicodedata.category(c)[0] != "C" for c in text)
