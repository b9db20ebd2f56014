"""Money identifiers that carry their own check: IBANs (ISO 13616 mod-97) and crypto wallets.

Only values whose checksum holds are accepted, so a random string never becomes a link:
- IBAN: known country, that country's length, mod 97 == 1. Canonical: upper case, no spaces.
- Bitcoin: base58check P2PKH/P2SH (`1…`, `3…`, version 0x00/0x05) and segwit bech32 (v0) /
  bech32m (v1+) `bc1…` (BIP 173/350). Canonical: as written (base58), lower case (bech32).
- TRON (USDT-TRC20, the smugglers' usual currency): base58check, 21 bytes starting 0x41 (`T…`).
- Ethereum and its tokens (USDT-ERC20, also BSC): `0x` + 40 hex digits; mixed case must satisfy
  EIP-55, all-lower/all-upper has no checksum to check. Canonical: lower case.
"""

from __future__ import annotations

import hashlib
import re

from .keccak import keccak256

# ISO 13616 registry lengths, plus the national IBANs of West and North Africa in use by banks
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    "AO": 25, "BF": 28, "BJ": 28, "CF": 27, "CG": 27, "CI": 28, "CM": 27, "CV": 25, "DZ": 26, "GA": 27,
    "GQ": 27, "GW": 25, "HN": 28, "IR": 26, "KM": 27, "MA": 28, "MG": 27, "ML": 28, "MZ": 25, "NE": 28,
    "SN": 28, "TD": 27, "TG": 28,
}
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32)}
_WALLET = re.compile(r"(?<![A-Za-z0-9])(?:"
                     r"(?P<eth>0x[0-9A-Fa-f]{40})"
                     r"|(?P<seg>(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87})"
                     r"|(?P<b58>[13T][1-9A-HJ-NP-Za-km-z]{25,34})"
                     r")(?![A-Za-z0-9])")


# ---------------------------------------------------------------- IBAN

def iban(text: str) -> str | None:
    """The canonical IBAN if `text` (spaces and hyphens allowed) is a checksum-valid IBAN."""
    compact = re.sub(r"[\s-]", "", text).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return None
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return None
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return compact if int(number) % 97 == 1 else None


def find_ibans(text: str) -> list[str]:
    """Checksum-valid IBANs in free text, written whole or in groups (spaces, hyphens)."""
    out: list[str] = []
    for m in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        chars = [m.group(1), m.group(2)]
        have, i = 4, m.end()
        while have < length and i < len(text):
            ch = text[i]
            if ch.isascii() and ch.isalnum():
                chars.append(ch)
                have += 1
                i += 1
            elif ch in " -" and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalnum():
                i += 1
            else:
                break
        if have != length or (i < len(text) and text[i].isascii() and text[i].isalnum()):
            continue
        found = iban("".join(chars))
        if found and found not in out:
            out.append(found)
    return out


# ---------------------------------------------------------------- wallets

def _b58decode(text: str) -> bytes | None:
    number = 0
    for ch in text:
        index = _B58_INDEX.get(ch)
        if index is None:
            return None
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\x00" * pad + body


def base58check(text: str) -> bytes | None:
    """The payload of a base58check string whose 4-byte double-SHA-256 checksum holds."""
    raw = _b58decode(text)
    if raw is None or len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    return payload if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == check else None


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _convert5to8(data: list[int]) -> bytes | None:
    acc = bits = 0
    out = bytearray()
    for value in data:
        acc = (acc << 5) | value
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc << (8 - bits)) & 0xFF:
        return None
    return bytes(out)


def segwit(text: str, hrp: str = "bc") -> str | None:
    """A valid segwit address (BIP 173 bech32 for v0, BIP 350 bech32m for v1+), lower-cased."""
    if text.lower() != text and text.upper() != text or len(text) > 90:
        return None
    text = text.lower()
    pos = text.rfind("1")
    if text[:pos] != hrp or pos + 7 > len(text):
        return None
    try:
        data = [_BECH32_INDEX[c] for c in text[pos + 1:]]
    except KeyError:
        return None
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = _polymod(expanded + data)
    if not data or data[0] > 16:
        return None
    version = data[0]
    if const != (1 if version == 0 else 0x2BC830A3):
        return None
    program = _convert5to8(data[1:-6])
    if program is None or not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        return None
    return text


def eip55(address: str) -> str:
    """The EIP-55 mixed-case form of a 0x address."""
    hexpart = address[2:].lower()
    digest = keccak256(hexpart.encode()).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(hexpart))


def wallet(text: str) -> tuple[str, str] | None:
    """(network, canonical address) of a checksum-valid wallet address, else None."""
    text = text.strip()
    if re.fullmatch(r"0x[0-9A-Fa-f]{40}", text):
        body = text[2:]
        if body != body.lower() and body != body.upper() and eip55(text) != text:
            return None
        return "ethereum", text.lower()
    if text[:3].lower() == "bc1":
        found = segwit(text)
        return ("bitcoin", found) if found else None
    payload = base58check(text)
    if payload is None or len(payload) != 21:
        return None
    if text.startswith("T") and payload[0] == 0x41:
        return "tron", text
    if payload[0] in (0x00, 0x05) and text[0] in "13":
        return "bitcoin", text
    return None


def find_wallets(text: str) -> list[dict[str, str]]:
    """Checksum-valid wallet addresses in free text: [{"network", "address"}]."""
    out: list[dict[str, str]] = []
    for m in _WALLET.finditer(text):
        found = wallet(m.group(0))
        if found and all(w["address"] != found[1] for w in out):
            out.append({"network": found[0], "address": found[1]})
    return out
