"""iOS call history: `CallHistory.storedata`, the Core Data store of the Phone app's Recents.

`ZCALLRECORD`: `ZADDRESS` (the other party: a number or an Apple ID e-mail; TEXT or a BLOB of UTF-8
depending on the iOS version), `ZDATE` (Cocoa seconds), `ZDURATION` (seconds, float),
`ZORIGINATED` (1 outgoing), `ZANSWERED`, `ZCALLTYPE` (0 a third-party app through CallKit, 1 phone,
8 FaceTime video, 16 FaceTime audio), `ZNAME`, `ZSERVICE_PROVIDER` (com.apple.Telephony,
com.apple.FaceTime, or the app's bundle id: WhatsApp, Telegram, Signal… calls made through CallKit
are kept here too), `ZISO_COUNTRY_CODE` (the country the number was read in), `ZLOCATION`,
`ZDISCONNECTED_CAUSE`, `ZBLOCKEDBYEXTENSION` (a call-blocking app stopped it: `blocked`). From
iOS 14 the other parties of a call may also be in `ZHANDLE` through `Z_2REMOTEPARTICIPANTHANDLES`.
An incoming call not answered is `missed`.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Call, Record
from ._common import Row, compact, live_and_recovered, number, source, text

CALL_TYPES: dict[Any, str] = {0: "third-party app", 1: "phone", 8: "facetime video", 16: "facetime audio"}
PROVIDERS = {"com.apple.telephony": "phone", "com.apple.facetime": "facetime",
             "net.whatsapp.whatsapp": "whatsapp", "net.whatsapp.whatsappsmb": "whatsapp business",
             "ph.telegra.telegraph": "telegram", "org.whispersystems.signal": "signal",
             "com.viber": "viber", "com.skype.skype": "skype", "com.facebook.messenger": "messenger",
             "jp.naver.line": "line", "com.tencent.xin": "wechat", "com.burbn.instagram": "instagram"}


class IOSCallHistory(Artifact):
    NAME = "ios.callhistory"
    VERSION = "1.0"
    APP = "phone"
    DESCRIPTION = "Phone, FaceTime and CallKit app calls from CallHistory.storedata"
    PATTERNS = ("*/CallHistoryDB/CallHistory.storedata",)

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("ZCALLRECORD", "Z_PK", "ZADDRESS", "ZDATE"):
            ctx.warn("no ZCALLRECORD table with Z_PK, ZADDRESS and ZDATE (unknown schema version)", "ZCALLRECORD")
            return
        participants = _participants(ctx)
        for row, rec in live_and_recovered(ctx, "ZCALLRECORD", "SELECT * FROM ZCALLRECORD ORDER BY Z_PK", "Z_PK"):
            yield _call(ctx, row, rec, participants.get(row["Z_PK"], []) if rec is None else [])


def _participants(ctx: Context) -> dict[int, list[str]]:
    """Other parties of each call from ZHANDLE (iOS 14+), for group FaceTime calls."""
    if not (ctx.has("ZHANDLE", "Z_PK", "ZVALUE") and ctx.has("Z_2REMOTEPARTICIPANTHANDLES",
                                                             "Z_2REMOTEPARTICIPANTCALLS",
                                                             "Z_4REMOTEPARTICIPANTHANDLES")):
        return {}
    out: dict[int, list[str]] = {}
    for r in ctx.rows("SELECT j.Z_2REMOTEPARTICIPANTCALLS AS call, h.ZVALUE AS value FROM "
                      "Z_2REMOTEPARTICIPANTHANDLES j JOIN ZHANDLE h ON h.Z_PK = j.Z_4REMOTEPARTICIPANTHANDLES "
                      "ORDER BY j.Z_2REMOTEPARTICIPANTCALLS, h.Z_PK"):
        value = number(ctx, r["value"])
        if value:
            out.setdefault(r["call"], []).append(value)
    return out


def _call(ctx: Context, row: Row, rec: Any, others: list[str]) -> Call:
    country = text(row.get("ZISO_COUNTRY_CODE"))
    party = number(ctx, row.get("ZADDRESS"), country) or (others[0] if others else None)
    outgoing = row.get("ZORIGINATED") == 1
    answered = row.get("ZANSWERED")
    blocked_by = text(row.get("ZBLOCKEDBYEXTENSION")) or text(row.get("ZBLOCKEDBYEXTENSIONNAME"))
    if outgoing:
        direction = "outgoing"
    elif blocked_by:
        direction = "blocked"
    elif answered == 0:
        direction = "missed"
    elif answered == 1:
        direction = "incoming"
    else:
        direction = None
    kind = row.get("ZCALLTYPE")
    provider = text(row.get("ZSERVICE_PROVIDER"))
    app = PROVIDERS.get((provider or "").lower()) or (
        "facetime" if kind in (8, 16) else "phone" if kind == 1 or provider is None else provider)
    duration = row.get("ZDURATION")
    extra = {"call_type": CALL_TYPES.get(kind, kind), "service_provider": provider,
             "answered": None if answered is None else bool(answered),
             "duration_exact": duration if isinstance(duration, float) and not duration.is_integer() else None,
             "country": country, "location": text(row.get("ZLOCATION")),
             "disconnected_cause": row.get("ZDISCONNECTED_CAUSE"), "read": row.get("ZREAD"),
             "unique_id": text(row.get("ZUNIQUE_ID")), "emergency": bool(row.get("ZWASEMERGENCYCALL")) or None,
             "blocked_by": blocked_by,
             "participants": others if len(others) > 1 else None}
    return Call(app=app, source=source(ctx, "ZCALLRECORD", row["Z_PK"], rec), time=cocoa(row.get("ZDATE")),
                direction=direction, number=party, name=text(row.get("ZNAME")),
                duration=int(duration) if isinstance(duration, (int, float)) else None,
                video=kind == 8 if kind in (1, 8, 16) else None, recovered=rec is not None, extra=compact(extra))
