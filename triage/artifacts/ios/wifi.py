"""Wi-Fi networks the phone knew: `com.apple.wifi.known-networks.plist` (iOS 16 and later, under
`/private/var/preferences/`), or the `List of known networks` of `com.apple.wifi.plist` before.

iOS 16+: one dict per network, keyed `wifi.network.ssid.<SSID>`: `SSID` (bytes), `AddedAt`,
`JoinedByUserAt`, `JoinedBySystemAt`, `LastDiscoveredAt`, `UpdatedAt`, `SupportedSecurityTypes`,
`Hidden`, `AddReason` ("Cloud Sync": it came from another device), `CaptiveProfile` (portal URLs),
and `BSSList`: the access points it used (`BSSID`, `Channel`, `LastAssociatedAt`); `__OSSpecific__`
holds the last BSSID. Older: `SSID_STR`, `BSSID`, `lastJoined`, `lastAutoJoined`, `SecurityMode`,
`networkKnownBSSListKey`. Each network is an Item of kind `wifi` (app `ios`, as Android's are `android`):
value the SSID, title its security, timed at its last join.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..records import Item, Record
from ._common import compact, text
from ._plist import get, mac, table, when

PREFIX = "wifi.network.ssid."


class IOSWifi(Artifact):
    NAME = "ios.wifi"
    VERSION = "1.0"
    APP = "ios"
    FORMAT = "plist"
    DESCRIPTION = "Known Wi-Fi networks and their access points (com.apple.wifi.known-networks.plist)"
    PATTERNS = ("*/com.apple.wifi.known-networks.plist", "*/com.apple.wifi.plist")

    def parse(self, ctx: Context) -> Iterator[Record]:
        tree = ctx.file.plist()
        if not isinstance(tree, dict):
            ctx.warn("the property list is not a dictionary (unknown layout)")
            return
        if ctx.file.path.endswith("known-networks.plist"):
            for key, network in tree.items():
                if isinstance(network, dict) and str(key).startswith(PREFIX):
                    yield _network(ctx, str(key), network)
            return
        known = tree.get("List of known networks")
        for index, network in enumerate(known if isinstance(known, list) else []):
            if isinstance(network, dict):
                yield _legacy(ctx, index, network)


def _ssid(value: Any, fallback: str) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return text(value) or fallback


def _network(ctx: Context, key: str, network: dict[str, Any]) -> Item:
    ssid = _ssid(network.get("SSID"), key[len(PREFIX):])
    bss = [compact({"bssid": mac(b.get("BSSID")), "channel": b.get("Channel"),
                    "last_associated": when(b.get("LastAssociatedAt"))})
           for b in network.get("BSSList") or [] if isinstance(b, dict)]
    joined = [t for t in (network.get("JoinedByUserAt"), network.get("JoinedBySystemAt")) if t is not None]
    last = max(joined) if joined else None
    captive = table(network.get("CaptiveProfile"))
    data: dict[str, Any] = {"ssid": ssid, "bssid": mac(get(network, "__OSSpecific__", "BSSID")),
            "bssids": [b["bssid"] for b in bss if b.get("bssid")], "bss": bss,
            "added": when(network.get("AddedAt")), "joined_by_user": when(network.get("JoinedByUserAt")),
            "joined_by_system": when(network.get("JoinedBySystemAt")), "last_joined": when(last),
            "last_discovered": when(network.get("LastDiscoveredAt")), "updated": when(network.get("UpdatedAt")),
            "password_modified": when(get(network, "__OSSpecific__", "WiFiNetworkPasswordModificationDate")),
            "security": text(network.get("SupportedSecurityTypes")), "hidden": network.get("Hidden"),
            "add_reason": text(network.get("AddReason")), "captive": captive.get("CaptiveNetwork"),
            "portal": text(captive.get("UserPortalURL"))}
    return Item(kind="wifi", app="ios", source=ctx.source(key, None), time=when(last) or data["added"],
                title=data["security"], value=ssid, data=compact(data))


def _legacy(ctx: Context, index: int, network: dict[str, Any]) -> Item:
    ssid = _ssid(network.get("SSID_STR") or network.get("SSID"), f"network {index}")
    bss = [compact({"bssid": mac(b.get("BSSID")), "channel": b.get("CHANNEL"),
                    "last_associated": when(b.get("lastRoamed"))})
           for b in network.get("networkKnownBSSListKey") or [] if isinstance(b, dict)]
    joined = [t for t in (network.get("lastJoined"), network.get("lastAutoJoined")) if t is not None]
    data: dict[str, Any] = {
        "ssid": ssid, "bssid": mac(network.get("BSSID")), "bssids": [b["bssid"] for b in bss if b.get("bssid")],
        "bss": bss, "last_joined": when(max(joined)) if joined else None,
        "joined_by_user": when(network.get("lastJoined")), "joined_by_system": when(network.get("lastAutoJoined")),
        "security": text(network.get("SecurityMode")), "hidden": network.get("HIDDEN_NETWORK")}
    return Item(kind="wifi", app="ios", source=ctx.source("List of known networks", index), time=data["last_joined"],
                title=data["security"], value=ssid, data=compact(data))
