"""Android call log: the contacts provider's `calls` table, in `calllog.db` (Android 7 and later) or,
on older phones, in `contacts2.db`.

`type`: 1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked, 7 answered on another
device; `date` is Unix milliseconds, `duration` seconds; `features` bit 0 marks a video call.
`presentation` 2, 3 and 4 say the network withheld the number. The number is read in the country the
phone recorded for the call (`countryiso`), else in the case's region; where that gives no E.164
form, the phone's own `normalized_number` is used. A `contacts2.db` without a `calls` table (every
Android 7+ phone) is not a gap: its calls are in `calllog.db`.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from .. import Artifact
from ..context import Context, RecoveredRow
from ..normalise import is_number, phone, unix_ms
from ..records import Call, Record
from ._guard import Reading, guarded
from ._sql import dicts

DIRECTION = {1: "incoming", 2: "outgoing", 3: "missed", 4: "missed", 5: "rejected", 6: "blocked", 7: "incoming"}
TYPE_NAME = {1: "incoming", 2: "outgoing", 3: "missed", 4: "voicemail", 5: "rejected", 6: "blocked",
             7: "answered_externally"}
PRESENTATION = {1: "allowed", 2: "restricted", 3: "unknown", 4: "payphone", 5: "unavailable"}
FEATURE_VIDEO = 1
EXTRA_TEXT = ("geocoded_location", "countryiso", "numberlabel", "via_number", "post_dial_digits",
              "subscription_id", "phone_account_address", "transcription", "voicemail_uri")


def number_of(ctx: Context, raw: Any, country: Any, normalized: Any) -> str | None:
    """The number in E.164 where the phone's own data allows it, else as stored."""
    if raw in (None, ""):
        return None
    region = country.strip().upper() if isinstance(country, str) and len(country.strip()) == 2 else ctx.region
    number = phone(raw, region)
    if not is_number(number) and isinstance(normalized, str) and is_number(normalized.strip()):
        return normalized.strip()
    return number


class AndroidCallLog(Artifact):
    NAME = "android.calllog"
    VERSION = "1.0"
    APP = "phone"
    DESCRIPTION = "Phone calls from the contacts provider's call log (calllog.db, or contacts2.db before Android 7)"
    PATTERNS = ("*/com.android.providers.contacts/databases/calllog.db", "*/calllog.db",
                "*/com.android.providers.contacts/databases/contacts2.db", "*/contacts2.db")
    TABLES = (("calls",),)

    def parse(self, ctx: Context) -> Iterator[Record]:
        reading = Reading()
        reading.table = "calls"
        yield from guarded(ctx, reading, self._calls(ctx))

    def _calls(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("calls"):
            if ctx.file.path.rsplit("/", 1)[-1] != "contacts2.db":
                ctx.warn("no calls table (unknown schema version)", "calls")
            return
        if not ctx.has("calls", "number", "date", "type"):
            ctx.warn("the calls table lacks number, date or type (unknown schema version)", "calls")
            return
        for row in dicts(ctx, "SELECT * FROM calls ORDER BY _id"):
            yield self._call(ctx, row, None)
        for rec in ctx.file.recovered(["calls"]):
            yield self._call(ctx, rec.values, rec)

    def _call(self, ctx: Context, row: Mapping[str, Any], rec: RecoveredRow | None) -> Call:
        kind = row.get("type")
        features = row.get("features")
        presentation = row.get("presentation")
        extra: dict[str, Any] = {"type": TYPE_NAME.get(kind, kind) if kind is not None else None}
        if isinstance(presentation, int) and presentation != 1:
            extra["presentation"] = PRESENTATION.get(presentation, presentation)
        raw = row.get("number")
        if raw not in (None, ""):
            extra["number_as_stored"] = raw
        for key in EXTRA_TEXT:
            if row.get(key) not in (None, ""):
                extra[key] = row[key]
        for key in ("new", "is_read"):
            if row.get(key) is not None:
                extra[key] = row[key]
        if row.get("deleted"):
            extra["deleted_flag"] = row["deleted"]
        if row.get("last_modified"):
            extra["last_modified"] = unix_ms(row["last_modified"])
        duration = row.get("duration")
        source = ctx.recovered_source(rec) if rec is not None else ctx.source("calls", row.get("_id"))
        return Call(app=self.APP, source=source, time=unix_ms(row.get("date")),
                    direction=DIRECTION.get(kind) if isinstance(kind, int) else None,
                    number=number_of(ctx, raw, row.get("countryiso"), row.get("normalized_number")),
                    name=row.get("name") or None, duration=duration if isinstance(duration, int) else None,
                    video=bool(features & FEATURE_VIDEO) if isinstance(features, int) else None,
                    recovered=rec is not None, extra={k: v for k, v in extra.items() if v is not None})
