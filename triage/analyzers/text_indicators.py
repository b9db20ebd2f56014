"""Indicators (phones, handles, links, prices, places, …) in text-like files, through the shared
`indicators.extract_indicators`.

The extractor is thorough but pure Python (a few µs per byte), so a device full of manuals would
take minutes. A YARA pre-filter (literal atoms only, so it scans at C speed with the GIL released)
picks the files worth it (phone prefixes of the route's countries, Libyan mobiles, Arabic-Indic
digits, common Arabic words, messaging links, amounts with a currency) and the extractor reads only
windows of `WINDOW` bytes around the pre-filter's hits, at most `BUDGET` bytes a file, within the
first `LIMIT` bytes. A hit of the shipped smuggling pack without a pre-filter hit reads the first
`BUDGET` bytes. Until `triage.analyzers.indicators` exists the column stays null.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Iterable

import yara

from . import Analyzer, Blob

LIMIT = 16 * 1024 * 1024
WINDOW = 1024
BUDGET = 64 * 1024
MAX_HITS = 1024
TEXT_MIMES = ("text/", "application/json", "application/xml", "application/x-ndjson", "message/",
              "application/javascript", "application/csv")
PREFILTER_PATH = Path(__file__).with_name("prefilter.yar")
PREFILTER_HITS = "_prefilter_hits"  # key in Blob.found ('_': never a column): (offset, length) list, set by the YARA analyser
PREFILTER_NAMESPACE = "dalil-prefilter"  # '-' never occurs in a user pack's namespace (see rulesets)


_UNLOADED = object()


def _extractor() -> Any:
    try:
        module = importlib.import_module(f"{__package__}.indicators")
    except ImportError:
        return None
    return getattr(module, "extract_indicators", None)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else cp1256 (Arabic Windows) as a fallback."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 4:  # a character cut by the limit
            return data[: exc.start].decode("utf-8-sig", "replace")
        return data.decode("cp1256", "replace")


def hits_of(matches: Iterable[Any]) -> list[tuple[int, int]]:
    """(offset, length) of the first MAX_HITS instances of each pre-filter string (bounded memory:
    Arabic text holds "ال" in every other word)."""
    return [(i.offset, i.matched_length) for m in matches for s in m.strings for i in s.instances[:MAX_HITS]]


def windows(hits: Iterable[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Merged byte ranges of WINDOW around each pre-filter hit (offset, length), BUDGET bytes at most."""
    spans = sorted((max(0, offset - WINDOW), min(size, offset + length + WINDOW)) for offset, length in hits)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, total = [], 0
    for start, end in merged:
        if total >= BUDGET:
            break
        end = min(end, start + BUDGET - total)
        out.append((start, end))
        total += end - start
    return out


def decode_fragment(data: bytes) -> str:
    """A window cut anywhere: UTF-8 with broken edge characters dropped, else cp1256."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "ignore")
        return text if text.strip() else data.decode("cp1256", "replace")


class TextIndicators(Analyzer):
    NAME = "text-indicators"
    VERSION = "1.4"
    ORDER = 70
    FILES = (PREFILTER_PATH,)

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        # the extractor (and phonenumbers, 35 ms to import) is loaded by the first file that needs it:
        # in a parse, that is in each worker process, in parallel, not before the workers start
        self._extract: Any = _UNLOADED
        self.prefilter = yara.compile(filepath=str(PREFILTER_PATH))

    @property
    def extract(self) -> Any:
        if self._extract is _UNLOADED:
            self._extract = _extractor()
        return self._extract

    def analyse(self, blob: Blob) -> dict[str, Any]:
        mime = blob.found.get("mime") or ""
        if not mime.startswith(TEXT_MIMES) or blob.size == 0 or self.extract is None:
            return {}
        data = (blob.data if blob.data is not None else blob.head)[:LIMIT]
        pack_hit = any(m.get("namespace") == "smuggling" for m in blob.found.get("yara_matches") or [])
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: the byte pre-filter cannot see it
            text = decode(data[:BUDGET])
        else:
            hits = blob.found.get(PREFILTER_HITS)  # scanned with the YARA rules of the run, if any
            if hits is None:
                hits = hits_of(self.prefilter.match(data=data))
            if hits:
                text = "\n".join(decode_fragment(data[a:b]) for a, b in windows(hits, len(data)))
            elif pack_hit:
                text = decode(data[:BUDGET])
            else:
                return {}
        found = self.extract(text, self.settings.region)
        if not any(found.values()):
            return {"indicators": None}
        return {"indicators": found}
