"""SIM cards the phone has seen: the telephony provider's `telephony.db`, table `siminfo` (AOSP
TelephonyProvider; the columns grew from Android 5.1 to 15, so each is read only when present).

One `sim` record per row: the phone number in `value` (E.164: read for the SIM's own country,
`iso_country_code`, when the row has one, else for the case's region; the text as stored when it is
no number), the display name (else the carrier) in `title`, and in `data` the ICCID, IMSI, carrier,
MCC/MNC, country, slot (`sim_id`, -1 when not inserted), card id, carrier id and whether it is an
eSIM. The MCC/MNC string columns of Android 10+ keep leading zeros and win over the integer ones;
an integer MCC of 0 is the column's default and means unknown (no MCC/MNC given then).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import phone
from ..records import Item, Record

COLUMNS = {"icc_id": "iccid", "imsi": "imsi", "display_name": "display_name", "carrier_name": "carrier",
           "iso_country_code": "country", "sim_id": "slot", "card_id": "card_id", "carrier_id": "carrier_id",
           "is_embedded": "esim", "number": "number_as_stored"}


class AndroidSimInfo(Artifact):
    NAME = "android.siminfo"
    VERSION = "1.0"
    APP = "android"
    DESCRIPTION = "SIM cards (ICCID, number, carrier, MCC/MNC) from telephony.db siminfo"
    PATTERNS = ("*/com.android.providers.telephony/databases/telephony.db",)

    def parse(self, ctx: Context) -> Iterator[Record]:
        if not ctx.has("siminfo", "_id", "icc_id"):
            ctx.warn("no siminfo table with _id and icc_id (unknown schema version)", "siminfo")
            return
        try:
            for row in ctx.rows("SELECT * FROM siminfo ORDER BY _id"):
                yield self._sim(ctx, dict(row))
        except sqlite3.DatabaseError as exc:
            ctx.warn(f"reading stopped: {exc}", "siminfo")

    @staticmethod
    def _sim(ctx: Context, r: dict[str, Any]) -> Item:
        data: dict[str, Any] = {}
        for column, key in COLUMNS.items():
            if r.get(column) not in (None, ""):
                data[key] = bool(r[column]) if key == "esim" else r[column]
        mcc = r.get("mcc_string") or (str(r["mcc"]) if r.get("mcc") else None)  # 0 is the column's default
        if mcc:
            data["mcc"] = mcc
            mnc = r.get("mnc_string") or (str(r["mnc"]) if r.get("mnc") is not None else None)
            if mnc:
                data["mnc"] = mnc
        country = str(r.get("iso_country_code") or "").strip().upper()
        raw = r.get("number")
        number = phone(raw, country) if country and len(country) == 2 else ctx.phone(raw)
        return Item(kind="sim", app="android", source=ctx.source("siminfo", r["_id"]), value=number,
                    title=r.get("display_name") or r.get("carrier_name") or None, data=data)
