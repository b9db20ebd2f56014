"""WhatsApp on iOS: the call log, `CallHistory.sqlite` (Core Data) in the app group.

`ZWACDCALLEVENT`: one call (`ZDATE` Cocoa seconds, `ZDURATION` seconds, `ZOUTCOME` 0 ended,
1 missed, 4 rejected as iLEAPP reads them, `ZGROUPCALLCREATORUSERJIDSTRING` the one who started it,
`ZGROUPJIDSTRING` for a group call, `Z1CALLEVENTS` its `ZWAAGGREGATECALLEVENT` with `ZINCOMING`,
`ZVIDEO` and `ZMISSED`). `ZWACDCALLEVENTPARTICIPANT` (`Z1PARTICIPANTS` = the call) names the other
parties by JID. The call is incoming when its creator is the other party (or, without a creator,
when the aggregate says so). Names come from `ContactsV2.sqlite` beside it.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Call, Record
from ._common import Row, compact, live_and_recovered, source, text
from ._whatsapp import address_book, patterns

OUTCOMES: dict[Any, str] = {0: "ended", 1: "missed", 4: "rejected"}


class IOSWhatsAppCalls(Artifact):
    NAME = "ios.whatsapp.calls"
    VERSION = "1.0"
    APP = "whatsapp"
    DESCRIPTION = "WhatsApp voice and video calls (CallHistory.sqlite in the app group)"
    PATTERNS = patterns("CallHistory.sqlite")
    ALSO = patterns("ContactsV2.sqlite")  # names from the app's address book beside it

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("ZWACDCALLEVENT", "Z_PK", "ZDATE", "ZDURATION"):
            ctx.warn("no ZWACDCALLEVENT table with Z_PK, ZDATE and ZDURATION (not WhatsApp's, or an unknown "
                     "schema version)", "ZWACDCALLEVENT")
            return
        parties: dict[int, list[str]] = {}
        if ctx.has("ZWACDCALLEVENTPARTICIPANT", "Z1PARTICIPANTS", "ZJIDSTRING"):
            for r in ctx.rows("SELECT Z1PARTICIPANTS, ZJIDSTRING FROM ZWACDCALLEVENTPARTICIPANT ORDER BY Z_PK"):
                jid = ctx.jid(text(r["ZJIDSTRING"]))
                if jid:
                    parties.setdefault(r["Z1PARTICIPANTS"], []).append(jid)
        aggregates = {r["Z_PK"]: dict(r) for r in ctx.rows("SELECT * FROM ZWAAGGREGATECALLEVENT")} \
            if ctx.has("ZWAAGGREGATECALLEVENT", "Z_PK") else {}
        book = address_book(ctx)
        for row, rec in live_and_recovered(ctx, "ZWACDCALLEVENT", "SELECT * FROM ZWACDCALLEVENT ORDER BY Z_PK",
                                           "Z_PK"):
            others = parties.get(row["Z_PK"], []) if rec is None else []
            yield _call(ctx, row, rec, others, aggregates.get(row.get("Z1CALLEVENTS") or -1, {}), book)


def _call(ctx: Context, row: Row, rec: Any, others: list[str], aggregate: Row, book: dict[str, Any]) -> Call:
    creator = ctx.jid(text(row.get("ZGROUPCALLCREATORUSERJIDSTRING")))
    group = ctx.jid(text(row.get("ZGROUPJIDSTRING")))
    party = others[0] if others else None
    if creator and party:
        incoming: bool | None = creator in others
    elif aggregate.get("ZINCOMING") is not None:
        incoming = bool(aggregate["ZINCOMING"])
    else:
        incoming = None
    outcome = row.get("ZOUTCOME")
    if incoming is False:
        direction: str | None = "outgoing"
    elif outcome == 1 or (incoming and aggregate.get("ZMISSED")):
        direction = "missed"
    elif outcome == 4 and incoming:
        direction = "rejected"
    else:
        direction = "incoming" if incoming else None
    duration = row.get("ZDURATION")
    video = aggregate.get("ZVIDEO")
    person = book.get(party or "")
    extra = {"outcome": OUTCOMES.get(outcome, outcome), "creator": creator, "group": group,
             "participants": others if len(others) > 1 else None,
             "duration_exact": duration if isinstance(duration, float) else None,
             "bytes_sent": row.get("ZBYTESSENT"), "bytes_received": row.get("ZBYTESRECEIVED"),
             "call_id": text(row.get("ZCALLIDSTRING")), "aggregate": row.get("Z1CALLEVENTS"),
             "number": person.number if person and party and party.startswith("lid:") else None}
    return Call(app="whatsapp", source=source(ctx, "ZWACDCALLEVENT", row["Z_PK"], rec), time=cocoa(row.get("ZDATE")),
                direction=direction, number=party or group, name=person.name if person else None,
                duration=int(duration) if isinstance(duration, (int, float)) else None,
                video=None if video is None else bool(video), recovered=rec is not None, extra=compact(extra))
