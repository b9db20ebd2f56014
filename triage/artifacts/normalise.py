"""Normal forms for phone records: numbers in E.164, WhatsApp/Telegram ids as handles, times in UTC.

Every clock an app keeps becomes RFC 3339 UTC with a `Z`: Unix seconds or milliseconds (Android),
Cocoa/Core Data seconds or nanoseconds since 2001 (iOS), WebKit/Chrome microseconds since 1601.
A value that cannot be a date on a phone (0, negative, beyond 2100) gives None, never a wrong date.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import time

import phonenumbers

from ..analyzers.indicators import normalise as digits_ascii

_UNIX = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
COCOA_EPOCH = 978307200          # 2001-01-01 in Unix seconds
WEBKIT_EPOCH = 11644473600       # 1601-01-01 to 1970-01-01 in seconds
_MIN, _MAX = 0, 4102444800       # 1970 .. 2100
_CLEAN = re.compile(r"[\s().\-/\u00a0\u200e\u200f\u202a-\u202e]")
_JID = re.compile(r"^(?P<user>[^@:]+)(?::\d+)?@(?P<server>[a-z.]+)$")


def _from_unix(seconds: float) -> str | None:
    if not _MIN < seconds < _MAX:
        return None
    moment = _UNIX + _dt.timedelta(seconds=seconds)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def unix(value: float | int | str | None) -> str | None:
    """Unix time in seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude)."""
    number = _number(value)
    if number is None or number <= 0:
        return None
    for scale in (1, 1e3, 1e6, 1e9):
        if number / scale < _MAX:
            return _from_unix(number / scale)
    return None


def unix_ms(value: float | int | str | None) -> str | None:
    if type(value) is int:  # the common case, in integer arithmetic (same text as the general path)
        if not _MIN * 1000 < value < _MAX * 1000:
            return None
        seconds, millis = divmod(value, 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + (".%03dZ" % millis if millis else "Z")
    number = _number(value)
    return None if number is None else _from_unix(number / 1000)


def cocoa(value: float | int | str | None) -> str | None:
    """Seconds (or, in newer iOS tables, nanoseconds) since 2001-01-01 UTC, to the microsecond the
    store keeps: Core Data and Safari keep microseconds in a double, which holds them exactly for
    these dates once rounded; an integer of nanoseconds (iOS 11+ messages) is converted exactly."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1e11:
        return _from_unix_us(value // 1000 + COCOA_EPOCH * 1_000_000)
    number = _number(value)
    if number is None or number == 0:
        return None
    if abs(number) > 1e11:  # nanoseconds held as a float or text
        number /= 1e9
    return _from_unix_us(round(number * 1_000_000) + COCOA_EPOCH * 1_000_000)


def webkit(value: float | int | str | None) -> str | None:
    """Microseconds since 1601-01-01 UTC (Chrome, Samsung Internet). An integer keeps its
    microseconds exactly (`…51.811123Z`, as Chrome stored it); a float goes through `_from_unix`."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            return None
        return _from_unix_us(value - WEBKIT_EPOCH * 1_000_000)
    number = _number(value)
    if number is None or number <= 0:
        return None
    return _from_unix(number / 1e6 - WEBKIT_EPOCH)


def _from_unix_us(micros: int) -> str | None:
    """Integer microseconds since 1970, without the rounding of a float: µs shown when not whole ms."""
    if not _MIN * 1_000_000 < micros < _MAX * 1_000_000:
        return None
    moment = _UNIX + _dt.timedelta(microseconds=micros)
    spec = "seconds" if not moment.microsecond else "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def _number(value: float | int | str | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def phone(raw: str | int | None, region: str = "LY") -> str | None:
    """A number as E.164 when it reads as a possible number (Arabic-Indic digits, spaces, `00` and
    national forms understood); otherwise the stored text, trimmed (short codes, sender names).
    Cached: a phone holds many records of few numbers, and phonenumbers is most of a parser's time."""
    if raw is None:
        return None
    return _phone(str(raw), region)


@functools.lru_cache(maxsize=1 << 16)
def _phone(raw: str, region: str) -> str | None:
    """`phone` on text (cached: a phone holds a few hundred numbers, read again on every row)."""
    text = digits_ascii(raw).strip()
    if not text:
        return None
    compact = _CLEAN.sub("", text)
    if compact.startswith("00") and compact[2:].isdigit():
        compact = "+" + compact[2:]
    if compact.lstrip("+").isdigit() and 5 <= len(compact.lstrip("+")) <= 15:
        try:
            parsed = phonenumbers.parse(compact, region.upper() if not compact.startswith("+") else None)
        except phonenumbers.NumberParseException:
            return text
        if phonenumbers.is_possible_number(parsed) and (compact.startswith("+") or phonenumbers.is_valid_number(parsed)
                                                        or not _valid_abroad(compact)):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        abroad = _valid_abroad(compact)
        if abroad:
            return abroad
    return text


def _valid_abroad(compact: str) -> str | None:
    """A number stored without its `+` (`447700900123`): E.164 when it is a valid number that way."""
    if compact.startswith("+") or len(compact) < 10:
        return None
    try:
        parsed = phonenumbers.parse("+" + compact, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def jid(raw: str | None, region: str = "LY") -> str | None:
    """A WhatsApp JID as what it names: `+E164` for a user, `lid:<id>` for a privacy id (never taken
    for a number), `group:<id>` for a group, `broadcast:<id>`/`status` for lists; else the text."""
    if not raw:
        return None
    match = _JID.match(raw.strip())
    if not match:
        return raw.strip()
    user, server = match["user"], match["server"]
    if server == "lid":
        return f"lid:{user}"
    if server == "g.us":
        return f"group:{user}"
    if server == "broadcast":
        return "status" if user == "status" else f"broadcast:{user}"
    if server in ("s.whatsapp.net", "c.us") and user.isdigit():
        return phone("+" + user, region)
    return raw.strip()


def is_number(value: str | None) -> bool:
    """True for an E.164 string as `phone` makes them."""
    return value is not None and value.startswith("+") and value[1:].isdigit()
