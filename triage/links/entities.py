"""One canonical form for each thing that can link two pieces of evidence.

| kind   | canonical value                                                   | from |
|--------|-------------------------------------------------------------------|------|
| phone  | E.164 (`+218912345678`), local forms read in the case's region     | `0912345678`, `٠٩١٢٣٤٥٦٧٨`, `00218…`, `+218 91…`, `wa.me/…`, `signal.me/#p/…` |
| handle | `@name` (lower case) for user names: Telegram, Instagram, TikTok, X, bare `@name`; `facebook:<name or id>`; `lid:<id>` and `group:<id>` (WhatsApp); `telegram-invite:<code>`, `whatsapp-invite:<code>`; `profile:<host>/<path>` for a seller's page on any other site |
| email  | lower case                                                        | |
| iban   | upper case, no spaces, mod-97 valid (`finance`)                   | |
| wallet | Bitcoin/TRON as written (bech32 lower), Ethereum lower case; checksum-valid (`finance`) | |
| domain | host name, lower case, IDNA (ASCII), without `www.`; platforms and ubiquitous hosts (rules/link_domains.txt) and IP addresses are not domains here | |
| image  | `phash:<16 hex>` (the smallest pHash of its group of look-alikes), `sha256:<hex>` when no pHash | |
| device | `camera:<make>:<serial>` from EXIF serial numbers                 | |

Person names (contacts) are never entities: they label the contact persons of the graph and the
occurrences they come with, so two people with one name are never merged.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from urllib.parse import parse_qs, unquote, urlsplit

from ..analyzers.indicators import normalise as ascii_digits
from ..artifacts import normalise as norm
from . import finance

KINDS = ("phone", "handle", "email", "iban", "wallet", "domain", "image", "device")
Found = tuple[str, str, str | None]  # (kind, value, platform or network when known)

_USER = re.compile(r"[a-z0-9_.]{2,64}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}")
_HOST = re.compile(r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'()\[\]{}،]+")
_TELEGRAM = {"t.me", "telegram.me", "telegram.dog"}
_RESERVED = {
    "telegram": {"s", "c", "share", "addstickers", "proxy", "socks", "iv", "addlist", "login", "joinchat", "setlanguage"},
    "instagram": {"p", "reel", "reels", "explore", "stories", "accounts", "direct", "tv"},
    "x": {"home", "search", "i", "intent", "share", "hashtag", "explore", "settings", "login", "messages"},
    "facebook": {"sharer", "sharer.php", "share", "share.php", "login", "login.php", "watch", "events", "groups",
                 "pages", "photo.php", "photo", "story.php", "permalink.php", "marketplace", "hashtag", "dialog",
                 "plugins", "help", "policies", "privacy", "l.php", "tr", "ads", "business", "home.php"},
}


@lru_cache(maxsize=1)
def ignored_domains() -> frozenset[str]:
    text = resources.files("rules").joinpath("link_domains.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def phone(raw: str | None, region: str) -> str | None:
    """E.164 of a number in any written form, or None when it is not a possible number."""
    value = norm.phone(raw, region) if raw else None
    return value if norm.is_number(value) else None


def email(raw: str | None) -> str | None:
    if not raw:
        return None
    text = raw.strip().lower().removeprefix("mailto:")
    return text if _EMAIL.fullmatch(text) else None


def username(raw: str | None) -> str | None:
    """`@name` for a user name written with or without its `@`."""
    if not raw:
        return None
    text = raw.strip().lstrip("@").lower().rstrip(".")
    return "@" + text if _USER.fullmatch(text) and not text.isdigit() else None


def domain(host: str | None) -> str | None:
    """A host name as a domain entity, or None (IP addresses, platforms, ubiquitous hosts)."""
    if not host:
        return None
    text = host.strip().lower().rstrip(".")
    text = text.rsplit("@", 1)[-1].split(":", 1)[0] if not text.startswith("[") else ""
    try:
        text = text.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return None
    text = text.removeprefix("www.")
    if not _HOST.fullmatch(text):
        return None
    labels = text.split(".")
    if any(".".join(labels[i:]) in ignored_domains() for i in range(len(labels))):
        return None
    return text


def handle(raw: str | None, region: str = "LY", bare: bool = True) -> Found | None:
    """A messaging or social identity written as a handle, id or profile link (`bare`: a user name
    without its `@` counts too, as apps store them)."""
    if not raw:
        return None
    text = raw.strip()
    low = text.lower()
    for prefix in ("lid:", "group:"):
        if low.startswith(prefix) and len(text) > len(prefix):
            return "handle", prefix + text[len(prefix):].strip(), "whatsapp"
    if "/" in text or low.startswith(("http:", "https:", "www.")):
        found = from_url(text, region)
        return next((f for f in found if f[0] in ("handle", "phone")), None)
    name = username(text) if bare or text.startswith("@") else None
    return ("handle", name, None) if name else None


def from_url(url: str, region: str = "LY", profile: bool = False) -> list[Found]:
    """Entities a URL names: the account of a messaging/social link (handle, or phone for wa.me and
    signal.me), else its domain; with `profile`, a page on another site is a `profile:` handle too."""
    text = ascii_digits(url.strip())
    if not re.match(r"(?i)^[a-z][a-z0-9+.-]*://", text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return []
    host = host.removeprefix("www.").removeprefix("m.").removeprefix("mobile.")
    segs = [unquote(s) for s in parts.path.split("/") if s]
    out: list[Found] = []
    if host in _TELEGRAM:
        if segs and segs[0].startswith("+") and len(segs[0]) > 1:
            number = phone(segs[0], region)
            out.append(("phone", number, "telegram") if number and segs[0][1:].isdigit()
                       else ("handle", "telegram-invite:" + segs[0][1:], "telegram"))
        elif len(segs) >= 2 and segs[0] == "joinchat":
            out.append(("handle", "telegram-invite:" + segs[1], "telegram"))
        else:
            name = segs[1] if segs and segs[0] == "s" and len(segs) > 1 else (segs[0] if segs else "")
            if name.lower() not in _RESERVED["telegram"] and (user := username(name)):
                out.append(("handle", user, "telegram"))
    elif host == "wa.me" or host.endswith("whatsapp.com"):
        number = None
        if host == "wa.me" and segs:
            number = phone("+" + segs[0].lstrip("+"), region) if segs[0].lstrip("+").isdigit() else None
        elif host == "chat.whatsapp.com" and segs:
            out.append(("handle", "whatsapp-invite:" + segs[0], "whatsapp"))
        else:
            wanted = parse_qs(parts.query).get("phone", [""])[0].strip()
            number = phone("+" + wanted.lstrip("+"), region) if wanted.lstrip("+").isdigit() else None
        if number:
            out.append(("phone", number, "whatsapp"))
    elif host == "signal.me":
        match = re.search(r"p/\+?(\d{6,15})", parts.fragment)
        number = phone("+" + match.group(1), region) if match else None
        if number:
            out.append(("phone", number, "signal"))
    elif host in ("instagram.com", "tiktok.com", "x.com", "twitter.com"):
        platform = {"twitter.com": "x"}.get(host, host.split(".")[0])
        if segs and (host != "tiktok.com" or segs[0].startswith("@")):
            name = segs[0].lstrip("@") if host == "tiktok.com" else segs[0]
            if host == "instagram.com" and name == "stories" and len(segs) > 1:
                name = segs[1]
            if name.lower() not in _RESERVED.get(platform, set()) and (user := username(name)):
                out.append(("handle", user, platform))
    elif host in ("facebook.com", "fb.com", "fb.me", "web.facebook.com"):
        ident = None
        if segs and segs[0] == "profile.php":
            ident = parse_qs(parts.query).get("id", [""])[0]
        elif len(segs) >= 3 and segs[0] == "people":
            ident = segs[2]
        elif len(segs) >= 2 and segs[0] == "groups":
            out.append(("handle", "facebook-group:" + segs[1].lower(), "facebook"))
        elif segs and segs[0].lower() not in _RESERVED["facebook"]:
            ident = segs[0]
        if ident and re.fullmatch(r"[A-Za-z0-9.]{2,80}", ident):
            out.append(("handle", "facebook:" + ident.lower(), "facebook"))
    else:
        site = domain(host)
        if site:
            out.append(("domain", site, None))
            if profile and segs:
                path = "/".join(segs).lower()
                out.append(("handle", f"profile:{site}/{path}", site))
        elif profile and host and segs:  # a seller's page on a site known by its address only
            where = f"{host}:{port}" if port else host
            out.append(("handle", f"profile:{where}/{'/'.join(segs).lower()}", where))
    return out


def urls_in(text: str) -> list[str]:
    """http(s) and www. URLs written in free text."""
    return [m.group(0).rstrip(".,;:!?»") for m in _URL.finditer(text or "")]


def classify(text: str, region: str) -> list[Found]:
    """What a value typed by an examiner can be (for `--entity` and repository search), most
    specific first: any written form of a number, handle, address or hash finds its canonical form."""
    raw = (text or "").strip()
    plain = ascii_digits(raw).strip()
    low = plain.lower()
    out: list[Found] = []
    if re.fullmatch(r"(?:sha256:)?[0-9a-f]{64}", low):
        out.append(("image", "sha256:" + low.removeprefix("sha256:"), None))
    if re.fullmatch(r"phash:[0-9a-f]{16}", low):
        out.append(("image", low, None))
    if low.startswith("camera:"):
        out.append(("device", low, None))
    if (mail := email(plain)) is not None:
        out.append(("email", mail, None))
    if (account := finance.iban(plain)) is not None:
        out.append(("iban", account, None))
    if (coin := finance.wallet(plain)) is not None:
        out.append(("wallet", coin[1], coin[0]))
    if (ident := handle(plain, region, bare=False)) is not None:
        out.append(ident)
    if "/" in plain or low.startswith("www."):
        out += [f for f in from_url(plain, region, profile=True) if f not in out]
    digits = sum(c.isdigit() for c in plain)
    if digits >= 6 and re.fullmatch(r"[+\d\s().\-/]+", plain) and (number := phone(plain, region)):
        out.append(("phone", number, None))
    if not out and "." in plain and " " not in plain and (name := domain(plain)):
        out.append(("domain", name, None))
    return list(dict.fromkeys(out))
