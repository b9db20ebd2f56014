"""The pruned-database engine types buffers exactly as libmagic with the full system database does,
while actually leaving entries out; where it does not apply, the full database is used."""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import magic
import pytest

from triage.analyzers import filetype, magicdb


@pytest.fixture(scope="module")
def engine() -> magicdb.Engine:
    path = magicdb.compiled_path()
    if path is None or magic.version() not in magicdb.LIBMAGIC:
        pytest.skip(f"libmagic {magic.version()} / {path}: the engine does not apply here")
    return magicdb.Engine(path)


def test_necessary_literals_of_real_magic_regexes() -> None:
    """Patterns as they stand in file 5.44's Magdir (javascript, make, pcb-rnd)."""
    assert magicdb.necessary_literals(rb"^(import|export).* from ") == [b"import", b"export"]
    assert magicdb.necessary_literals(rb"^[[:space:]]*(class|module)[[:space:]][A-Z]") == [b"class", b"module"]
    assert magicdb.necessary_literals(rb"module(\.|\[[\"'])exports.*=") == [b"exports"]
    assert magicdb.necessary_literals(rb"li:pcb-rnd-font-v[0-9]+[ \t\r\n]*[{]") == [b"li:pcb-rnd-font-v"]
    assert magicdb.necessary_literals(rb"typeof.*[!=]==") == [b"typeof"]
    assert magicdb.necessary_literals(rb"\((async )?function[( ]") == [b"function"]
    # an optional or repeated atom is not part of a literal; a branch without one leaves the test in
    assert magicdb.necessary_literals(rb"abcd?ef+gh") == [b"abc"]
    assert magicdb.necessary_literals(rb"foobar|baz.") == [b"foobar", b"baz"]
    assert magicdb.necessary_literals(rb"foobar|ba.") is None
    assert magicdb.necessary_literals(rb"^\.(BEGIN|endif|include)") == [b"BEGIN", b"endif", b"include"]
    assert magicdb.necessary_literals(rb"(ab|cd)?efgh") == [b"efgh"]  # an optional group needs nothing
    assert magicdb.necessary_literals(rb"x(abc|de)+") is None  # "de" is too short to look for
    assert magicdb.necessary_literals(rb"(a(b|c)d)") is None
    assert magicdb.necessary_literals(rb"\<class\>") == [b"class"]  # word boundaries take no bytes
    assert magicdb.necessary_literals(rb"[[:space:]]*[A-Z]") is None
    assert magicdb.necessary_literals(rb"unclosed[abc") is None


def test_regexes_as_hyperscan_reads_them() -> None:
    """Anchors dropped (libmagic may start a region mid-line), word boundaries too, a backslash in
    brackets literal as POSIX has it, {,n} as {0,n}; escapes whose meaning is unsure refused."""
    assert magicdb.hyperscan_form(rb"^[[:space:]]*(class|module)[[:space:]][A-Z]") == \
        rb"[[:space:]]*(class|module)[[:space:]][A-Z]"
    assert magicdb.hyperscan_form(rb"\<class\>$") == rb"class"
    assert magicdb.hyperscan_form(rb"\bx\Bs\w") == rb"xs\w"
    assert magicdb.hyperscan_form(rb"a\.b[\x]") == rb"a\x2eb[\\x]"
    assert magicdb.hyperscan_form(rb"x{,3}") == rb"x{0,3}"
    assert magicdb.hyperscan_form(rb"(a)\1") is None
    assert magicdb.hyperscan_form(rb"a*+") is None
    # at the buffer's start `^` stays (Hyperscan's multi-line mode reads it as glibc's REG_NEWLINE does)
    assert magicdb.hyperscan_form(rb"^(:|;)x$", line_start=True) == rb"^(:|;)x"
    assert magicdb.hyperscan_form(rb"[^^]", line_start=True) == rb"[^^]"


def test_numbers_at_fixed_offsets(engine: magicdb.Engine) -> None:
    """Number tests read as libmagic reads them (masked, signed or not, nothing past the end), and as
    Hyperscan patterns that must end at their offset: JPEG's entry, which may run `indirect`."""
    jpeg_id = next(i for i, piece in enumerate(engine.db.pieces) if piece[160:175] == b"JPEG image data")
    jpeg = engine.db.pieces[jpeg_id][:magicdb.RECORD]
    assert magicdb.may_match_number(jpeg, b"\xff\xd8\xff\xe0\0\x10JFIF")
    assert not magicdb.may_match_number(jpeg, b"\xff\xd8\xfe\xe0\0\x10JFIF")
    assert not magicdb.may_match_number(jpeg, b"\xff\xd8")  # a long past the end is no match
    assert jpeg_id in engine.db.indirect and jpeg_id not in engine.always
    assert jpeg_id in engine.may_match(b"\xff\xd8\xff\xe0\0\x10JFIF\0" + b"\0" * 64)
    assert jpeg_id not in engine.may_match(b"\xff\xd8\xfe\xe0\0\x10JFIF\0" + b"\0" * 64)
    assert jpeg_id not in engine.may_match(b"\xff\xd8")
    # a masked byte is the class of the bytes it accepts; one accepting none leaves the entry on
    entry = magicdb.Entry(text=False, number=(2, 1, "big", 0xF0, 0x30))
    assert magicdb.anchored_form(entry) == (b"[" + b"".join(b"\\x%02x" % b for b in range(0x30, 0x40)) + b"]", 3)
    assert magicdb.anchored_form(magicdb.Entry(text=False, number=(0, 1, "big", 0xF0, 0x31))) is None
    assert magicdb.anchored_form(magicdb.Entry(text=False, fixed=(4, b"ab\0\0"))) == (b"\\x61\\x62", 6)


def test_not_a_database_is_refused() -> None:
    with pytest.raises(ValueError):
        magicdb.Database(b"\x1c\x04\x1e\xf1" + b"\0" * 400)


def test_same_types_as_the_full_database_on_tricky_buffers(engine: magicdb.Engine, tmp_path: Path) -> None:
    """Buffers where a pruned entry would be the wrong thing to drop: literals that make text tests
    apply, text libmagic converts before its text tests (UTF-16, EBCDIC), fixed strings cut by the end."""
    full = magic.Magic(mime=True)
    html = b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>\n"
    script = b"#!/usr/bin/env python3\nimport os\n\ndef main():\n    print(os.getcwd())\n"
    js = b"const fs = require('fs');\nmodule.exports = function () { return typeof fs === 'object'; };\n"
    buffers = {
        "html": html,
        "python": script,
        "javascript": js,
        "utf16 html": b"\xff\xfe" + html.decode().encode("utf-16-le"),
        "utf16 script": b"\xfe\xff" + script.decode().encode("utf-16-be"),
        "ebcdic text": "HELLO WORLD, THIS IS TEXT\n".encode("cp500") * 20,
        "latin1 text": "Grüße aus Tripoli, café crème\n".encode("latin-1") * 30,
        "gzip": gzip.compress(b"x" * 1000, mtime=0),
        "gzip head cut": b"\x1f\x8b",
        "pdf head": b"%PDF-1.7\n",
        "elf head": b"\x7fELF\x02\x01\x01" + b"\0" * 57,
        "png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 20,
        "zip": b"PK\x03\x04" + b"\0" * 26,
        "binary then text": b"\0\x01\x02" + html,
        "text then nul after 64 KiB": b"a" * 70_000 + b"\0" + html,
        "plain": b"just some words on a line\n" * 10,
        "json": json.dumps({"a": [1, 2, 3], "b": "import from"}).encode(),
        "csv": b"a,b,c\n1,2,3\n4,5,6\n",
        "ruby mid-line": b"x = 1; class Foo < Bar\nend\n",
        "ruby latin1": "# caf\xe9\nclass Foo\n  def x; end\nend\n".encode("latin-1"),
        "makefile": b"CFLAGS = -O2\nall: x\n\tcc $(CFLAGS) -o x x.c\n",
        "troff": b".TH X 1\n.SH NAME\nx \\- y\n",
        "jpeg with a zip inside": b"\xff\xd8\xff\xe0\0\x10JFIF\0" + b"\0" * 100 + b"PK\x03\x04" + b"\0" * 26,
        "nul first": b"\0\0\0\x01" + html,
    }
    for name, data in buffers.items():
        assert engine.mime(data) == full.from_buffer(data), name


def test_same_types_as_the_full_database_on_real_files(engine: magicdb.Engine,
                                                       testdata: Callable[[str], Path]) -> None:
    """The shared corpus and the installed system's own files of many kinds (programs, libraries,
    compressed manuals, scripts, images) through one engine, switching entries on and off in turn."""
    full = magic.Magic(mime=True)
    root = testdata("magic_expected.json").parent
    paths = [p for p in sorted(root.rglob("*")) if p.is_file() and p.stat().st_size <= 4 << 20]
    for folder in ("/usr/bin", "/usr/share/doc", "/usr/lib/python3.11", "/etc", "/usr/share/man/man1"):
        paths += sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.is_symlink())[:250]
    compared = kinds = 0
    seen: set[str] = set()
    for path in paths:
        try:
            data = path.read_bytes()[:7 << 20]
        except OSError:
            continue
        if not data:
            continue
        want = full.from_buffer(data)
        assert engine.mime(data) == want, path
        compared += 1
        if want not in seen:
            seen.add(want)
            kinds += 1
    assert compared > 800 and kinds > 25


def test_entries_are_switched_off(engine: magicdb.Engine) -> None:
    """A plain text buffer is typed with most regex and search tests switched off in the database copy
    libmagic reads (their flag without the binary and text bits); the next buffer switches on its own."""
    full = magic.Magic(mime=True)
    layout = engine.whole
    data = b"nothing special here, just words\n" * 40
    need = engine.may_match(data)
    assert not need & engine.text_tests
    assert layout.mime(data, need) == full.from_buffer(data) == "text/csv"
    assert layout.on == need and len(layout.switch) - len(need) > 3000
    off = [i for i in layout.switch if i not in need]
    assert all(layout.data[layout.switch[i]] & (magicdb.BINTEST | magicdb.TEXTTEST) == 0 for i in off)
    ruby = b"class Foo < Bar\n  def x\n  end\nend\n"
    assert layout.mime(ruby, engine.may_match(ruby)) == full.from_buffer(ruby) == "text/x-ruby"
    on = layout.on - need
    assert on and all(layout.data[layout.switch[i]] == layout.flag_on[i] for i in on)
    assert layout.mime(data, need) == "text/csv" and layout.on == need


def test_entries_gated_by_their_sub_tests(engine: magicdb.Engine) -> None:
    """Ruby's `search require` entry types only through its regex sub-test: on a Perl module that says
    `require` it stays off; on a Ruby script, or on text that is not plain ASCII, it stays on."""
    full = magic.Magic(mime=True)
    ruby_require = {i for i in engine.gated if b"require[[:space:]]'" in engine.db.pieces[i]}
    assert ruby_require and len(engine.gated) >= 20
    perl = b"package Foo::Bar;\nuse strict;\nrequire Exporter;\nour @ISA = qw(Exporter);\nsub x { 1 }\n1;\n"
    assert not engine.may_match(perl) & ruby_require
    assert engine.mime(perl) == full.from_buffer(perl)
    ruby = b"require 'json'\n\nmodule Foo\n  def self.x\n    JSON.parse('{}')\n  end\nend\n"
    assert engine.may_match(ruby) & ruby_require
    assert engine.mime(ruby) == full.from_buffer(ruby) == "text/x-ruby"
    utf8 = "# café\n".encode() + perl  # libmagic decodes UTF-8 and writes it back unchanged: the same
    assert not engine.may_match(utf8) & ruby_require
    assert engine.mime(utf8) == full.from_buffer(utf8)
    latin1 = "# café\n".encode("latin-1") + perl  # its copy is re-encoded, not the bytes: not trusted
    assert engine.may_match(latin1) & ruby_require
    assert engine.mime(latin1) == full.from_buffer(latin1)


def test_utf8_text_is_read_as_its_bytes(engine: magicdb.Engine) -> None:
    """libmagic's text tests read a UTF-8 copy of the text: for UTF-8 the bytes themselves (a prefix of
    them), for a BOM, 8-bit text or broken UTF-8 something else. Regex tests are decided on the bytes
    only in the first case, and every case types as the full database does."""
    full = magic.Magic(mime=True)
    limit = engine.encoding_max
    ruby = "# عربي\nclass Foo < Bar\n  def x\n  end\nend\n".encode()
    perl = "# ليبيا\npackage Foo;\nrequire Exporter;\nsub x { 1 }\n1;\n".encode()
    cut = b"a" * (limit - 1) + "é".encode() + b"\nclass Foo\n  def x\n  end\nend\n"  # a character cut at the limit
    assert magicdb.utf8_unchanged(ruby, limit) and magicdb.utf8_unchanged(cut, limit)
    assert magicdb.utf8_unchanged("fin é".encode()[:-1], limit)  # cut at the end of a short buffer
    assert not magicdb.utf8_unchanged(b"\xef\xbb\xbf" + ruby, limit)  # a byte order mark
    assert not magicdb.utf8_unchanged(b"caf\xe9 " + ruby, limit)  # Latin-1
    assert not magicdb.utf8_unchanged(b"\xed\xa0\x80 " + ruby, limit)  # a surrogate: libmagic may take it
    assert not magicdb.utf8_unchanged(b"\xe0\x80", limit)  # broken, not merely cut
    latin1 = "café crème\n".encode("latin-1") + ruby
    assert engine.text_unsure <= engine.may_match(latin1)  # regex tests without a literal: all kept
    assert not engine.text_unsure <= engine.may_match(ruby)  # decided on the bytes
    buffers = [ruby, perl, cut, b"\xef\xbb\xbf" + ruby, latin1,
               b"\xed\xa0\x80 " + ruby, ruby + b"\x01", "مرحبا\n".encode() * 20_000]
    for data in buffers:
        assert engine.mime(data) == full.from_buffer(data), data[:40]


def test_compact_layout_of_the_entries_needed(tmp_path: Path) -> None:
    """After a few buffers the engine types with a compact copy holding only the entries buffers have
    needed (and those always on); a buffer needing another entry is typed by the whole copy, and the
    compact one is made again with it."""
    path = magicdb.compiled_path()
    if path is None or magic.version() not in magicdb.LIBMAGIC:
        pytest.skip("the engine does not apply here")
    engine, full = magicdb.Engine(path), magic.Magic(mime=True)
    texts = [b"line %d of some notes\n" % i * (i + 3) for i in range(magicdb.REBUILD_MISSES + 2)]
    for data in texts:
        assert engine.mime(data) == full.from_buffer(data)
    compact = engine.compact
    assert compact is not None and len(compact.switchable) < 100
    records = [struct.unpack_from("<I", layout.data, 8)[0] for layout in (compact, engine.whole)]
    assert records[0] < records[1] // 10  # set 0's records in each copy
    ruby = b"class Foo < Bar\n  def x\n  end\nend\n"
    assert not engine.may_match(ruby) <= compact.switchable
    assert engine.mime(ruby) == full.from_buffer(ruby) == "text/x-ruby"  # by the whole copy
    assert engine.wanted >= engine.may_match(ruby) and engine.compact is compact
    for data in texts[:magicdb.REBUILD_MISSES]:
        assert engine.mime(ruby + data) == full.from_buffer(ruby + data)
    assert engine.compact is not compact and engine.may_match(ruby) <= engine.compact.switchable
    assert engine.mime(ruby) == "text/x-ruby"


def test_the_entries_earlier_runs_needed_are_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Engine(remember=True)` (what `dalil parse` uses) keeps the entries its compact layouts held in
    the cache folder; a later engine starts with them, so buffers of the same kinds are typed without a
    miss. The file is derived data: a damaged one, or one too large, is ignored, and types never change."""
    path = magicdb.compiled_path()
    if path is None or magic.version() not in magicdb.LIBMAGIC:
        pytest.skip("the engine does not apply here")
    if (real := magicdb.cache_dir()) is not None and real.is_dir():  # the compiled scanners: not made again
        shutil.copytree(real, tmp_path / "dalil", ignore=shutil.ignore_patterns("magicdb-needed-*"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    full = magic.Magic(mime=True)
    ruby = b"class Foo < Bar\n  def x\n  end\nend\n"
    buffers = [b"line %d of some notes\n" % i * (i + 3) for i in range(magicdb.REBUILD_MISSES + 2)]
    buffers += [ruby + b"# %d\n" % i for i in range(magicdb.REBUILD_MISSES)]
    first = magicdb.Engine(path, remember=True)
    assert first.compact is None  # nothing remembered yet
    for data in buffers:
        assert first.mime(data) == full.from_buffer(data)
    kept = list((tmp_path / "dalil").glob("magicdb-needed-*.json"))
    assert first.compact is not None and len(kept) == 1
    assert set(json.loads(kept[0].read_text())) == set(first.compact.switchable)
    again = magicdb.Engine(path, remember=True)
    assert again.compact is not None and again.compact.switchable == first.compact.switchable
    for data in buffers:
        assert again.mime(data) == full.from_buffer(data)
    assert again.misses == 0 and again.mime(ruby) == "text/x-ruby"
    assert magicdb.Engine(path).compact is None  # without `remember`: learnt in the process
    for damaged in (b"not json", b"[1, 2, 99999999]", b'{"a": 1}', b"[true]",
                    json.dumps(list(range(magicdb.REMEMBER_MAX + 1))).encode()):
        kept[0].write_bytes(damaged)
        engine = magicdb.Engine(path, remember=True)
        assert engine.compact is None and engine.mime(ruby) == "text/x-ruby"


def test_search_ranges_and_line_anchors(engine: magicdb.Engine) -> None:
    """A search's value past its range, a regex anchored at a line start that matches only mid-line:
    neither entry is switched on, and the type is still libmagic's."""
    windowed = [i for i, e in enumerate(engine.db.entries) if e.window is not None and e.text]
    assert len(windowed) > 50
    anchored = [e for e in engine.db.entries if e.exact and e.regex and e.regex.startswith(b"^")]
    assert len(anchored) > 30
    full = magic.Magic(mime=True)
    # LaTeX's "\\documentclass" is looked for in the first 4 KiB only; here it comes later
    late = b"% notes\n" + b"word " * 1000 + b"\n\\documentclass{article}\n"
    latex = {i for i in windowed if engine.db.entries[i].literals[0] == b"\\documentclass"}
    assert latex and not engine.may_match(late) & latex
    assert latex <= engine.may_match(late[-30:])
    assert engine.mime(late) == full.from_buffer(late)
    assert engine.mime(late[-30:]) == full.from_buffer(late[-30:]) == "text/x-tex"
    # Ruby's "^[[:space:]]*(class|module)[[:space:]][A-Z]": "class X" mid-line only
    mid = b"the class Foo is here\nand the module Bar\n"
    ruby = {i for i, e in enumerate(engine.db.entries) if e.regex == rb"^[[:space:]]*(class|module)[[:space:]][A-Z]"}
    assert ruby and not engine.may_match(mid) & ruby
    assert engine.may_match(b"x\n  class Foo\n") & ruby
    assert engine.mime(mid) == full.from_buffer(mid)
    # glibc gets at most regex_max (8 KiB) bytes from a regex test's offset: a line past them is not looked at
    late = b"notes\n" * 1500 + b"class Foo < Bar\n  def x\n  end\nend\n"
    assert engine.regex_reach is not None and len(late) > engine.regex_reach
    assert not engine.may_match(late) & ruby and engine.may_match(late[-40:]) & ruby
    assert engine.mime(late) == full.from_buffer(late)


def test_engine_chosen_by_environment(tmp_path: Path) -> None:
    """The pruning engine by default and with DALIL_MAGIC=pruned where it applies; libmagic's full
    database with DALIL_MAGIC=full (a new process each: engines are per thread)."""
    code = ("from triage.analyzers import filetype; print(filetype.engine_name(), "
            "filetype.mime_of(b'<html><body>x</body></html>'))")
    expected = "pruned" if magicdb.compiled_path() is not None and magic.version() in magicdb.LIBMAGIC else "full"
    env = {k: v for k, v in os.environ.items() if k != "DALIL_MAGIC"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [expected, "text/html"]
    env["DALIL_MAGIC"] = "full"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["full", "text/html"]
    env["DALIL_MAGIC"] = "pruned"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [expected, "text/html"]
    assert filetype.mime_of(b"") == "inode/x-empty"


def test_tool_manifest_names_the_database_used() -> None:
    """Which database typed the files is in the tool manifest (a court asks which tool did what)."""
    code = ("import json; from triage.analyzers import registry; "
            "print(json.dumps([e['magic'] for e in registry() if e['name'] == 'filetype']))")
    env = {k: v for k, v in os.environ.items() if k != "DALIL_MAGIC"}
    expected = "pruned" if magicdb.compiled_path() is not None and magic.version() in magicdb.LIBMAGIC else "full"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f'["{expected}"]'
    env["DALIL_MAGIC"] = "full"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '["full"]'


def test_compiled_scanner_is_cached_and_a_bad_cache_file_replaced(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled pre-filter is kept in the user's cache folder; a file there that does not load
    (truncated, foreign) is compiled again and replaced, never trusted."""
    pytest.importorskip("hyperscan")
    import hyperscan

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expressions, flags = [b"abc", b"^x[0-9]+"], [hyperscan.HS_FLAG_SINGLEMATCH] * 2
    ext = [hyperscan.ExpressionExt(0, 0, 0, 0, 0, 0)] * 2  # type: ignore[attr-defined]

    def hits(db: Any, data: bytes) -> list[int]:
        found: list[int] = []
        db.scan(data, match_event_handler=lambda i, *_: found.append(i),
                scratch=hyperscan.Scratch(db))
        return sorted(found)

    first = magicdb.scanner(expressions, flags, ext)
    cached = list((tmp_path / "dalil").glob("magicdb-*.hs"))
    assert len(cached) == 1 and hits(first, b"x12 abc") == [0, 1]
    assert hits(magicdb.scanner(expressions, flags, ext), b"x12 abc") == [0, 1]  # loaded from the file
    cached[0].write_bytes(b"not a database")
    assert hits(magicdb.scanner(expressions, flags, ext), b"abc") == [0]
    assert cached[0].read_bytes() != b"not a database"
    other = magicdb.scanner([b"zzz"], flags[:1], ext[:1])  # other patterns: another file
    assert hits(other, b"zzz") == [0] and len(list((tmp_path / "dalil").glob("magicdb-*.hs"))) == 2


def test_only_the_most_recently_used_scanners_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each new set of patterns (a system magic update, a code change) makes a 1.3 MB file; beyond
    KEEP_SCANNERS the least recently used go, and loading one counts as using it."""
    pytest.importorskip("hyperscan")
    import hyperscan

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(magicdb, "KEEP_SCANNERS", 3)
    flags, ext = [hyperscan.HS_FLAG_SINGLEMATCH], [hyperscan.ExpressionExt(0, 0, 0, 0, 0, 0)]  # type: ignore[attr-defined]
    folder = tmp_path / "dalil"
    made = []
    for n in range(3):
        magicdb.scanner([f"pattern{n}".encode()], flags, ext)
        made.append(max(folder.glob("magicdb-*.hs"), key=lambda f: f.stat().st_mtime_ns))
        for i, f in enumerate(made):  # distinct times, oldest first, the way days of use would leave them
            os.utime(f, (1_700_000_000 + i, 1_700_000_000 + i))
    magicdb.scanner([b"pattern0"], flags, ext)  # loaded: now the most recently used
    magicdb.scanner([b"pattern3"], flags, ext)  # a fourth: the least recently used (pattern1's) goes
    left = set(folder.glob("magicdb-*.hs"))
    assert len(left) == 3 and made[0] in left and made[1] not in left and made[2] in left


def test_buffers_with_nuls_skip_the_text_tests(engine: magicdb.Engine) -> None:
    """A NUL in what libmagic's text pass reads rules the text tests out (trailing NULs trimmed as
    `trim_nuls` does, a byte kept back at an odd length); the types stay libmagic's."""
    full = magic.Magic(mime=True)
    cases = {b"abc\0": False, b"abcd\0\0": True, b"ab\0cd": False, b"\0" * 9999: False, b"\0" * 10000: False,
             b"ab" + b"\0" * 9998: True, b"\xff\xfe<\0h\0t\0m\0l\0>\0": True,
             b"class Foo\n  def x\n  end\nend\n\0": True, b"<html><body>x</body></html>\0\0\0": False}
    for data, text in cases.items():
        assert magicdb.text_pass(data, engine.encoding_max) is text, data[:12]
        assert engine.mime(data) == full.from_buffer(data), data[:12]
        if not text:
            assert not engine.may_match(data) & engine.text_only


def test_regex_answers_are_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether Hyperscan takes a regex is asked once and kept in the cache folder; an unreadable file
    there is only a question asked again."""
    pytest.importorskip("hyperscan")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(magicdb, "_COMPILES", {})
    (tmp_path / "dalil").mkdir()
    (tmp_path / "dalil" / "magicdb-regexes.json").write_text("{not json")
    assert magicdb._compiles(rb"^[ab]+c", False, prefilter=False)
    assert not magicdb._compiles(rb"(a)\1", False, prefilter=False)  # back-references: not for Hyperscan
    kept = json.loads((tmp_path / "dalil" / "magicdb-regexes.json").read_text())
    assert sorted(v for k, v in kept.items() if k != "-") == [False, True]
    monkeypatch.setattr(magicdb, "_COMPILES", {})
    monkeypatch.setattr(magicdb, "_compile_test", lambda *a: pytest.fail("asked again"))
    assert magicdb._compiles(rb"^[ab]+c", False, prefilter=False)


def test_no_home_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without XDG_CACHE_HOME and without a home the scanner is compiled in the process, nothing kept."""
    pytest.importorskip("hyperscan")
    import hyperscan

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    monkeypatch.setattr(magicdb, "_COMPILES", {})
    assert magicdb.cache_dir() is None
    ext = [hyperscan.ExpressionExt(0, 0, 0, 0, 0, 0)]  # type: ignore[attr-defined]
    db = magicdb.scanner([b"abc"], [hyperscan.HS_FLAG_SINGLEMATCH], ext)
    found: list[int] = []
    db.scan(b"xabc", match_event_handler=lambda i, *_: found.append(i), scratch=hyperscan.Scratch(db))
    assert found == [0]
    assert magicdb._compiles(rb"^a+b", False, prefilter=False)


def test_scan_stops_where_tests_stop_reading(engine: magicdb.Engine) -> None:
    """The literal scan reads a buffer's first `scan_reach` bytes (a text test reads libmagic's copy of
    the first `encoding_max`, a search its range); a number or string at a fixed offset past them is
    compared directly: images typed by bytes far into the buffer type as with the full database."""
    full = magic.Magic(mime=True)
    assert engine.scan_reach is not None and engine.scan_reach >= engine.encoding_max
    assert engine.far_anchored and all(start + 1 > engine.scan_reach for _, start, _ in engine.far_anchored)
    buffers = []
    for pattern, start, ids in engine.far_anchored:
        value = bytes(int(h, 16) for h in re.findall(rb"\\x([0-9a-f]{2})", pattern.pattern))
        at = bytearray(b"\x55" * (start + len(value) + 512))  # no entry that may run `indirect` matches
        at[start:start + len(value)] = value
        assert ids <= engine.may_match(bytes(at)) and not engine.may_match(bytes(at)) & engine.db.indirect
        assert not ids & engine.may_match(bytes(at[:start + len(value) - 1]))
        buffers += [bytes(at), bytes(at[:start + len(value) - 1])]  # and cut one byte short
    nrg = [at for at in buffers if full.from_buffer(at) == "application/x-nrg"]
    assert nrg  # typed by "CD001" 0x53001 bytes in, past the scan
    noisy = bytearray(random.Random(5).randbytes(1 << 20))
    for offset, text in ((70_000, b"<!doctype html><html><head><title>x</title>"), (200_000, b"PK\x03\x04"),
                         (300_000, b"%PDF-1.7\n"), (900_000, b"#!/usr/bin/env python3\nimport os\n")):
        noisy[offset:offset + len(text)] = text
    buffers += [bytes(noisy), b"just text\n" * 20_000 + b"<!doctype html>\n<html>\n"]
    for data in buffers:
        assert engine.mime(data) == full.from_buffer(data), (len(data), data[-40:])


def test_entries_that_may_run_indirect_only_where_their_path_holds(engine: magicdb.Engine) -> None:
    """A buffer whose matching entries may run `indirect` is typed by the full database, unless every
    record that would run it sits under a number test that fails there: a TrueType font's header
    rules out the MacBinary entry's `use`, a compiled Python module's the DOS backup's `indirect`."""
    full = magic.Magic(mime=True)
    font = b"\x00\x01\x00\x00\x00\x0c\x00\x80\x00\x03\x00\x40" + bytes(range(256)) * 8
    pyc = b"\xa7\x0d\x0d\x0a\x00\x00\x00\x00" + b"\x01" * 74 + b"\x00" + b"\xe3" * 400
    for data in (font, pyc):
        indirect = engine.may_match(data) & engine.db.indirect
        assert indirect and not any(engine.may_run_indirect(i, data) for i in indirect)
        assert engine.mime(data) == full.from_buffer(data)
    macbinary = bytearray(256)  # byte 0 = 0, a name length under 64, its type fields: the path holds
    macbinary[1], macbinary[2:8], macbinary[65:73] = 5, b"hello\0", b"TEXTttxt"
    macbinary[83:87] = (100).to_bytes(4, "big")
    data = bytes(macbinary) + b"x" * 100
    assert any(engine.may_run_indirect(i, data) for i in engine.may_match(data) & engine.db.indirect)
    assert engine.mime(data) == full.from_buffer(data)
