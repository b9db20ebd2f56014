"""Wi-Fi networks the phone saved: `WifiConfigStore.xml` (Android 8+; under `apexdata/com.android.wifi`
from Android 11) and the older `wpa_supplicant.conf`.

One `wifi` record per saved network: the SSID in `value`, the security (`WPA_PSK`, `SAE`, `NONE`,
`WEP`, `WPA_EAP`, …, from the ConfigKey, else the allowed key management) in `title`. A stored key
is never copied: `data.key_stored` says one exists and `data.key_type` what kind (psk, wep, eap). The
BSSID, default gateway MAC, hidden flag, creator, whether it ever connected and the times are kept
where the file has them: Samsung's `semCreationTime`/`semUpdateTime`/`LastConnectedTime`
(milliseconds, UTC) give `created`/`updated`/`last_connected`, and the record's time is the last
connection, else the creation; AOSP's `CreationTime` is a local-time text without year or zone
(`time=06-15 12:34:56.789`) and is kept as written in `creation_time_text`.
The XML is read through defusedxml (or the ABX reader); a file that is neither is one warning.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import unix_ms
from ..records import Item, Record
from . import abx

KEY_MGMT = ("NONE", "WPA_PSK", "WPA_EAP", "IEEE8021X", "WPA2_PSK", "OSEN", "FT_PSK", "FT_EAP", "SAE", "OWE",
            "SUITE_B_192", "WPA_PSK_SHA256", "WPA_EAP_SHA256", "WAPI_PSK", "WAPI_CERT", "FILS_SHA256",
            "FILS_SHA384", "DPP")
SUPPLICANT_SECURITY = {"NONE": "NONE", "WPA-PSK": "WPA_PSK", "WPA-EAP": "WPA_EAP", "IEEE8021X": "IEEE8021X",
                       "SAE": "SAE", "OWE": "OWE", "WPA-PSK-SHA256": "WPA_PSK_SHA256"}
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$")


def values(section: ET.Element | None) -> dict[str, Any]:
    """The named values of one section, as AOSP XmlUtils writes them (`<string name=…>`, `<int …>`…)."""
    out: dict[str, Any] = {}
    if section is None:
        return out
    for child in section:
        name = child.get("name")
        if name is None:
            continue
        tag = child.tag
        if tag == "string":
            out[name] = child.text or ""
        elif tag in ("int", "long"):
            try:
                out[name] = int(child.get("value", ""))
            except ValueError:
                out[name] = child.get("value")
        elif tag == "boolean":
            out[name] = child.get("value") == "true"
        elif tag == "null":
            out[name] = None
        elif tag == "byte-array":
            out[name] = (child.text or "").strip()
        elif tag == "string-array":
            out[name] = [item.get("value") or "" for item in child if item.tag == "item"]
    return out


def ssid_text(raw: str | None) -> tuple[str | None, str | None]:
    """(SSID, hex form when the SSID is not stored as quoted text)."""
    if raw is None or raw == "":
        return None, None
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1], None
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", raw):
        return bytes.fromhex(raw).decode("utf-8", "replace"), raw.lower()
    return raw, None


def security_from(config_key: str | None, key_mgmt_hex: str | None, wep: bool) -> str | None:
    if config_key and '"' in config_key:
        tail = config_key.rsplit('"', 1)[-1].strip()
        if tail:
            return tail
    if key_mgmt_hex and re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", key_mgmt_hex):
        bits = int.from_bytes(bytes.fromhex(key_mgmt_hex), "little")  # a Java BitSet's bytes
        names = [KEY_MGMT[i] if i < len(KEY_MGMT) else f"KEY_MGMT_{i}" for i in range(bits.bit_length())
                 if bits >> i & 1]
        if names == ["NONE"] and wep:
            return "WEP"
        if names:
            return "+".join(names)
    return "WEP" if wep else None


class AndroidWifi(Artifact):
    NAME = "android.wifi"
    VERSION = "1.0"
    APP = "android"
    DESCRIPTION = "Saved Wi-Fi networks (WifiConfigStore.xml, wpa_supplicant.conf); keys noted, never copied"
    PATTERNS = ("*/misc/wifi/WifiConfigStore.xml", "*/misc/apexdata/com.android.wifi/WifiConfigStore.xml",
                "*/misc_ce/*/wifi/WifiConfigStore.xml", "*/misc_ce/*/apexdata/com.android.wifi/WifiConfigStore.xml",
                "*/misc/wifi/wpa_supplicant.conf")
    FORMAT = "bytes"

    def parse(self, ctx: Context) -> Iterator[Record]:
        data = ctx.file.read_bytes()
        if ctx.file.path.endswith(".conf"):
            yield from self._supplicant(ctx, data.decode("utf-8", "replace"))
            return
        try:
            root, note = abx.load(data)
        except abx.BadXml as exc:
            ctx.warn(f"not read: {exc}", "WifiConfigStoreData")
            return
        if note:
            ctx.warn(note, "WifiConfigStoreData")
        networks = root.findall("./NetworkList/Network")
        if root.tag != "WifiConfigStoreData" or (not networks and root.find("NetworkList") is None):
            ctx.warn(f"no WifiConfigStoreData/NetworkList (root element {root.tag!r}: unknown layout)", "NetworkList")
        for index, network in enumerate(networks, 1):
            record = self._network(ctx, network, index)
            if record is not None:
                yield record

    def _network(self, ctx: Context, network: ET.Element, index: int) -> Item | None:
        config = values(network.find("WifiConfiguration"))
        status = values(network.find("NetworkStatus"))
        ip = values(network.find("IpConfiguration"))
        enterprise = values(network.find("WifiEnterpriseConfiguration"))
        ssid, ssid_hex = ssid_text(config.get("SSID"))
        if ssid is None and not config:
            return None
        wep = any(k for k in config.get("WEPKeys") or [] if k)
        section = network.find("WifiConfiguration/PreSharedKey")  # Android 11+: an encrypted section
        psk = config.get("PreSharedKey") not in (None, "") or section is not None
        data: dict[str, Any] = {"security": security_from(config.get("ConfigKey"), config.get("AllowedKeyMgmt"), wep),
                                "key_stored": bool(psk or wep or enterprise.get("Password"))}
        if data["key_stored"]:
            data["key_type"] = "psk" if psk else "wep" if wep else "eap"
        if section is not None and section.find(".//EncryptedData") is not None:
            data["key_encrypted"] = True
        if ssid_hex:
            data["ssid_hex"] = ssid_hex
        for key, out in (("BSSID", "bssid"), ("DefaultGwMacAddress", "default_gateway_mac"),
                         ("RandomizedMacAddress", "randomized_mac"), ("CreatorName", "creator"),
                         ("LastUpdateName", "last_updated_by"), ("ConfigKey", "config_key"),
                         ("CreationTime", "creation_time_text")):
            if config.get(key):
                data[out] = config[key]
        for key, out in (("HiddenSSID", "hidden"), ("CreatorUid", "creator_uid"), ("NumAssociation", "associations"),
                         ("MeteredHint", "metered")):
            if config.get(key) is not None:
                data[out] = config[key]
        if "HasEverConnected" in status:
            data["has_ever_connected"] = status["HasEverConnected"]
        if status.get("SelectionStatus"):
            data["selection_status"] = status["SelectionStatus"]
        if ip.get("IpAssignment"):
            data["ip_assignment"] = ip["IpAssignment"]
        if enterprise.get("Identity"):
            data["eap_identity"] = enterprise["Identity"]
        for key, out in (("semCreationTime", "created"), ("semUpdateTime", "updated"),
                         ("LastConnectedTime", "last_connected")):
            when = unix_ms(config.get(key)) if isinstance(config.get(key), int) else None
            if when:
                data[out] = when
        return Item(kind="wifi", app="android", source=ctx.source("NetworkList", index),
                    time=data.get("last_connected") or data.get("created"), title=data["security"], value=ssid,
                    data=data)

    def _supplicant(self, ctx: Context, text: str) -> Iterator[Item]:
        block: dict[str, str] | None = None
        index = 0
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("network={"):
                block = {}
                index += 1
            elif stripped == "}" and block is not None:
                yield self._supplicant_network(ctx, block, index)
                block = None
            elif block is not None:
                match = _ASSIGN.match(stripped)
                if match and not stripped.startswith("#"):
                    block[match[1]] = match[2]
        if block is not None:
            ctx.warn(f"network block {index} is not closed (file cut short?): read as far as it goes", "network")
            yield self._supplicant_network(ctx, block, index)

    @staticmethod
    def _supplicant_network(ctx: Context, block: dict[str, str], index: int) -> Item:
        ssid, ssid_hex = ssid_text(block.get("ssid"))
        wep = any(block.get(f"wep_key{i}") for i in range(4))
        mgmt = (block.get("key_mgmt") or "").split()
        names = [SUPPLICANT_SECURITY.get(m, m.replace("-", "_")) for m in mgmt]
        security = "WEP" if wep and names in ([], ["NONE"]) else "+".join(names) if names else (
            "WPA_PSK" if block.get("psk") else None)
        data: dict[str, Any] = {"security": security,
                                "key_stored": bool(block.get("psk") or wep or block.get("password"))}
        if data["key_stored"]:
            data["key_type"] = "psk" if block.get("psk") else "wep" if wep else "eap"
        if ssid_hex:
            data["ssid_hex"] = ssid_hex
        for key, out in (("bssid", "bssid"), ("identity", "eap_identity")):
            if block.get(key):
                data[out] = block[key].strip('"')
        if block.get("priority", "").lstrip("-").isdigit():
            data["priority"] = int(block["priority"])
        for key, out in (("scan_ssid", "hidden"), ("disabled", "disabled")):
            if key in block:
                data[out] = block[key] == "1"
        return Item(kind="wifi", app="android", source=ctx.source("network", index), title=security, value=ssid,
                    data=data)
