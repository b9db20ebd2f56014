"""Table schemas from the CREATE TABLE text kept in sqlite_master.

A small tokenizer (comments, '' strings, "" `` [] quoted names) and a parser of the column list:
names, declared types and their affinity (https://sqlite.org/datatype3.html 3.1), NOT NULL, the
INTEGER PRIMARY KEY rowid alias, generated columns (VIRTUAL ones are not stored in the record),
WITHOUT ROWID. Anything it cannot read gives None, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$)"""      # blanks and comments (skipped)
    r"""|(?P<str>'(?:[^']|'')*'?)"""                  # 'string' (also used as a name)
    r"""|(?P<dq>"(?:[^"]|"")*"?)|(?P<bq>`(?:[^`]|``)*`?)|(?P<br>\[[^\]]*\]?)"""
    r"""|(?P<num>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|0[xX][0-9a-fA-F]+)"""
    r"""|(?P<word>[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9$\x80-\U0010ffff]*)"""
    r"""|(?P<punct>.)""",
    re.S,
)

# words that end a column's type name and start a column constraint
_CONSTRAINT_WORDS = {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE",
                     "REFERENCES", "GENERATED", "AS"}
_TABLE_CONSTRAINT_WORDS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


@dataclass(frozen=True)
class Token:
    kind: str   # "name" (bare word or quoted identifier), "str", "num", "punct"
    text: str   # unquoted text
    bare: bool  # an unquoted word: may be a keyword

    def kw(self) -> str:
        return self.text.upper() if self.bare else ""


def tokenize(sql: str) -> list[Token]:
    tokens: list[Token] = []
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup
        text = m.group()
        if kind is None:
            continue
        if kind == "str":
            tokens.append(Token("str", _unquote(text, "'"), False))
        elif kind == "dq":
            tokens.append(Token("name", _unquote(text, '"'), False))
        elif kind == "bq":
            tokens.append(Token("name", _unquote(text, "`"), False))
        elif kind == "br":
            tokens.append(Token("name", text[1:-1] if text.endswith("]") else text[1:], False))
        elif kind == "word":
            tokens.append(Token("name", text, True))
        else:
            tokens.append(Token(kind, text, False))
    return tokens


def _unquote(text: str, q: str) -> str:
    inner = text[1:-1] if len(text) >= 2 and text.endswith(q) else text[1:]
    return inner.replace(q + q, q)


def affinity(decl_type: str) -> str:
    """Column affinity of a declared type (the five rules of datatype3 3.1, in order)."""
    t = decl_type.upper()
    if "INT" in t:
        return "INTEGER"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t:
        return "TEXT"
    if "BLOB" in t or not t.strip():
        return "BLOB"
    if "REAL" in t or "FLOA" in t or "DOUB" in t:
        return "REAL"
    return "NUMERIC"


@dataclass(frozen=True)
class Column:
    name: str
    decl_type: str
    affinity: str
    not_null: bool = False
    ipk: bool = False        # INTEGER PRIMARY KEY: an alias of the rowid, stored as NULL in the record
    virtual: bool = False    # GENERATED ... VIRTUAL: not stored in the record
    default: Any = None      # DEFAULT literal: what SQLite reads for a record written before ADD COLUMN


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    without_rowid: bool = False
    root: int = 0
    sql: str = ""
    dropped: bool = False    # rebuilt from a deleted sqlite_master row
    stored: tuple[Column, ...] = field(default=(), compare=False)
    has_ipk: bool = field(default=False, compare=False)
    has_real: bool = field(default=False, compare=False)

    @staticmethod
    def make(name: str, columns: tuple[Column, ...], without_rowid: bool = False, root: int = 0,
             sql: str = "", dropped: bool = False) -> Table:
        stored = tuple(c for c in columns if not c.virtual)
        return Table(name, columns, without_rowid, root, sql, dropped, stored, any(c.ipk for c in stored),
                     any(c.affinity == "REAL" for c in stored))


def _split_top(tokens: list[Token]) -> list[list[Token]]:
    """Split on commas outside parentheses."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind == "punct" and tok.text == "(":
            depth += 1
        elif tok.kind == "punct" and tok.text == ")":
            depth -= 1
        elif tok.kind == "punct" and tok.text == "," and depth == 0:
            parts.append([])
            continue
        parts[-1].append(tok)
    return [p for p in parts if p]


def _is_name(tok: Token) -> bool:
    return tok.kind in ("name", "str")


def _parse_column(part: list[Token]) -> tuple[Column, bool] | None:
    """A column definition: (column, declared PRIMARY KEY DESC)."""
    if not part or not _is_name(part[0]):
        return None
    name = part[0].text
    i = 1
    type_words: list[str] = []
    while i < len(part):
        tok = part[i]
        if tok.kind == "punct" and tok.text == "(":
            depth = 0
            group: list[str] = []
            while i < len(part):
                t = part[i]
                if t.kind == "punct" and t.text == "(":
                    depth += 1
                elif t.kind == "punct" and t.text == ")":
                    depth -= 1
                group.append(t.text)
                i += 1
                if depth == 0:
                    break
            type_words.append("".join(group))
            continue
        if tok.kw() in _CONSTRAINT_WORDS or not _is_name(tok):
            break
        type_words.append(tok.text)
        i += 1
    decl = " ".join(type_words).replace(" (", "(")
    not_null = pk = desc = generated = False
    virtual_kw = stored_kw = False
    default: Any = None
    rest = part[i:]
    for j, tok in enumerate(rest):
        kw = tok.kw()
        if kw == "DEFAULT" and j + 1 < len(rest):
            default = _literal(rest[j + 1:j + 3])
        elif kw == "NOT" and j + 1 < len(rest) and rest[j + 1].kw() == "NULL":
            not_null = True
        elif kw == "PRIMARY" and j + 1 < len(rest) and rest[j + 1].kw() == "KEY":
            pk = True
            desc = j + 2 < len(rest) and rest[j + 2].kw() == "DESC"
        elif kw in ("GENERATED", "AS"):
            generated = True
        elif kw == "VIRTUAL":
            virtual_kw = True
        elif kw == "STORED":
            stored_kw = True
    ipk = pk and not desc and decl.upper() == "INTEGER"
    virtual = generated and (virtual_kw or not stored_kw)
    aff = affinity(decl)
    if aff in ("INTEGER", "REAL", "NUMERIC") and isinstance(default, str):
        try:
            default = int(default)
        except ValueError:
            try:
                default = float(default)
            except ValueError:
                pass
    if aff == "REAL" and isinstance(default, int):
        default = float(default)
    return Column(name, decl, aff, not_null, ipk, virtual, default), pk


def _literal(toks: list[Token]) -> Any:
    """The value of a DEFAULT literal (None for NULL and for anything that is not a plain literal)."""
    sign = 1
    if toks and toks[0].kind == "punct" and toks[0].text in "+-" and len(toks) > 1:
        sign = -1 if toks[0].text == "-" else 1
        toks = toks[1:]
    if not toks:
        return None
    tok = toks[0]
    if tok.kind == "str":
        return tok.text
    if tok.kind == "num":
        try:
            return sign * (int(tok.text, 0) if "." not in tok.text and "e" not in tok.text.lower() else float(tok.text))
        except ValueError:
            return None
    if tok.kw() in ("TRUE", "FALSE"):
        return 1 if tok.kw() == "TRUE" else 0
    return None


def parse_create_table(sql: str, root: int = 0, dropped: bool = False) -> Table | None:
    """The table a CREATE TABLE statement defines, or None (virtual tables, CREATE ... AS SELECT,
    anything unreadable)."""
    try:
        return _parse(sql, root, dropped)
    except (IndexError, ValueError, RecursionError):
        return None


def _parse(sql: str, root: int, dropped: bool) -> Table | None:
    toks = tokenize(sql)
    i = 0
    if i >= len(toks) or toks[i].kw() != "CREATE":
        return None
    i += 1
    if toks[i].kw() in ("TEMP", "TEMPORARY"):
        i += 1
    if toks[i].kw() != "TABLE":
        return None
    i += 1
    if toks[i].kw() == "IF":
        i += 3  # IF NOT EXISTS
    if not _is_name(toks[i]):
        return None
    name = toks[i].text
    i += 1
    if i < len(toks) and toks[i].kind == "punct" and toks[i].text == ".":
        name = toks[i + 1].text
        i += 2
    if i >= len(toks) or toks[i].text != "(" or toks[i].kind != "punct":
        return None
    # the parenthesised body
    depth = 0
    j = i
    while j < len(toks):
        if toks[j].kind == "punct" and toks[j].text == "(":
            depth += 1
        elif toks[j].kind == "punct" and toks[j].text == ")":
            depth -= 1
            if depth == 0:
                break
        j += 1
    body = toks[i + 1:j]
    options = {t.kw() for t in toks[j + 1:]}
    without_rowid = "WITHOUT" in options and "ROWID" in options
    columns: list[Column] = []
    pk_cols: list[str] = []
    for part in _split_top(body):
        if part[0].kw() in _TABLE_CONSTRAINT_WORDS:
            words = [t.kw() for t in part]
            if "PRIMARY" in words:
                k = words.index("PRIMARY")
                if k + 2 < len(part) and part[k + 2].text == "(":
                    inner = []
                    depth = 0
                    for t in part[k + 2:]:
                        if t.kind == "punct" and t.text == "(":
                            depth += 1
                            continue
                        if t.kind == "punct" and t.text == ")":
                            depth -= 1
                            if depth == 0:
                                break
                            continue
                        inner.append(t)
                    pk_cols = [p[0].text for p in _split_top(inner) if p and _is_name(p[0])]
            continue
        parsed = _parse_column(part)
        if parsed is None:
            return None
        columns.append(parsed[0])
    if not columns:
        return None
    if without_rowid:
        columns = [Column(c.name, c.decl_type, c.affinity, c.not_null, False, c.virtual, c.default)
                   for c in columns]
    elif len(pk_cols) == 1:
        columns = [Column(c.name, c.decl_type, c.affinity, c.not_null,
                          c.ipk or (c.name.lower() == pk_cols[0].lower() and c.decl_type.upper() == "INTEGER"),
                          c.virtual, c.default) for c in columns]
    if sum(c.ipk for c in columns) > 1:
        return None
    return Table.make(name, tuple(columns), without_rowid, root, sql, dropped)


SQLITE_MASTER = Table.make("sqlite_master", (
    Column("type", "TEXT", "TEXT"), Column("name", "TEXT", "TEXT"), Column("tbl_name", "TEXT", "TEXT"),
    Column("rootpage", "INT", "INTEGER"), Column("sql", "TEXT", "TEXT")), root=1)
