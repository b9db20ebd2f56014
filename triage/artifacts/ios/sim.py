"""SIM cards and the phone's own numbers, from the CommCenter property lists.

`com.apple.commcenter.data.plist`: `PersonalWallet.<ICCID>.info` for each SIM the phone has held:
`mdn` (its phone number), `label-id`, `type` (sim, esim…), `ts` (Unix seconds, last used).
`com.apple.commcenter.plist`: `PersonalWallet.<ICCID>` with `phonebook.CopiedSIMPhoneNumber`,
`SubscriptionConfiguration.IMSI` or `CarrierEntitlements.lastGoodImsi`,
`SimDeactivationInfo.LastRegisteredNetworkPlmn`; `PhoneNumber` and `LastKnownICCID` at the top.
`com.apple.commcenter.device_specific_nobackup.plist`: `ReportedPhoneNumber`,
`ReportedSubscriberIdentity` (IMSI), `imeis` (pairs: the slot, `1:kOne`, and the IMEI), `meid`.
Each SIM is an Item of kind `sim` (value: its number in E.164), each IMEI or MEID one of kind `device`.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..records import Item, Record
from ._common import compact, text
from ._plist import get, table, when


class IOSSim(Artifact):
    NAME = "ios.sim"
    VERSION = "1.0"
    APP = "ios"
    FORMAT = "plist"
    DESCRIPTION = "SIM cards (ICCID, IMSI, number) and device ids (IMEI, MEID) from CommCenter"
    PATTERNS = ("*/com.apple.commcenter.data.plist", "*/com.apple.commcenter.plist",
                "*/com.apple.commcenter.device_specific_nobackup.plist")

    def parse(self, ctx: Context) -> Iterator[Record]:
        tree = ctx.file.plist()
        if not isinstance(tree, dict):
            ctx.warn("the property list is not a dictionary (unknown layout)")
            return
        wallet = table(tree.get("PersonalWallet"))
        last_iccid = text(tree.get("LastKnownICCID"))
        for iccid, sim in wallet.items():
            if isinstance(sim, dict):
                item = _sim(ctx, str(iccid), sim, tree if str(iccid) == last_iccid else {})
                if item is not None:
                    yield item
        reported = text(tree.get("ReportedPhoneNumber"))
        if reported or text(tree.get("ReportedSubscriberIdentity")):
            yield Item(kind="sim", app="ios", source=ctx.source("ReportedPhoneNumber", None),
                       title="reported SIM", value=ctx.phone(reported) if reported else None,
                       data=compact({"number_as_stored": reported,
                                     "imsi": text(tree.get("ReportedSubscriberIdentity"))}))
        for index, pair in enumerate(tree.get("imeis") or []):  # {first: slot ("1:kOne"), second: IMEI}
            parts = [text(v) for v in table(pair).values()] if isinstance(pair, dict) else [text(pair)]
            imei = next((v for v in parts if v and v.isdigit()), None)
            if imei:
                slot = next((v for v in parts if v and v != imei), None)
                yield Item(kind="device", app="ios", source=ctx.source("imeis", index), title="IMEI",
                           value=imei, data=compact({"slot": slot}))
        if text(tree.get("meid")):
            yield Item(kind="device", app="ios", source=ctx.source("meid", None), title="MEID",
                       value=text(tree.get("meid")))


def _sim(ctx: Context, iccid: str, sim: dict[str, Any], top: dict[str, Any]) -> Item | None:
    info = table(sim.get("info"))
    raw = text(info.get("mdn")) or text(get(sim, "phonebook", "CopiedSIMPhoneNumber")) \
        or text(get(sim, "phonebook", "PNRPhoneNumber")) or text(top.get("PhoneNumber"))
    imsi = text(get(sim, "SubscriptionConfiguration", "IMSI")) or text(get(sim, "CarrierEntitlements", "lastGoodImsi"))
    if not (raw or imsi or info):
        return None  # a wallet entry holding only carrier settings
    data = {"iccid": iccid, "imsi": imsi, "number_as_stored": raw, "label": text(info.get("label-id")),
            "type": text(info.get("type")), "carrier_bundle_version": text(info.get("cb_ver")),
            "network": text(get(sim, "SimDeactivationInfo", "LastRegisteredNetworkPlmn")),
            "last_known": True if top else None}
    return Item(kind="sim", app="ios", source=ctx.source(f"PersonalWallet/{iccid}", None),
                time=when(info.get("ts")), title=f"SIM {iccid}", value=ctx.phone(raw) if raw else None,
                data=compact(data))
