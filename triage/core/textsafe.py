"""Suspect-written text (file names, paths, warning texts) on a terminal and in CSV files.

`display()` is for people: every character that could move the cursor, start a terminal escape
sequence, reorder what is shown (bidi controls) or break a line is shown as a visible escape,
so what appears on the screen is what the file system holds, one line per row. Data outputs
(jsonl, csv) keep the exact text; `csv_writer()` and `csv_cell()` make CSV that round-trips through
Python's csv reader and spreadsheets, with formula injection neutralised.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from typing import Any, TextIO

# Bidi controls: LRM, RLM, ALM, the embeddings/overrides (LRE RLE PDF LRO RLO) and isolates (LRI RLI FSI PDI).
BIDI = frozenset({0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
# Invisible format characters a name could hide behind (zero-width space, word joiner and invisible
# operators, BOM, soft hyphen, tag characters); ZWNJ and ZWJ stay: Arabic and Persian text uses them.
INVISIBLE = frozenset({0x200B, 0x00AD, 0xFEFF, *range(0x2060, 0x2065), *range(0xE0000, 0xE0080)})


def _shown(char: str) -> str:
    if char in NAMED:
        return NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def hidden(char: str) -> bool:
    """A character that can make shown text lie or vanish: bidi controls, invisible format
    characters, controls (C0, DEL, C1: Cc), line/paragraph separators (Zl/Zp), lone surrogates
    (undecodable bytes: Cs). One set for the console, export names and the report."""
    if ord(char) in BIDI or ord(char) in INVISIBLE:
        return True
    return unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs")


def _needs_escape(char: str) -> bool:
    return char in NAMED or hidden(char)


def display(text: str) -> str:
    """`text` with controls, bidi controls, line separators and backslashes as visible escapes
    (`\\x1b`, `\\u202e`, `\\n`, `\\\\`): unambiguous, one line, inert on a terminal."""
    if text.isprintable() and "\\" not in text and not any(ord(c) in INVISIBLE for c in text):
        # the common case (bidi controls are not printable)
        return text
    return "".join(_shown(c) if _needs_escape(c) else c for c in text)


# Line breaks for str.splitlines() and many JSON-lines readers that json.dumps leaves raw (it escapes only < U+0020).
_JSON_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(value: Any) -> str:
    """One JSON-lines record (no newline): exact text, non-ASCII kept readable, but the three
    characters other readers take as a line break (NEL, U+2028, U+2029) written as JSON escapes."""
    return json.dumps(value, ensure_ascii=False, sort_keys=False).translate(_JSON_BREAKS)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A CSV cell: None empty, lists/dicts as JSON, and text a spreadsheet would run as a formula
    (starting with = + - @ tab or CR, not a number) prefixed with a single quote."""
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
    if text[:1] in FORMULA_START and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def csv_writer(fh: TextIO) -> Any:
    """A csv.writer with RFC 4180 line ends (CRLF). Python's writer quotes a field holding any
    character of the line terminator, so with CRLF a bare CR or LF inside a name is quoted and the
    file reads back with the same columns (open it with newline="" when writing to a file)."""
    return csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
