"""YARA regexes without atoms are pre-filtered with Hyperscan: the matches must be exactly those of
the rules as written (rule, namespace, every string instance and offset), on buffers that hold the
slow strings, that nearly hold them, and that don't."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from triage.analyzers import rulesets, slow_strings
from triage.analyzers.text_indicators import PREFILTER_NAMESPACE, PREFILTER_PATH

PACK = r"""
rule Hex_Secret { strings: $hex = /[0-9a-f]{64}/ condition: $hex }
rule Card
{
    strings:
        $card = /\b[0-9]{4}[ \-][0-9]{4}[ \-][0-9]{4}[ \-][0-9]{4}\b/   // no atom
        $word = "payment"
    condition:
        $card or #word > 2
}
rule Spaced {
    strings:
        $s = /x\s{,2}[a-c]{3}y/
            nocase private
        $t = /[0-9]{3}/ fullword
    condition:
        $s and not $t
}
rule Counted { strings: $a = /[a-z]{5}[0-9]{3}/ $b = "marker" condition: #a >= 2 and $b }
"""


def compile_pack(tmp_path: Path, text: str = PACK) -> slow_strings.SplitRules:
    pack = tmp_path / "pack.yar"
    pack.write_text(text)
    return rulesets.compile_rules([pack], internal={PREFILTER_NAMESPACE: PREFILTER_PATH})


def matches(rules: Any, data: bytes) -> list[tuple[Any, ...]]:
    return [(m.namespace, m.rule, [(s.identifier, [(i.offset, i.matched_data) for i in s.instances])
                                   for s in m.strings])
            for m in rules.match(data=data, externals=rulesets.EXTERNALS)]


def test_slow_regexes_are_prefiltered_with_the_same_matches(tmp_path: Path) -> None:
    rules = compile_pack(tmp_path)
    # the pack's five slow regexes and the two of dalil's own text pre-filter (Arabic-Indic digits)
    assert rules.quick is not None and rules.slow == 7
    rnd = random.Random(5)
    cases = [
        b"nothing to see here, payment once",
        b"key " + bytes(rnd.choice(b"0123456789abcdef") for _ in range(64)) + b" end",
        b"card 4111 1111-1111 1111 payment",
        b"card 4111 1111 1111 11111 (no boundary)",
        b"X\x0b\x0cABCy and 12",  # \s takes vertical tab and form feed; nocase
        b"XABCY 1234",
        b"abcde123 fghij456 marker",
        b"abcde123 marker",
        b"\xd9\xa0\xd9\xa1\xd9\xa2 Arabic-Indic digits",
        bytes(rnd.randrange(256) for _ in range(4096)),
    ]
    quick = 0
    for data in cases:
        assert matches(rules, data) == matches(rules.full, data), data
        quick += not rules.may_match_slow(data)
    assert quick >= 2  # some buffers did take the quick rules
    found = {m[1] for data in cases for m in matches(rules, data)}
    assert {"Hex_Secret", "Card", "Spaced", "Counted", "worth_extracting"} <= found


ALPHABET = st.sampled_from([b"0", b"7", b"a", b"f", b"F", b"x", b"X", b"b", b"y", b" ", b"-", b"\n", b"\x0b",
                            b"payment", b"marker", b"\xd9\xa3", b"4111 ", b"ABC", b"Xbcay"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=120))
def test_prefilter_never_changes_a_match(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert matches(RULES, data) == matches(RULES.full, data)


def _rules() -> slow_strings.SplitRules:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return compile_pack(Path(tmp))


RULES = _rules()


def test_what_cannot_be_rewritten_is_scanned_as_written(tmp_path: Path) -> None:
    wide = compile_pack(tmp_path, 'rule W { strings: $w = /[0-9]{8}/ wide $n = /[a-f]{20}/ condition: $w or $n }')
    assert wide.slow == 3  # $n and dalil's own two; a wide regex would need its UTF-16 form: left as written
    for data in ("12345678".encode("utf-16-le"), b"abcdefabcdefabcdefab", b"0123 abc"):
        assert matches(wide, data) == matches(wide.full, data)
    assert [m.rule for m in wide.match(data="12345678".encode("utf-16-le"))] == ["W"]
    assert not wide.may_match_slow("12345678".encode("utf-16-le"))  # the quick rules still hold $w
    (tmp_path / "inc.yar").write_text('rule I { strings: $i = /[0-9]{8}/ condition: $i }')
    included = compile_pack(tmp_path, f'include "{tmp_path / "inc.yar"}"\nrule J {{ condition: true }}')
    assert included.database is None
    assert slow_strings._locate(r'rule E { strings: $e = /[a-f]\\{,3}[0-9]{9}/ condition: $e }', 1, "$e") is None
    located = slow_strings._locate('rule E {\n strings:\n  $e =\n   /[a-f]{,3}\\/[0-9]{9}/is fullword\n', 4, "$e")
    assert located is not None and located.pattern == rb"[a-f]{0,3}\/[0-9]{9}"  # {,n} is YARA's {0,n}
    fast = compile_pack(tmp_path, 'rule F { strings: $f = "needle" condition: $f }')
    assert fast.slow == 2  # only dalil's own pre-filter strings are slow there
