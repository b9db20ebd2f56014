"""YARA regexes without atoms, pre-filtered with Hyperscan so that the files that cannot hold them skip them.

libyara runs a string it could take no atom from (its compiler warns "may slow down scanning") at
every byte of every file: on Debian's files two such regexes cost about 29 ns a byte each, ten times
the rest of an 18-rule pack. Hyperscan compiled in prefilter mode (it may report a match the regex
would not make, never miss one) tells at about 1 ns a byte whether a buffer could hold any of them.
The rules are therefore compiled twice: as written (`full`), and with each slow regex replaced by
one that has atoms and can never match (`quick`). A buffer where no slow regex can match is scanned
with `quick`: those strings have no match there either way, so the matches are the same; any other
buffer is scanned with `full`. A slow string that cannot be rewritten with certainty (a `wide` or
hex string, a regex Hyperscan rejects, an unknown modifier) stays as written in both, so it is
scanned in every file; a pack with an `include` is left as written altogether.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yara

try:
    import hyperscan
except ImportError:  # pragma: no cover - a dependency; on a platform without it the rules scan as written
    hyperscan = None  # type: ignore[assignment]

WARNING = re.compile(r'^(?P<file>.*)\((?P<line>\d+)\): string "(?P<id>\$[A-Za-z0-9_]*)" may slow down scanning$')
# a regex with atoms ("DalilNever", "Q7W9") that never matches: \b between two word characters is never true
NEVER = r"/DalilNever\bQ7W9/"
MODIFIERS = {"nocase", "ascii", "fullword", "private"}  # those that keep a prefilter a superset of the regex
COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass
class Slow:
    """One slow regex: where its literal is in the rule text, and how Hyperscan reads it."""

    start: int
    end: int
    pattern: bytes
    flags: int


@dataclass
class SplitRules:
    """`match()` as yara.Rules has, choosing per buffer between the rules as written and the quick ones."""

    full: Any
    quick: Any = None
    database: Any = None  # hyperscan.Database of the slow regexes (prefilter mode), or None
    slow: int = 0  # how many slow regexes the pre-filter covers
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def may_match_slow(self, data: bytes) -> bool:
        """Whether a slow regex could match in `data` (always True without a pre-filter)."""
        if self.database is None:
            return True
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:  # Hyperscan's scratch space is one per thread
            scratch = self._local.scratch = hyperscan.Scratch(self.database)
        hits: list[int] = []
        try:
            self.database.scan(data, match_event_handler=_stop, context=hits, scratch=scratch)
        except hyperscan.ScanTerminated:  # what stopping at the first hit looks like
            pass
        return bool(hits)

    def match(self, data: bytes, **kwargs: Any) -> Any:
        rules = self.full if self.database is None or self.may_match_slow(data) else self.quick
        return rules.match(data=data, **kwargs)

    @property
    def warnings(self) -> list[str]:
        return list(self.full.warnings)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.full)  # the rules (identifier, meta, tags), as iterating yara.Rules gives


def _stop(pattern_id: int, start: int, end: int, flags: int, hits: list[int]) -> int:
    hits.append(pattern_id)
    return 1  # one is enough: stop the scan


def split(full: Any, sources: dict[str, Path], externals: dict[str, str]) -> SplitRules:
    """Pre-filter the slow regexes of `full` (compiled from `sources`, namespace -> file) where possible."""
    found: dict[str, list[tuple[int, str]]] = {}
    for text in full.warnings:
        m = WARNING.match(text)
        if m is None:
            continue
        found.setdefault(m["file"], []).append((int(m["line"]), m["id"]))
    if not found or hyperscan is None:
        return SplitRules(full)
    by_path = {str(path): ns for ns, path in sources.items()}
    texts = {ns: path.read_text(encoding="utf-8", errors="surrogateescape") for ns, path in sources.items()}
    if any(re.search(r"^\s*include\s", COMMENTS.sub("", t), re.MULTILINE) for t in texts.values()):
        return SplitRules(full)
    slow: list[Slow] = []
    rewritten = dict(texts)
    for file, places in found.items():
        ns = by_path.get(file)
        if ns is None:
            continue
        spans = [s for s in (_locate(texts[ns], line, ident) for line, ident in places) if s is not None and _takes(s)]
        text = texts[ns]
        for s in sorted(spans, key=lambda s: s.start, reverse=True):
            text = text[:s.start] + NEVER + text[s.end:]
        rewritten[ns] = text
        slow.extend(spans)
    if not slow:
        return SplitRules(full)
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(expressions=[s.pattern for s in slow], ids=list(range(len(slow))), elements=len(slow),
                         flags=[s.flags for s in slow])
        quick = yara.compile(sources=rewritten, externals=externals)
    except (hyperscan.error, yara.Error):
        return SplitRules(full)
    return SplitRules(full, quick, database, len(slow))


def _takes(slow: Slow) -> bool:
    """Whether Hyperscan compiles this pattern (one it rejects stays as written, scanned in every file)."""
    try:
        hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK).compile(expressions=[slow.pattern], flags=[slow.flags])
    except hyperscan.error:
        return False
    return True


def _locate(text: str, line: int, ident: str) -> Slow | None:
    """The regex literal of string `ident` whose opening '/' is on `line`, with its flags for Hyperscan."""
    candidates = [m for m in re.finditer(re.escape(ident) + r"\s*=\s*/", text)
                  if text.count("\n", 0, m.end()) + 1 == line]
    if len(candidates) != 1:
        return None
    start = candidates[0].end() - 1
    i = start + 1
    while i < len(text) and text[i] not in "/\n":
        i += 2 if text[i] == "\\" else 1
    if i >= len(text) or text[i] != "/":
        return None
    body = text[start + 1:i]
    end = i + 1
    while end < len(text) and text[end] in "is":
        end += 1
    regex_flags = text[i + 1:end]
    tail = re.split(r"\$|\bcondition\s*:", COMMENTS.sub(" ", text[end:]), maxsplit=1)[0]
    modifiers = set(tail.split())
    if not modifiers <= MODIFIERS:
        return None
    flags = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
    if "i" in regex_flags or "nocase" in modifiers:
        flags |= hyperscan.HS_FLAG_CASELESS
    if "s" in regex_flags:
        flags |= hyperscan.HS_FLAG_DOTALL
    if re.search(r"\\\{,", body):
        return None  # '\{,' could be an escaped brace or a repeat after an escaped backslash: not guessed
    pattern = body.replace("{,", "{0,")  # YARA's {,n} is {0,n}; to Hyperscan (PCRE) it would be literal text
    return Slow(start, end, pattern.encode("utf-8", "surrogateescape"), flags)
