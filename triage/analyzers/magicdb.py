"""libmagic's MIME type with less work per file: the system's own compiled database, with the entries
that provably cannot match the buffer at hand switched off.

`file --mime-type` runs the top-level tests of its database in strength order and stops at the first
entry that matches; a top-level test that fails only moves libmagic on to the next one (nothing else
changes). libmagic also skips, with all its sub-tests, an entry whose top-level test is not meant for
the pass it is in (the binary pass, then the text pass on libmagic's UTF-8 copy of a text file): an
entry whose flag has neither the binary nor the text bit is skipped in both. The engine keeps writable
copies of the database that libmagic reads in place (a `Layout`), and before each buffer sets those two
bits on the entries that may match it and clears them on the others. The buffer is then typed exactly
as by the full database whenever every entry switched off has a top-level test that cannot match it.
As libmagic still walks every record of an entry switched off (15,786 records in Debian's database),
a compact copy holds only the entries that buffers have needed so far (with those always on, in the
same order); a buffer that needs one it lacks is typed by the whole copy, and after a few such buffers
the compact copy is made again with them. The tests that decide which entries may match are decided
here, with one Hyperscan scan and a few dictionary look-ups, before libmagic runs:

- `regex` tests: the regex read by Hyperscan exactly, `^` in multi-line mode where the test starts at
  the buffer's start (as glibc's REG_NEWLINE reads it there), else without it, and `$` dropped (the
  region libmagic gives glibc may end mid-line), so that Hyperscan matches at least where glibc does;
  a regex Hyperscan cannot take exactly is read in its prefilter mode (it may report a match the regex
  would not make, never miss one);
- `regex` and `search` tests whose pattern holds a literal (or a group of literal alternatives) every
  match contains: whether it occurs anywhere, case-folded where the test ignores case; a search
  without blank folding needs its whole value, starting within its range;
- binary `string` tests at a fixed offset without case or blank folding, and `=` tests of numbers
  at a fixed offset: the bytes (a masked byte: one of those it accepts) must end exactly there
  (a string's trailing NULs left out: libmagic pads past the end with NULs);
- on a buffer with a NUL in what libmagic's text pass reads (`text_pass`), no text test runs at all;
- the literals and fixed-offset patterns are looked for only as far into the buffer as a test can
  read them (`scan_reach`: the text pass reads libmagic's copy of the first `encoding_max` bytes, a
  search its range, a regex its region), about 64 KiB with Debian's database; the few numbers and
  strings at fixed offsets past that (Nero images 0x53001 bytes in) are compared directly;
- a text entry whose top-level test neither describes nor types anything gives a type only through
  a level-1 sub-test (`gate`): where all of those are regex or search tests at fixed offsets, read
  as above, the entry stays off on a buffer whose text copy is its bytes (below) none of them may
  match (a Ruby entry's `search require` then runs its regex on no Perl module).

Text tests run on libmagic's UTF-8 copy of a text file, not on its bytes. For plain ASCII, and for
UTF-8 without a byte order mark (`utf8_unchanged`: decoded and encoded again, each character is
written back as it was), the copy is the bytes, or a prefix of them; for 8-bit text it keeps every
ASCII byte in order, never earlier (so a literal of ASCII bytes still holds, and its first occurrence
is no earlier; a regex does not: those text tests then fall back to their literal, or stay, as do
literals with bytes past ASCII); where libmagic may
read the buffer as UTF-16/32 or EBCDIC (a BOM, a control byte in the first `encoding_max` bytes) every
text test stays. Every other entry always stays. An entry that may run `indirect` (set 0 again at
another offset, where the tests decided here would not hold) sends the buffer to the untouched full
database, unless each record that would run it sits under a number test at a fixed offset that fails
on the buffer (`may_run_indirect`: fonts and compiled Python modules match the top-level tests of
the MacBinary and DOS backup entries, not what lies under them). Only libmagic 5.44's database
layout is read (version 18, 376-byte entries); another libmagic, or local magic beside the compiled
file, uses the full database.
benchmarks/magic_equivalence.py compares both on the shared corpus and on many system files.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import struct
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import magic

try:
    import hyperscan
except ImportError:  # pragma: no cover - a dependency; without it every buffer uses the full database
    hyperscan = None  # type: ignore[assignment]

MAGICNO, VERSIONNO, RECORD = 0xF11E041C, 18, 376
LIBMAGIC = {544}  # versions whose struct magic layout this reader knows
STRING, REGEX, SEARCH, INDIRECT, USE = 5, 17, 20, 41, 46
NUMBERS: dict[int, tuple[int, Literal["little", "big"]]] = {1: (1, "little"), 7: (2, "big"), 8: (4, "big"), 10: (2, "little"), 11: (4, "little")}  # byte, be/le short, long
# and for an `=` test, also the native short, long and quad (this machine's order) and be/le quad
EQUAL_NUMBERS: dict[int, tuple[int, Literal["little", "big"]]] = {
    **NUMBERS, 2: (2, sys.byteorder), 4: (4, sys.byteorder), 24: (8, sys.byteorder), 25: (8, "little"), 26: (8, "big")}
UNSIGNED = 0x08
INDIR, OFFADD, BINTEST, TEXTTEST, OFFNEGATIVE = 0x01, 0x02, 0x20, 0x40, 0x80
FOLDING = 0x1 | 0x2 | 0x4 | 0x8  # compact blanks, optional blanks, ignore lower case, ignore upper case
BLANKS = 0x1 | 0x2
IGNORE_CASE = 0x4 | 0x8
MIN_LITERAL = 3
REBUILD_MISSES, REBUILD_EVERY = 8, 256  # the compact layout is made again after this many buffers it lacked
# entries for, or after this many buffers when it lacked any
MAGIC_PARAM_REGEX_MAX, MAGIC_PARAM_ENCODING_MAX = 5, 7
KEEP_SCANNERS = 8  # compiled scanners kept in the cache folder (the most recently used)
# the entries earlier runs needed (`Engine(remember=True)`): a set larger than this was taught by files of
# many kinds, and a compact layout that big would walk too many records for every buffer: learnt again
REMEMBER_MAX, KEEP_REMEMBERED = 400, 4
# bytes libmagic's text_chars table calls F: one in the first encoding_max bytes makes it try EBCDIC
NOT_TEXT = rb"[\x00-\x06\x0e-\x1a\x1c-\x1f\x7f]"
NOT_ASCII = rb"[\x80-\xff]"  # one in the first encoding_max bytes: libmagic's copy is re-encoded UTF-8
SPECIAL_ESCAPE = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<>`'")


@dataclass
class Entry:
    """One top-level entry of set 0: what decides whether it may match."""

    text: bool  # a text test (run on libmagic's UTF-8 copy of a text file)
    literals: list[bytes] = field(default_factory=list)  # one of these must occur (regex, search)
    nocase: bool = False
    fixed: tuple[int, bytes] | None = None  # these bytes at this offset (binary string)
    number: tuple[int, int, str, int, int] | None = None  # offset, size, byte order, mask, value: `=` test
    regex: bytes | None = None  # the regex as Hyperscan reads it (see hyperscan_form)
    window: int | None = None  # a search without blank folding: its value starts at or before this offset
    exact: bool = False  # Hyperscan matches it exactly (else in prefilter mode: anchors dropped, may report more)


def necessary_literals(pattern: bytes) -> list[bytes] | None:
    """Literals one of which every match of this POSIX extended regex contains (for each branch, one
    literal or the alternatives of one group), or None when some branch has none of at least
    MIN_LITERAL bytes that this reading is sure of."""
    branches: list[list[list[bytes]]] = []
    runs: list[list[bytes]] = []  # what the branch needs: each item a literal or a group's alternatives
    cur = bytearray()

    def cut() -> None:
        if cur:
            runs.append([bytes(cur)])
            cur.clear()

    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:  # backslash: an escaped punctuation mark is itself; \w, \<, \1 ... are not literals
            if i + 1 >= n:
                return None
            if pattern[i + 1] in SPECIAL_ESCAPE:
                cut()
            else:
                cur.append(pattern[i + 1])
            i += 2
        elif c == ord("["):
            cut()
            end = _bracket_end(pattern, i)
            if end is None:
                return None
            i = end
        elif c == ord("("):
            cut()
            end = _group_end(pattern, i)
            if end is None:
                return None
            alternatives = _alternatives(pattern[i + 1:end - 1])
            if alternatives and pattern[end:end + 1] not in (b"?", b"*", b"{"):
                runs.append(alternatives)  # a group of plain alternatives, not optional: one must occur
            i = end
        elif c in b"*?":  # the atom before is optional
            if cur:
                cur.pop()
            cut()
            i += 1
        elif c == ord("{"):  # an interval: taken as optional
            if cur:
                cur.pop()
            cut()
            close = pattern.find(b"}", i)
            if close < 0:
                return None
            i = close + 1
        elif c == ord("|"):
            cut()
            branches.append(runs)
            runs = []
            i += 1
        elif c in b"+.^$)":  # a repeated atom ends a run; the others are not literals
            cut()
            i += 1
        else:
            cur.append(c)
            i += 1
    cut()
    branches.append(runs)
    out: list[bytes] = []
    for branch in branches:
        best = max(branch, key=lambda item: min(len(x) for x in item), default=[b""])
        if min(len(x) for x in best) < MIN_LITERAL:
            return None
        out.extend(best)
    return out


def _alternatives(inner: bytes) -> list[bytes] | None:
    """The alternatives of a group made only of literals separated by `|` (None otherwise)."""
    out: list[bytes] = []
    cur = bytearray()
    i = 0
    while i < len(inner):
        c = inner[i]
        if c == 0x5C:
            if i + 1 >= len(inner) or inner[i + 1] in SPECIAL_ESCAPE:
                return None
            cur.append(inner[i + 1])
            i += 2
            continue
        if c == ord("|"):
            out.append(bytes(cur))
            cur.clear()
        elif c in b"()[].*+?{}^$":
            return None
        else:
            cur.append(c)
        i += 1
    out.append(bytes(cur))
    return out


def _bracket_end(p: bytes, i: int) -> int | None:
    """Index after the bracket expression starting at p[i] == '['."""
    j = i + 1
    if j < len(p) and p[j] == ord("^"):
        j += 1
    if j < len(p) and p[j] == ord("]"):
        j += 1
    while j < len(p) and p[j] != ord("]"):
        if p[j] == ord("[") and j + 1 < len(p) and p[j + 1] in b":=.":
            close = p.find(bytes([p[j + 1]]) + b"]", j + 2)
            if close < 0:
                return None
            j = close + 2
        else:
            j += 1
    return j + 1 if j < len(p) else None


def _group_end(p: bytes, i: int) -> int | None:
    """Index after the parenthesised group starting at p[i] == '('."""
    depth, j = 0, i
    while j < len(p):
        if p[j] == 0x5C:
            j += 2
            continue
        if p[j] == ord("["):
            end = _bracket_end(p, j)
            if end is None:
                return None
            j = end
            continue
        if p[j] == ord("("):
            depth += 1
        elif p[j] == ord(")"):
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return None


def _runs(value: bytes) -> list[bytes]:
    """Pieces of a search or string value between NULs and blanks (blank folding may stretch those)."""
    return [r for r in re.split(rb"[\x00 \t\n\v\f\r]+", value) if len(r) >= MIN_LITERAL]


def hyperscan_form(pattern: bytes, line_start: bool = False) -> bytes | None:
    """This POSIX extended regex (glibc, REG_NEWLINE) as a Hyperscan pattern matching at least where it
    does anywhere in the buffer: `$` dropped (libmagic's region may end mid-line), `^` too unless
    `line_start` (the region starts at the buffer's start, where and after each newline `^` matches in
    both, Hyperscan's multi-line mode), word boundaries dropped too (libmagic cuts its region at 8 KiB,
    at a NUL and before the buffer's last byte: glibc sees an end there that Hyperscan, reading on,
    does not), a backslash inside brackets literal as in POSIX. None where unsure."""
    out = bytearray()
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:
            if i + 1 >= n:
                return None
            d = pattern[i + 1]
            if d in b"<>bB`'":
                pass  # assertions glibc may meet at the end of a shorter region than Hyperscan's: dropped
            elif d in b"wWsS":
                out += bytes([c, d])
            elif d in SPECIAL_ESCAPE:
                return None  # back-references and the rest: not sure
            else:
                out += b"\\x%02x" % d
            i += 2
        elif c == ord("["):
            end = _bracket_end(pattern, i)
            if end is None:
                return None
            inner = pattern[i + 1:end - 1]
            if b"[=" in inner or b"[." in inner:
                return None
            out += b"[" + inner.replace(b"\\", b"\\\\") + b"]"
            i = end
        elif c == ord("^") and line_start:
            out.append(c)
            i += 1
        elif c in b"^$":
            i += 1
        elif c == ord("{"):
            close = pattern.find(b"}", i)
            if close < 0:
                return None
            body = pattern[i + 1:close]
            if not re.fullmatch(rb"\d*(,\d*)?", body) or not body or body == b",":
                return None
            if body.startswith(b","):
                body = b"0" + body
            out += b"{" + body + b"}"
            i = close + 1
        elif c == ord("+") and out[-1:] in (b"*", b"+", b"?", b"}"):
            return None  # a possessive quantifier in PCRE, not in POSIX
        else:
            out.append(c)
            i += 1
    return bytes(out)


def classify(rec: bytes) -> Entry:
    """What may make the top-level record `rec` match (nothing known: always kept)."""
    flag, reln, vallen, kind = rec[2], rec[4], rec[5], rec[6]
    offset, = struct.unpack_from("<i", rec, 12)
    str_flags, = struct.unpack_from("<I", rec, 28)
    entry = Entry(text=bool(flag & TEXTTEST))
    if reln != ord("="):
        return entry
    value = rec[32:160]
    if kind == REGEX:
        pattern = value.split(b"\0")[0]
        entry.nocase = bool(str_flags & IGNORE_CASE)
        entry.literals = necessary_literals(pattern) or []
        if hyperscan is not None:
            at_start = offset == 0 and not flag & (INDIR | OFFNEGATIVE)
            exact = hyperscan_form(pattern, line_start=at_start)
            if exact is not None and _compiles(exact, entry.nocase, prefilter=False):
                entry.regex, entry.exact = exact, True
            else:
                loose = hyperscan_form(pattern)
                entry.regex = loose if loose is not None and _compiles(loose, entry.nocase, prefilter=True) else None
    elif kind == SEARCH:
        whole = value[:min(vallen, 128)]
        entry.nocase = bool(str_flags & IGNORE_CASE)
        if whole and not str_flags & BLANKS:
            # no blank folding: the whole value occurs (any case where case is folded), starting in the
            # `range` bytes after the offset when the test has a range
            entry.literals = [whole]
            count, = struct.unpack_from("<I", rec, 24)
            if count and offset >= 0 and not flag & (INDIR | OFFNEGATIVE):
                entry.window = offset + count
        else:
            runs = _runs(whole)
            if runs:
                entry.literals = [max(runs, key=len)]
    elif kind in EQUAL_NUMBERS and flag & BINTEST and not flag & (TEXTTEST | INDIR | OFFNEGATIVE):
        if rec[9] == 0 and offset >= 0:  # mask_op FILE_OPAND (or no mask), nothing inverted
            size, order = EQUAL_NUMBERS[kind]
            full = (1 << 8 * size) - 1
            mask, number = struct.unpack_from("<QQ", rec, 24)
            # libmagic compares the masked number and the value, both sign-extended alike: their low bits
            entry.number = (offset, size, order, (mask & full) if mask else full, number & full)
    elif kind == STRING and flag & BINTEST and not flag & (TEXTTEST | INDIR | OFFNEGATIVE):
        if not str_flags & FOLDING and vallen and offset >= 0 and value[:vallen].strip(b"\0"):
            entry.fixed = (offset, value[:vallen])
    return entry


def _flags(nocase: bool, prefilter: bool) -> int:
    """A literal's flags; a regex's in prefilter mode (may report more) or exact (multi-line `^`)."""
    flags = hyperscan.HS_FLAG_SINGLEMATCH | (hyperscan.HS_FLAG_CASELESS if nocase else 0)
    return flags | hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY if prefilter else flags


def _regex_flags(nocase: bool, prefilter: bool) -> int:
    if prefilter:
        return _flags(nocase, True)
    return _flags(nocase, False) | hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_MULTILINE


_COMPILES: dict[str, bool] = {}  # answers of _compiles, kept with the cached scanners
_COMPILES_LOCK = threading.Lock()


def _compiles_cache() -> Path | None:
    folder = cache_dir()
    return folder / "magicdb-regexes.json" if folder is not None else None


def _compiles(pattern: bytes, nocase: bool, prefilter: bool = True) -> bool:
    """Whether Hyperscan takes this regex (exactly or in prefilter mode); answers are remembered in the
    cache folder (compiling the 68 of Debian's database one by one takes 0.15 s)."""
    path = _compiles_cache()
    key = hashlib.sha256(repr((getattr(hyperscan, "__version__", "?"), pattern, nocase, prefilter)).encode()).hexdigest()
    with _COMPILES_LOCK:
        if not _COMPILES:
            try:
                if path is not None:
                    _COMPILES.update(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError):
                pass
            _COMPILES["-"] = True  # read once, even when absent or unreadable
        known = _COMPILES.get(key)
        if isinstance(known, bool):
            return known
        _COMPILES[key] = answer = _compile_test(pattern, nocase, prefilter)
        try:
            if path is not None:
                _write_atomically(path, json.dumps(_COMPILES).encode())
        except OSError:
            pass
        return answer


def _compile_test(pattern: bytes, nocase: bool, prefilter: bool) -> bool:
    try:
        hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK).compile(expressions=[pattern],
                                                                  flags=[_regex_flags(nocase, prefilter)])
    except hyperscan.error:
        return False
    return True


def may_match_number(rec: bytes, data: bytes) -> bool:
    """Whether a top-level byte/short/long test at a fixed offset may match `data` (True when unsure)."""
    flag, reln, kind, mask_op = rec[2], rec[4], rec[6], rec[9]
    offset, = struct.unpack_from("<i", rec, 12)
    mask, value = struct.unpack_from("<QQ", rec, 24)
    if kind not in NUMBERS or flag & (INDIR | OFFNEGATIVE) or offset < 0 or mask_op != 0 or reln not in b"=<>":
        return True
    size, order = NUMBERS[kind]
    if offset + size > len(data):
        return False  # libmagic does not read a number past the end: no match
    bits = 8 * size
    v = int.from_bytes(data[offset:offset + size], order)
    if mask:
        v &= mask
    v &= (1 << bits) - 1
    value &= (1 << bits) - 1
    if reln == ord("="):
        return v == value
    if not flag & UNSIGNED:  # a signed comparison
        v = v - (1 << bits) if v >> (bits - 1) else v
        value = value - (1 << bits) if value >> (bits - 1) else value
    return v < value if reln == ord("<") else v > value


def text_pass(data: bytes, encoding_max: int) -> bool:
    """Whether libmagic may run its text tests on `data`: `file_ascmagic` trims the trailing NULs (not
    at an odd length when the buffer's is even) and gives up unless `file_encoding` finds text in the
    first `encoding_max` bytes of what is left, which a NUL there rules out for every encoding but
    UTF-16 and UTF-32 (which need their byte order mark there)."""
    size = len(data)
    if size <= 1 or data.startswith((b"\xff\xfe", b"\xfe\xff", b"\0\0\xfe\xff")):
        return True
    end = size
    while end > 1 and not data[end - 1]:  # trim_nuls leaves at least one byte
        start = max(1, end - 4096)
        end = start + len(data[start:end].rstrip(b"\0"))
    if end & 1 and not size & 1:
        end += 1
    return data.find(b"\0", 0, min(end, encoding_max)) < 0


def utf8_unchanged(data: bytes, encoding_max: int) -> bool:
    """Whether libmagic's UTF-8 copy of `data` for its text tests is a prefix of its bytes: UTF-8 that
    Python's strict decoder accepts in the first `encoding_max` bytes and no byte order mark.
    `file_looks_utf8` accepts every such sequence (it is less strict) and `encode_utf8` writes each
    character back as it was; a character cut at the end is left out of the copy (`goto done`)."""
    if data.startswith(b"\xef\xbb\xbf"):  # looks_utf8_with_BOM: the copy starts after the mark
        return False
    head = data[:encoding_max]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.end == len(head) and exc.reason == "unexpected end of data"
    return True


def fixed_offset(rec: bytes) -> int | None:
    """Where a record's test reads when that is one place from the start of the buffer: not through
    an indirect offset, relative to its parent's match (`&n`) or from the end; else None."""
    offset, = struct.unpack_from("<i", rec, 12)
    return None if offset < 0 or rec[2] & (INDIR | OFFADD | OFFNEGATIVE) else offset


def gate(piece: bytes) -> list[tuple[int, Entry]] | None:
    """The level-1 sub-tests (offset, what may make it match) of a text entry whose top-level test
    neither describes nor types anything, when every one of them is a regex or search at a fixed
    offset: such an entry gives a type only through one of them (libmagic goes on to the next entry
    when its top-level test matches and none of them does, as when the top-level test fails; deeper
    sub-tests run only under a level-1 one that matched). None when that cannot be said of it."""
    top = piece[:RECORD]
    if top[6] not in (STRING, REGEX, SEARCH) or not top[2] & TEXTTEST:
        return None
    if top[160:224].split(b"\0")[0] or top[224:304].split(b"\0")[0]:  # its description, its MIME type
        return None
    tests: list[tuple[int, Entry]] = []
    for at in range(RECORD, len(piece), RECORD):
        rec = piece[at:at + RECORD]
        if struct.unpack_from("<H", rec, 0)[0] != 1:
            continue
        offset = fixed_offset(rec)
        if rec[6] not in (REGEX, SEARCH) or rec[4] != ord("=") or offset is None \
                or rec[10]:  # a relation, a relative or indirect offset, if/elif/else
            return None
        test = classify(rec)
        if test.regex is None and not test.literals:
            return None
        tests.append((offset, test))
    return tests or None


def _width(pattern: bytes) -> int:
    """How many bytes a pattern of `anchored_form` matches: each is `\\xNN` or a class of them."""
    return len(re.sub(rb"\[[^\]]*\]", b"[..]", pattern)) // 4


def _bytes_pattern(value: bytes) -> bytes:
    """`value` as a Hyperscan pattern of exactly those bytes."""
    return b"".join(b"\\x%02x" % c for c in value)


def anchored_form(entry: Entry) -> tuple[bytes, int] | None:
    """A number `=` test or a binary string at a fixed offset as a Hyperscan pattern of bytes and the
    offset its match must end at: a masked byte is the class of the bytes it accepts. A string's
    trailing NULs are left out (libmagic compares past the end with NULs); None when nothing is left
    or a masked byte accepts nothing."""
    if entry.fixed is not None:
        offset, value = entry.fixed
        value = value.rstrip(b"\0")
        if not value:
            return None
        return _bytes_pattern(value), offset + len(value)
    if entry.number is None:
        return None
    offset, size, order, mask, number = entry.number
    out = bytearray()
    for m, v in zip(mask.to_bytes(size, order), number.to_bytes(size, order)):  # type: ignore[arg-type]
        if m == 0xFF:
            out += b"\\x%02x" % v
        else:
            accepted = [b for b in range(256) if b & m == v]
            if not accepted:
                return None
            out += b"[" + b"".join(b"\\x%02x" % b for b in accepted) + b"]"
    return bytes(out), offset + size


class Database:
    """The system's compiled database, split into top-level entries of set 0 and the named set 1."""

    def __init__(self, data: bytes) -> None:
        magicno, version, n0, n1 = struct.unpack_from("<IIII", data, 0)
        if magicno != MAGICNO or version != VERSIONNO or len(data) != RECORD * (1 + n0 + n1):
            raise ValueError("not a libmagic 5.44 database (version 18, 376-byte entries)")
        self.header = data[:RECORD]
        self.records = data[RECORD:RECORD * (1 + n0)]
        self.named = data[RECORD * (1 + n0):]
        self.n_named = n1
        starts = [i for i in range(n0) if struct.unpack_from("<H", data, RECORD * (1 + i))[0] == 0]
        ends = starts[1:] + [n0]
        self.entries = [classify(data[RECORD * (1 + s):RECORD * (2 + s)]) for s in starts]
        self.pieces = [self.records[RECORD * s:RECORD * e] for s, e in zip(starts, ends)]
        named: dict[bytes, list[bytes]] = {}
        current = b""
        for k in range(n1):
            rec = self.named[RECORD * k:RECORD * (k + 1)]
            if struct.unpack_from("<H", rec, 0)[0] == 0:
                current = rec[32:160].split(b"\0")[0]
            named.setdefault(current, []).append(rec)
        # entries that may run set 0 again on a later part of the buffer (`indirect`, maybe through `use`):
        # there a fixed-offset string is looked for at other offsets than those decided here
        sets = {name: b"".join(recs) for name, recs in named.items()}
        uses = {name: _uses(piece) for name, piece in sets.items()}
        runs = {name: _has_indirect(piece) for name, piece in sets.items()}
        reaches = {name: _reaches(name, uses, runs) for name in sets}
        self.indirect = frozenset(i for i, piece in enumerate(self.pieces)
                                  if _has_indirect(piece) or any(reaches.get(n) for n in _uses(piece)))
        # for each of them, the records above each record that runs it (`indirect`, or `use` of a set
        # that may): it runs only where all of those matched
        self.indirect_paths = {i: _paths_to_indirect(self.pieces[i], reaches) for i in self.indirect}


def _paths_to_indirect(piece: bytes, reaches: dict[bytes, bool]) -> list[list[bytes]]:
    """For each record of `piece` that may run `indirect`, the records above it from level 1 down
    (`[[]]` when the top-level record itself does)."""
    def runs(rec: bytes) -> bool:
        return rec[6] == INDIRECT or (rec[6] == USE and bool(reaches.get(rec[32:160].split(b"\0")[0].lstrip(b"^"))))

    if runs(piece[:RECORD]):
        return [[]]
    paths: list[list[bytes]] = []
    above: list[bytes] = []  # the records of levels 1 .. this one's - 1 on its path
    for at in range(RECORD, len(piece), RECORD):
        rec = piece[at:at + RECORD]
        level = struct.unpack_from("<H", rec, 0)[0]
        del above[level - 1:]
        if runs(rec):
            paths.append(list(above))
        above.append(rec)
    return paths


def _has_indirect(piece: bytes) -> bool:
    """Whether a record of `piece` (whole records) is an `indirect` test."""
    return INDIRECT in piece[6::RECORD]  # each record's type byte


def _uses(piece: bytes) -> set[bytes]:
    """The named sets the records of `piece` (whole records) `use`."""
    kinds, found = piece[6::RECORD], set()  # each record's type byte
    at = kinds.find(USE)
    while at >= 0:
        found.add(piece[RECORD * at + 32:RECORD * at + 160].split(b"\0")[0].lstrip(b"^"))
        at = kinds.find(USE, at + 1)
    return found


def _reaches(start: bytes, uses: dict[bytes, set[bytes]], runs: dict[bytes, bool]) -> bool:
    """Whether the named set `start`, or one it uses however indirectly, runs `indirect`."""
    todo, seen = [start], {start}
    while todo:
        name = todo.pop()
        if runs.get(name):
            return True
        for used in uses.get(name, ()):
            if used not in seen and used in uses:
                seen.add(used)
                todo.append(used)
    return False


def compiled_path() -> Path | None:
    """The compiled database `file` loads, when it is the only thing in libmagic's default path that
    holds entries (Debian's /etc/magic only has comments); else None."""
    getpath = magic.libmagic.magic_getpath
    getpath.restype, getpath.argtypes = ctypes.c_char_p, [ctypes.c_char_p, ctypes.c_int]
    raw = getpath(None, 0)
    found: Path | None = None
    for part in (raw or b"").decode(errors="replace").split(":"):
        path = Path(part)
        mgc = Path(part + ".mgc")
        if mgc.is_file():
            if found is not None:
                return None
            found = mgc
        elif path.is_file():
            lines = path.read_bytes().splitlines()
            if any(line.strip() and not line.lstrip().startswith(b"#") for line in lines):
                return None
        elif path.is_dir() or (path.exists() and not path.is_file()):
            return None
    return found


def cache_dir() -> Path | None:
    """Where compiled scanners are kept: `$XDG_CACHE_HOME/dalil`, else `~/.cache/dalil`; None when
    there is no home to put it in (everything is then compiled in each process)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):
            return None
    return Path(base) / "dalil"


def _remembered_path(database: Path) -> Path | None:
    """Where the entries needed with this database are kept: its path, size, time and inode name it
    (an update of the database makes a new file). Derived data: whatever it holds, types are the same."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        st = database.stat()
    except OSError:
        return None
    key = hashlib.sha256(repr((str(database), st.st_size, st.st_mtime_ns, st.st_ino)).encode()).hexdigest()
    return folder / f"magicdb-needed-{key[:32]}.json"


def _read_remembered(path: Path, count: int) -> set[int]:
    """The entries kept in `path`: empty when absent, unreadable, not a list of entry numbers under
    `count`, or larger than REMEMBER_MAX."""
    try:
        found = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return set()
    if (not isinstance(found, list) or len(found) > REMEMBER_MAX
            or not all(type(i) is int and 0 <= i < count for i in found)):
        return set()
    return set(found)


def _remember(path: Path, needed: frozenset[int], count: int) -> None:
    """Add `needed` to the entries kept in `path` (other processes add theirs: the union is kept)."""
    try:
        _write_atomically(path, json.dumps(sorted(needed | _read_remembered(path, count))).encode())
        _prune(path.parent, "magicdb-needed-*.json", KEEP_REMEMBERED)
    except OSError:
        pass  # a read-only home: learnt again next time


def _write_atomically(path: Path, data: bytes) -> None:
    """`data` into `path` through a temporary file of this process and thread (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    temp.write_bytes(data)
    os.replace(temp, path)


def scanner(expressions: list[bytes], flags: list[int], ext: list[Any], ids: list[int] | None = None) -> Any:
    """The Hyperscan database of these patterns. Compiling the three thousand of a Debian database
    takes seconds, so the compiled form is kept in `cache_dir()` under the SHA-256 of the patterns,
    their flags and offsets and Hyperscan's version (derived data, never evidence: a file that does
    not load is compiled again and replaced)."""
    ids = list(range(len(expressions))) if ids is None else ids
    key = hashlib.sha256(repr((getattr(hyperscan, "__version__", "?"), sys.byteorder, expressions, flags,
                               [tuple(e) for e in ext], ids)).encode()).hexdigest()
    folder = cache_dir()
    path = folder / f"magicdb-{key[:32]}.hs" if folder is not None else None
    try:
        if path is not None:
            loaded = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
            os.utime(path)  # in use: the most recently used are the ones kept (`_prune`)
            return loaded
    except (OSError, hyperscan.error, TypeError, ValueError):
        pass
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags, ext=ext)
    except hyperscan.error as exc:
        raise ValueError(f"Hyperscan refused the pre-filter: {exc}") from exc
    try:
        if path is not None:
            _write_atomically(path, hyperscan.dumpb(db))
            _prune(path.parent)
    except OSError:
        pass  # a read-only home: compiled again next time
    return db


def _prune(folder: Path, pattern: str = "magicdb-*.hs", keep: int | None = None) -> None:
    """Compiled scanners beyond the KEEP_SCANNERS most recently used are removed (each is 1.3 MB; every
    update of the system's magic database or of this code makes new ones), or other files of the
    cache folder by `pattern` beyond `keep`. Derived data only."""
    found = []
    for item in folder.glob(pattern):
        try:
            found.append((item.stat().st_mtime, item))
        except OSError:
            continue
    for _mtime, item in sorted(found, reverse=True)[KEEP_SCANNERS if keep is None else keep:]:
        try:
            item.unlink()
        except OSError:
            pass


class Engine:
    """`mime(data)` as `file --mime-type` gives it: libmagic over a `Layout` with the entries that may
    match switched on (the compact one when it holds them all), or over the full database."""

    def __init__(self, path: Path, remember: bool = False) -> None:
        """`remember`: start with a compact layout of the entries earlier runs needed (kept in
        `cache_dir()`, and updated as this engine learns more); else it is learnt from the first
        buffers, each process for itself (each new layout costs 1-7 ms, and a buffer its layout
        lacks is typed by the whole database: 0.08 s of a worker's CPU on 7,000 files)."""
        if magic.version() not in LIBMAGIC or hyperscan is None:
            raise ValueError(f"libmagic {magic.version()} (this reader knows {sorted(LIBMAGIC)})")
        self.db = Database(path.read_bytes())
        entries = self.db.entries
        self.always = {i for i, e in enumerate(entries)
                       if not e.literals and e.fixed is None and e.regex is None and e.number is None}
        self.text_tests = frozenset(i for i, e in enumerate(entries) if e.text and (e.literals or e.regex))
        self.text_only = frozenset(i for i, piece in enumerate(self.db.pieces)
                                   if piece[2] & (BINTEST | TEXTTEST) == TEXTTEST)
        # text tests with a regex prefilter but no literal: kept whenever the text copy is not the bytes
        self.text_unsure = frozenset(i for i, e in enumerate(entries) if e.text and e.regex and not e.literals)
        literal_ids: dict[tuple[bytes, bool], list[int]] = {}
        for i, e in enumerate(entries):
            for lit in e.literals:
                literal_ids.setdefault((lit.lower() if e.nocase else lit, e.nocase), []).append(i)
        # a literal decides an entry without a regex prefilter always, a text entry with one only on a
        # buffer whose text copy is not its bytes (8-bit text, a BOM: libmagic's UTF-8 copy differs)
        self.by_literal = [frozenset(i for i in ids if entries[i].regex is None and entries[i].window is None)
                           for ids in literal_ids.values()]
        # searches with a range: the first occurrence of their value must start within it
        self.by_window: list[list[tuple[int, int]]] = [
            sorted(((entries[i].window or 0) + len(lit), i) for i in ids if entries[i].window is not None)
            for (lit, _), ids in literal_ids.items()]
        # text tests with a byte past ASCII in a literal: libmagic's UTF-8 copy of a text that is not
        # its bytes may hold it where the bytes do not
        self.text_high = frozenset(i for i, e in enumerate(entries)
                                   if e.text and any(max(lit) >= 0x80 for lit in e.literals))
        self.by_literal_not_ascii = [frozenset(i for i in ids if entries[i].regex is not None and entries[i].text)
                                     for ids in literal_ids.values()]
        regexes = [(i, e) for i, e in enumerate(entries) if e.regex is not None]
        self.by_regex = [(i, entries[i].text) for i, _ in regexes]
        self.first_regex = 2 + len(literal_ids)
        expressions = [NOT_TEXT, NOT_ASCII] + [_bytes_pattern(lit) for lit, _ in literal_ids]
        expressions += [e.regex for _, e in regexes if e.regex is not None]
        flags = [hyperscan.HS_FLAG_SINGLEMATCH] * 2 + [_flags(nocase, False) for _, nocase in literal_ids]
        flags += [_regex_flags(e.nocase, not e.exact) for _, e in regexes]
        # numbers and binary strings at fixed offsets: byte patterns that must end exactly there
        anchored: dict[tuple[bytes, int], set[int]] = {}
        for i, e in enumerate(entries):
            pattern = anchored_form(e)
            if pattern is None:
                if e.number is not None or e.fixed is not None:
                    self.always.add(i)
            else:
                anchored.setdefault(pattern, set()).add(i)
        self.first_anchored = len(expressions)
        self.by_anchor = [frozenset(ids) for ids in anchored.values()]
        self.anchored_patterns = list(anchored)  # (pattern, offset its match ends at)
        expressions += [pattern for pattern, _ in anchored]
        flags += [hyperscan.HS_FLAG_SINGLEMATCH] * len(anchored)
        at = hyperscan.HS_EXT_FLAG_MIN_OFFSET | hyperscan.HS_EXT_FLAG_MAX_OFFSET
        Ext = hyperscan.ExpressionExt  # type: ignore[attr-defined]  # not in its stubs
        ext = [Ext(0, 0, 0, 0, 0, 0)] * self.first_anchored + [Ext(at, end, end, 0, 0, 0) for _, end in anchored]
        # entries that give a type only through level-1 sub-tests decided here (`gate`): on a buffer
        # whose text copy is its bytes (what both passes read) none of which may match, they stay off
        gates = {i: tests for i, piece in enumerate(self.db.pieces)
                 if i not in self.always and i not in self.db.indirect and (tests := gate(piece)) is not None}
        self.gated = frozenset(gates)
        self.first_gate = len(expressions)
        self.by_gate: list[int] = []
        gate_regexes: list[int] = []  # their patterns, scanned with the regexes
        gate_offsets: list[int] = []
        for i, tests in gates.items():
            for offset, test in tests:
                if test.regex is not None:
                    gate_regexes.append(len(expressions))
                    gate_offsets.append(offset)
                    expressions.append(test.regex)
                    flags.append(_regex_flags(test.nocase, not test.exact))
                    self.by_gate.append(i)
                    continue
                for lit in test.literals:  # a search anywhere in the buffer: past any range it has
                    expressions.append(_bytes_pattern(lit))
                    flags.append(_flags(test.nocase, False))
                    self.by_gate.append(i)
        ext += [Ext(0, 0, 0, 0, 0, 0)] * (len(expressions) - len(ext))
        # the regexes apart: libmagic gives glibc at most `regex_max` bytes from the test's offset, so
        # they are looked for in the buffer's first `regex_reach` bytes only
        self.full = magic.Magic(mime=True)
        regex_max = int(self.full.getparam(MAGIC_PARAM_REGEX_MAX))
        offsets = [struct.unpack_from("<i", self.db.pieces[i], 12)[0] if not self.db.pieces[i][2] & (INDIR | OFFNEGATIVE)
                   else -1 for i, _ in regexes] + gate_offsets
        self.regex_reach = None if min(offsets, default=0) < 0 else max(offsets, default=0) + regex_max
        apart = list(range(self.first_regex, self.first_anchored)) + gate_regexes
        self.encoding_max = int(self.full.getparam(MAGIC_PARAM_ENCODING_MAX))
        # how far into the buffer the other patterns matter: the scan stops there (most of a large
        # file is never read by a test), and a number or string at a fixed offset past it is compared here
        reach = self._scan_ends(literal_ids, len(expressions), apart, regex_max)
        ends = [end for k, end in reach.items() if not self.first_anchored <= k < self.first_gate]  # not anchored
        near = None if None in ends else max(end for end in ends if end is not None)
        far = {k for k in range(self.first_anchored, self.first_gate) if near is not None and (reach[k] or 0) > near}
        self.scan_reach = near
        self.far_anchored = [(re.compile(pattern), end - _width(pattern), self.by_anchor[k - self.first_anchored])
                             for k in sorted(far) for pattern, end in [self.anchored_patterns[k - self.first_anchored]]]
        rest = sorted(set(range(len(expressions))) - set(apart) - far)
        self.scanner = scanner([expressions[k] for k in rest], [flags[k] for k in rest], [ext[k] for k in rest], rest)
        self.regex_scanner = scanner([expressions[k] for k in apart], [flags[k] for k in apart],
                                     [ext[k] for k in apart], apart)
        # the entries that may run `indirect` and are always kept: their top-level test is checked per buffer
        self.indirect_kept = [(i, self.db.pieces[i][:RECORD]) for i in sorted(self.db.indirect & self.always)]
        self.scratch = hyperscan.Scratch(self.scanner)
        self.regex_scratch = hyperscan.Scratch(self.regex_scanner)
        # one writable copy of the whole database that libmagic reads in place, its entries switched on
        # and off per buffer; and a compact one of the entries buffers have needed so far (libmagic
        # still walks every record of an entry switched off: 15,786 records for the whole database)
        self.whole = Layout(self.db, self.always, set(range(len(entries))) - self.always)
        self.wanted: set[int] = set()  # entries buffers needed that the compact layout lacks
        self.misses = self.since = 0
        self.compact: Layout | None = None
        self.remembered = _remembered_path(path) if remember else None
        if self.remembered is not None:
            needed = _read_remembered(self.remembered, len(entries)) - self.always
            if needed:
                self.compact = Layout(self.db, self.always, needed)

    def _scan_ends(self, literal_ids: dict[tuple[bytes, bool], list[int]], count: int, apart: list[int],
                   regex_max: int) -> dict[int, int | None]:
        """For each pattern of the main scan, the end of the part of a buffer where its match can
        switch an entry on (None: anywhere). A test of the text pass reads libmagic's copy of the
        first `encoding_max` bytes only (a UTF-16/EBCDIC reading keeps every text test anyway); a
        search with a range, its range; a number or string at a fixed offset, that offset."""
        entries = self.db.entries
        text_reach = self.encoding_max + max((len(lit) for lit, _ in literal_ids), default=0)
        reach: dict[int, int | None] = {0: self.encoding_max, 1: self.encoding_max}
        for k, ((lit, _), ids) in enumerate(literal_ids.items()):
            ends: list[int | None] = []
            for i in ids:
                entry = entries[i]
                if entry.window is not None:
                    ends.append(entry.window + len(lit))
                elif i in self.text_only:  # by_literal or, for a text regex, by_literal_not_ascii
                    ends.append(text_reach)
                elif entry.regex is None:  # a binary search
                    ends.append(self._search_reach(i, lit))
                elif entry.text:  # a regex of both passes: its region in the bytes too
                    offset = fixed_offset(self.db.pieces[i])
                    ends.append(None if offset is None else max(text_reach, offset + regex_max + len(lit)))
                # a binary regex's literal switches nothing on: its regex decides (by_regex)
            bounded = [end for end in ends if end is not None]
            reach[2 + k] = max(bounded, default=0) if len(bounded) == len(ends) else None
        for k, (_pattern, end) in enumerate(self.anchored_patterns):
            reach[self.first_anchored + k] = end
        for k in range(self.first_gate, count):
            if k not in apart:  # a gated text entry's search literal: in the text pass
                reach[k] = text_reach
        return reach

    def _search_reach(self, i: int, literal: bytes) -> int | None:
        """Where `literal`, the start of a binary search's value, ends at the latest: the search
        tries starts within its range (blank folding may stretch what follows, not the start).
        None where it may be anywhere (no range, an indirect or relative offset, a later run)."""
        rec = self.db.pieces[i][:RECORD]
        offset = fixed_offset(rec)
        count, = struct.unpack_from("<I", rec, 24)
        value = rec[32:32 + min(rec[5], 128)]
        if rec[6] != SEARCH or not count or offset is None:
            return None
        return offset + count + len(literal) if value.lower().startswith(literal.lower()) else None

    def may_match(self, data: bytes) -> frozenset[int]:
        """The entries not always kept whose top-level test may match `data`."""
        found: list[int] = []
        near = self.scan_reach
        self.scanner.scan(data if near is None or len(data) <= near else data[:near],
                          match_event_handler=_collect, context=found, scratch=self.scratch)
        reach = self.regex_reach
        self.regex_scanner.scan(data if reach is None or len(data) <= reach else data[:reach],
                                match_event_handler=_collect, context=found, scratch=self.regex_scratch)
        out: set[int] = set()
        opened: set[int] = set()  # gated entries one of whose sub-tests may match
        converted = high = False  # libmagic may convert the text (a control byte, a byte past ASCII)
        for hit in found:
            pattern, end = hit >> 32, hit & 0xFFFFFFFF
            if pattern == 0:
                converted = converted or end <= self.encoding_max
            elif pattern == 1:
                high = high or end <= self.encoding_max
        # plain ASCII, or UTF-8 libmagic decodes and encodes again unchanged: its copy is a prefix of the bytes
        same = not converted and data[:2] not in (b"\xff\xfe", b"\xfe\xff") \
            and (not high or utf8_unchanged(data, self.encoding_max))
        for hit in found:
            pattern, end = hit >> 32, hit & 0xFFFFFFFF
            if pattern >= self.first_gate:
                opened.add(self.by_gate[pattern - self.first_gate])
            elif pattern >= self.first_anchored:
                out |= self.by_anchor[pattern - self.first_anchored]
            elif pattern >= self.first_regex:
                entry, text = self.by_regex[pattern - self.first_regex]
                if same or not text:
                    out.add(entry)
            elif pattern >= 2:
                out |= self.by_literal[pattern - 2]
                for until, i in self.by_window[pattern - 2]:  # ends of the windows (+ length), ascending
                    if end <= until:
                        out.add(i)
                if not same:
                    out |= self.by_literal_not_ascii[pattern - 2]
        for far, start, ids in self.far_anchored:  # past the scan: compared where they must be
            if far.match(data, start):
                out |= ids
        if not text_pass(data, self.encoding_max):
            return frozenset(out - self.text_only)  # libmagic runs no text test on this buffer
        if not same:
            out |= self.text_unsure
            out |= self.text_high
        if converted or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            out |= self.text_tests  # libmagic may read this buffer as EBCDIC or UTF-16/32: keep text tests
        if same:
            out -= self.gated - opened
        return frozenset(out)

    def may_run_indirect(self, i: int, data: bytes) -> bool:
        """Whether entry `i` (one of `db.indirect`, its top-level test may match) may run `indirect`
        on `data`: unless every record that would run it sits under a number test at a fixed offset
        that fails (a font's or a compiled Python module's header rules out the MacBinary and DOS
        backup entries' paths). A text entry's tests read libmagic's text copy: not decided here."""
        if self.db.pieces[i][2] & TEXTTEST:
            return True
        # a relative offset (`&n`) is not where may_match_number would read: unsure, so it may hold
        return any(all(rec[2] & OFFADD or may_match_number(rec, data) for rec in path)
                   for path in self.db.indirect_paths[i])

    def mime(self, data: bytes) -> str:
        need = self.may_match(data)
        indirect = [*(need & self.db.indirect),
                    *(i for i, rec in self.indirect_kept if may_match_number(rec, data))]
        if any(self.may_run_indirect(i, data) for i in indirect):
            return str(self.full.from_buffer(data))  # set 0 may run again at other offsets: all of it
        self.since += 1
        compact = self.compact
        if compact is not None and need <= compact.switchable:
            return compact.mime(data, need)
        self.wanted |= need
        self.misses += 1
        if self.misses >= REBUILD_MISSES or self.since >= REBUILD_EVERY:
            self.compact = Layout(self.db, self.always, self.wanted | (compact.switchable if compact else set()))
            self.misses = self.since = 0
            self.wanted = set()
            if compact is not None:
                compact.close()
            if self.remembered is not None:
                _remember(self.remembered, self.compact.switchable, len(self.db.entries))
            return self.compact.mime(data, need)
        return self.whole.mime(data, need)


class Layout:
    """A writable copy of the entries `always | switchable` of the database (in its order, with all of
    set 1) that libmagic reads in place; an entry of `switchable` is switched off by clearing the binary
    and text bits of its top-level test's flag (libmagic then skips it and its sub-tests as it skips a
    text test on binary data) and on by restoring them."""

    def __init__(self, db: Database, always: set[int], switchable: set[int]) -> None:
        keep = sorted(always | switchable)
        self.switchable = frozenset(switchable)
        header = bytearray(db.header)
        body = b"".join(db.pieces[i] for i in keep)
        struct.pack_into("<II", header, 8, len(body) // RECORD, db.n_named)
        self.data = bytearray(header + body + db.named)
        self.switch: dict[int, int] = {}
        at = RECORD
        for i in keep:
            if i in switchable:
                self.switch[i] = at + 2
            at += len(db.pieces[i])
        self.flag_on = {i: self.data[pos] for i, pos in self.switch.items()}
        for pos in self.switch.values():
            self.data[pos] &= ~(BINTEST | TEXTTEST) & 0xFF
        self.on: frozenset[int] = frozenset()
        self.cookie = self._load(self.data)

    @staticmethod
    def _load(data: bytearray) -> Any:
        """A cookie over `data`, read in place (libmagic keeps pointers into it: it is kept alive)."""
        buffer = (ctypes.c_char * len(data)).from_buffer(data)
        pointers = (ctypes.c_void_p * 1)(ctypes.addressof(buffer))
        sizes = (ctypes.c_size_t * 1)(len(data))
        m = magic.Magic.__new__(magic.Magic)
        m.flags = magic.MAGIC_MIME_TYPE
        m.cookie = magic.magic_open(m.flags)
        m.lock = threading.Lock()
        load = magic.libmagic.magic_load_buffers
        load.restype = ctypes.c_int
        load.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t), ctypes.c_size_t]
        if load(m.cookie, pointers, sizes, 1) != 0:
            magic.magic_close(m.cookie)
            raise ValueError("libmagic refused the database copy")
        setattr(m, "database", buffer)
        m.setparam(magic.MAGIC_PARAM_NAME_MAX, 64)  # as python-magic's Magic() does
        return m

    def switch_to(self, need: frozenset[int]) -> None:
        """Switch on exactly the entries in `need` (of `switchable`; those always kept stay on)."""
        data, switch, flag_on = self.data, self.switch, self.flag_on
        for i in self.on - need:
            data[switch[i]] = flag_on[i] & ~(BINTEST | TEXTTEST) & 0xFF
        for i in need - self.on:
            data[switch[i]] = flag_on[i]
        self.on = need

    def mime(self, data: bytes, need: frozenset[int]) -> str:
        """libmagic's type of `data` with exactly `need` switched on."""
        self.switch_to(need)
        return str(self.cookie.from_buffer(data))

    def close(self) -> None:
        magic.magic_close(self.cookie.cookie)
        self.cookie.cookie = None


def _collect(pattern: int, start: int, end: int, flags: int, found: Any) -> None:
    found.append(pattern << 32 | min(end, 0xFFFFFFFF))
