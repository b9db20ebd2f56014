"""Indicators in free text: phone numbers, messaging handles and links, prices, places, dates.

Works on Arabic, French and English text. IBANs and crypto wallets are kept only when their
checksum holds (`triage.links.finance`). Before matching, Arabic-Indic and Persian digits become
ASCII digits and bidirectional marks are dropped. Phone numbers come out in E.164 through the
`phonenumbers` library; local forms are read with the default region. Place names and currency
words are data files in `rules/` (`places.txt`, `currencies.txt`), loaded through importlib.resources.
The same extractor serves web captures and text files found on devices.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import phonenumbers

from ..links.finance import find_ibans, find_wallets

NAME = "indicators"
VERSION = "1.1"

_DIGITS = {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)},
           0x066B: ".", 0x066C: ",", 0x060C: ","}
_BIDI = dict.fromkeys([0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0xFEFF, *range(0x202A, 0x202F),
                       *range(0x2066, 0x206A)])
_DIGITS.update(_BIDI)
_ARABIC_FOLD = str.maketrans({"ة": "ه", "ى": "ي", "ـ": None, "ٱ": "ا"})

# Telegram / WhatsApp / Signal links, and social profiles, written with or without a scheme.
_LINK = re.compile(
    r"(?i)(?<![\w.@/])(?:https?://)?(?:www\.)?"
    r"(?P<host>t\.me|telegram\.me|telegram\.dog|wa\.me|api\.whatsapp\.com|chat\.whatsapp\.com|"
    r"signal\.me|signal\.group|facebook\.com|m\.facebook\.com|instagram\.com|tiktok\.com|x\.com|twitter\.com)"
    r"(?P<rest>/[^\s<>\"'()\[\]{}،]*)?")
_HANDLE = re.compile(r"(?<![\w@.+/])@([A-Za-z][A-Za-z0-9_]{3,31})(?![\w@])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_ZERO_ZERO = re.compile(r"(?<![\w+])00(?=[1-9]\d(?:[\s.-]?\d){5,})")
_TG_RESERVED = {"s", "c", "joinchat", "share", "addstickers", "proxy", "socks", "iv", "addlist", "login"}


def normalise(text: str) -> str:
    """Arabic-Indic and Persian digits to ASCII, Arabic decimal/thousands marks to '.'/',', bidi marks dropped."""
    return text.translate(_DIGITS)


class _FoldTable(dict[int, "int | str | None"]):
    """`str.translate` table of `fold`, filled as characters are met: a combining mark (category
    Mn) is dropped, an Arabic letter unified (_ARABIC_FOLD, none of them a mark), any other kept.
    One C-level pass instead of a Python test per character."""

    def __missing__(self, code: int) -> int | str | None:
        value = None if unicodedata.category(chr(code)) == "Mn" else _ARABIC_FOLD.get(code, code)
        self[code] = value
        return value


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Matching form: NFKD without combining marks (accents, harakat, hamza), unified Arabic letters."""
    if text.isascii():  # already NFKD, no combining mark, no Arabic letter: nothing to do (most files)
        return text
    return unicodedata.normalize("NFKD", text).translate(_FOLD)


def extract_indicators(text: str, region: str = "LY") -> dict[str, list[Any]]:
    """All indicators in `text`; local phone numbers are read in `region` (ISO 3166 alpha-2)."""
    region = (region or "LY").upper()
    plain = normalise(text)
    links, link_phones, link_handles = _links(plain)
    phones = _unique(link_phones + _phones(plain, region))
    handles = _unique(link_handles + ["@" + h for h in _HANDLE.findall(_EMAIL.sub(" ", plain))], key=str.lower)
    folded = fold(plain)
    return {
        "phones": phones,
        "handles": handles,
        "links": links,
        "emails": _unique(_EMAIL.findall(plain), key=str.lower),
        "prices": _prices(folded, region),
        "places": _places(folded),
        "dates": _dates(folded),
        "ibans": find_ibans(plain),
        "wallets": find_wallets(plain),
    }


def _unique(items: list[Any], key: Any = None) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in items:
        k = key(item) if key else (repr(item) if isinstance(item, dict) else item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _e164(number: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# The fewest digits of a valid number written with its country code: of every region's and
# non-geographic code's metadata, country code + shortest national number (6 in phonenumbers 9.0:
# +43 and four digits). tests/analyzers/test_indicators.py checks it against the installed metadata.
MIN_INTERNATIONAL = 6


@lru_cache(maxsize=64)
def _fewest_digits(region: str) -> int:
    """The fewest digits any number valid under `region` holds: with a country code, or national in
    the region (a candidate has at least as many characters)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:  # unknown: only numbers with a country code
        return MIN_INTERNATIONAL
    lengths = [n for n in metadata.general_desc.possible_length if n > 0]
    return min(MIN_INTERNATIONAL, *lengths) if lengths else 1  # no lengths: none is ruled out


def _phones(text: str, region: str) -> list[str]:
    # '00' is the international prefix in most of Africa and Europe, whatever the default region.
    text = _ZERO_ZERO.sub("+", _LINK.sub(" ", text))
    found = []
    # a candidate shorter than the fewest digits a valid number holds is not tried: most of what the
    # matcher meets in text (versions, counts, short dates) is, and fails `Leniency.VALID` anyway
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID,
                                                 min_candidate_length=_fewest_digits(region)):
        found.append(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
    return found


def _links(text: str) -> tuple[list[str], list[str], list[str]]:
    """Messaging and profile links (normalised to https), with the phones and handles they carry."""
    links: list[str] = []
    phones: list[str] = []
    handles: list[str] = []
    for m in _LINK.finditer(text):
        host = m.group("host").lower()
        rest = (m.group("rest") or "").rstrip(".,;:!?»")
        if host.startswith("www."):
            host = host[4:]
        path = rest.split("?")[0].split("#")[0]
        parts = [p for p in path.split("/") if p]
        if host == "wa.me" and parts and re.fullmatch(r"\+?\d{6,15}", parts[0]):
            number = _e164("+" + parts[0].lstrip("+"), None)
            if number:
                phones.append(number)
        elif host == "api.whatsapp.com":
            q = re.search(r"[?&]phone=\+?(\d{6,15})", rest)
            number = _e164("+" + q.group(1), None) if q else None
            if number:
                phones.append(number)
        elif host in ("t.me", "telegram.me", "telegram.dog") and parts:
            name = parts[1] if parts[0] == "s" and len(parts) > 1 else parts[0]
            if name.lower() not in _TG_RESERVED and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", name):
                handles.append("@" + name)
        elif host == "signal.me":
            q = re.search(r"#p/\+?(\d{6,15})", rest)
            number = _e164("+" + q.group(1), None) if q else None
            if number:
                phones.append(number)
        elif not parts and host not in ("signal.group",):
            continue  # a bare social network host is not an indicator
        links.append(f"https://{host}{rest}")
    return _unique(links), phones, handles


# ---------------------------------------------------------------- prices

_AMOUNT = r"(?<![\d.,])(?P<{0}>\d{{1,3}}(?:[ .,]\d{{3}})+(?:[.,]\d{{1,2}})?|\d+(?:[.,]\d{{1,2}})?)(?![\d])"
_REGIONAL = {"DINAR": {"LY": "LYD", "TN": "TND", "DZ": "DZD", "JO": "JOD", "IQ": "IQD", "KW": "KWD"},
             "DIRHAM": {"MA": "MAD", "AE": "AED"}}
_REGIONAL_DEFAULT = {"DINAR": "LYD", "DIRHAM": "MAD"}


@lru_cache(maxsize=1)
def _currency_table() -> tuple[re.Pattern[str], dict[str, str]]:
    spellings: dict[str, str] = {}
    alternatives = []
    for code, names in _rule_lines("currencies.txt"):
        for name in [*names]:
            key = fold(name)
            if re.fullmatch(r"[A-Z]{2,4}", name):
                spellings[key] = code
                alternatives.append((len(key), re.escape(key)))
            else:
                spellings[key.casefold()] = code
                alternatives.append((len(key), "(?i:" + re.escape(key) + ")"))
    alternatives.sort(key=lambda a: -a[0])
    currency = "(?P<cur{0}>" + "|".join(a[1] for a in alternatives) + ")"
    tail = r"(?![^\W\d_])"
    pattern = (_AMOUNT.format("a1") + r"\s?" + currency.format("1") + tail + "|" +
               r"(?<![^\W\d_])" + currency.format("2") + r"\s?" + _AMOUNT.format("a2"))
    return re.compile(pattern), spellings


def _amount(text: str) -> int | float:
    text = text.replace(" ", "")
    m = re.fullmatch(r"(.*?)(?:[.,](\d{1,2}))?", text)
    assert m is not None
    whole = re.sub(r"[.,]", "", m.group(1))
    if m.group(2):
        return float(f"{whole}.{m.group(2)}")
    return int(whole)


def _prices(folded: str, region: str) -> list[dict[str, Any]]:
    pattern, spellings = _currency_table()
    found = []
    for m in pattern.finditer(folded):
        token = m.group("cur1") or m.group("cur2")
        code = spellings.get(token) or spellings.get(token.casefold(), "")
        code = _REGIONAL.get(code, {}).get(region) or _REGIONAL_DEFAULT.get(code, code)
        found.append({"amount": _amount(m.group("a1") or m.group("a2")), "currency": code,
                      "text": m.group(0).strip()})
    return _unique(found, key=lambda p: (p["amount"], p["currency"]))


# ---------------------------------------------------------------- places

def _rule_lines(name: str) -> list[tuple[str, list[str]]]:
    text = resources.files("rules").joinpath(name).read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, *aliases = [p.strip() for p in line.split("|")]
        out.append((head, [head, *[a for a in aliases if a]]))
    return out


def rule_files() -> dict[str, str]:
    """SHA-256 of each indicator list, for the tool manifest (origin of every rule file)."""
    return {name: hashlib.sha256(resources.files("rules").joinpath(name).read_bytes()).hexdigest()
            for name in ("places.txt", "currencies.txt")}


@lru_cache(maxsize=1)
def _place_table() -> tuple[re.Pattern[str], dict[str, str]]:
    canon: dict[str, str] = {}
    for head, aliases in _rule_lines("places.txt"):
        for alias in aliases:
            key = fold(alias).casefold()
            canon.setdefault(key, head)
            if key.startswith("ال"):
                canon.setdefault("ل" + key[1:], head)  # ل + ال -> لل
    keys = sorted(canon, key=len, reverse=True)
    body = "|".join(r"\s+".join(map(re.escape, k.split())) for k in keys)
    return re.compile(r"(?<!\w)(?:[وفبلك]{1,2})?(" + body + r")(?!\w)"), canon


def _places(folded: str) -> list[str]:
    pattern, canon = _place_table()
    text = folded.casefold()
    found = []
    for m in pattern.finditer(text):
        key = " ".join(m.group(1).split())
        if key in canon:
            found.append(canon[key])
    return _unique(found)


# ---------------------------------------------------------------- dates

_MONTHS = {
    1: "january jan janvier janv يناير جانفي كانون الثاني", 2: "february feb fevrier fevr فبراير فيفري شباط",
    3: "march mar mars مارس اذار", 4: "april apr avril avr ابريل افريل نيسان",
    5: "may mai مايو ماي ايار", 6: "june jun juin يونيو يونيه جوان حزيران",
    7: "july jul juillet juil يوليو يوليه جويليه تموز", 8: "august aug aout اغسطس اوت اب",
    9: "september sep sept septembre سبتمبر ايلول", 10: "october oct octobre اكتوبر تشرين الاول",
    11: "november nov novembre نوفمبر تشرين الثاني", 12: "december dec decembre ديسمبر كانون الاول",
}
_MULTI = {"كانون الثاني": 1, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12}


@lru_cache(maxsize=1)
def _month_table() -> tuple[re.Pattern[str], dict[str, int]]:
    names: dict[str, int] = dict(_MULTI)
    for month, words in _MONTHS.items():
        for word in words.split():
            if word not in ("كانون", "تشرين", "الثاني", "الاول"):
                names.setdefault(fold(word), month)
    alt = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in sorted(names, key=len, reverse=True))
    month_re = rf"(?P<m{{0}}>{alt})\.?"
    day = r"(?P<d{0}>[0-3]?\d)(?:er|st|nd|rd|th)?"
    year = r"(?P<y{0}>(?:19|20)\d\d)"
    pattern = (rf"(?<!\d)(?P<iy>(?:19|20)\d\d)-(?P<im>[01]?\d)-(?P<id>[0-3]?\d)(?!\d)"
               rf"|(?<![\d/.-])(?P<nd>[0-3]?\d)[/.-](?P<nm>[0-3]?\d)[/.-](?P<ny>(?:19|20)\d\d)(?!\d)"
               rf"|(?<!\w){day.format(1)}\s+{month_re.format(1)}\s*,?\s*{year.format(1)}(?!\d)"
               rf"|(?<!\w){month_re.format(2)}\s+{day.format(2)},?\s+{year.format(2)}(?!\d)")
    return re.compile(pattern, re.IGNORECASE), names


_YEAR = re.compile(r"(?:19|20)\d\d")  # in every date the pattern reads: most text has none (a fast scan)


def _dates(folded: str) -> list[str]:
    if not _YEAR.search(folded):
        return []
    pattern, names = _month_table()
    found = []
    for m in pattern.finditer(folded):
        g = m.groupdict()
        if g["iy"]:
            parts = [(int(g["iy"]), int(g["im"]), int(g["id"]))]
        elif g["ny"]:
            a, b, y = int(g["nd"]), int(g["nm"]), int(g["ny"])
            parts = [(y, b, a), (y, a, b)]  # day first (Arabic, French), else month first
        else:
            n = "1" if g["y1"] else "2"
            month = names.get(" ".join(g["m" + n].casefold().split()))
            parts = [(int(g["y" + n]), month or 0, int(g["d" + n]))]
        for y, mo, d in parts:
            try:
                found.append(date(y, mo, d).isoformat())
                break
            except ValueError:
                continue
    return _unique(found)
