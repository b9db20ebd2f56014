"""Indicator extraction from Arabic, French and English advertisement text."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from triage.analyzers.indicators import extract_indicators, fold, normalise, rule_files

AR_AD = ("رحلة مضمونة من زوارة إلى لامبيدوزا، السعر ٢٥٠٠ يورو للشخص. للتواصل واتساب ‏+٢١٨ ٩١ ٢٣٤ ٥٦٧٨‏ "
         "أو ۰۹۲۵۵۵۱۲۳۴ أو wa.me/218913334455 ، تيليغرام @Safe_Trip_Ly الموعد ١٥ مايو ٢٠٢٤")
FR_AD = ("Traversée garantie depuis Sfax vers l'Italie, 3 000 € par personne, ou 1500 dinars tunisiens. "
         "Appelez le 00216 98 123 456 ou https://api.whatsapp.com/send?phone=21698765432. "
         "Départ le 3 juin 2024, canal t.me/s/passeur_sfax, contact passeur@example.org")
EN_AD = ("Job offer in Italy, visa guaranteed. Fee $1,200 or 800 EUR, LD 5000, 300 د.ل. "
         "Signal: signal.me/#p/+218911112222, Telegram https://t.me/jobs_europe_now. "
         "Leaving 2024-06-01 or 12/25/2024; Alexandria to Crete.")


def test_arabic_ad() -> None:
    ind = extract_indicators(AR_AD)
    # Arabic-Indic digits with LRM/RLM marks, Persian digits in a local form, and a wa.me link.
    assert sorted(ind["phones"]) == ["+218912345678", "+218913334455", "+218925551234"]
    assert ind["handles"] == ["@Safe_Trip_Ly"]
    assert ind["links"] == ["https://wa.me/218913334455"]
    assert ind["prices"] == [{"amount": 2500, "currency": "EUR", "text": "2500 يورو"}]
    assert ind["places"] == ["Zuwara", "Lampedusa"]
    assert ind["dates"] == ["2024-05-15"]


def test_french_ad() -> None:
    ind = extract_indicators(FR_AD)
    assert sorted(ind["phones"]) == ["+21698123456", "+21698765432"]
    assert ind["handles"] == ["@passeur_sfax"]
    assert ind["links"] == ["https://api.whatsapp.com/send?phone=21698765432", "https://t.me/s/passeur_sfax"]
    assert ind["emails"] == ["passeur@example.org"]
    assert [(p["amount"], p["currency"]) for p in ind["prices"]] == [(3000, "EUR"), (1500, "TND")]
    assert ind["places"] == ["Sfax", "Italy"]
    assert ind["dates"] == ["2024-06-03"]


def test_english_ad() -> None:
    ind = extract_indicators(EN_AD)
    assert ind["phones"] == ["+218911112222"]
    assert ind["handles"] == ["@jobs_europe_now"]
    assert [(p["amount"], p["currency"]) for p in ind["prices"]] == [
        (1200, "USD"), (800, "EUR"), (5000, "LYD"), (300, "LYD")]
    assert ind["places"] == ["Italy", "Alexandria", "Crete"]
    assert ind["dates"] == ["2024-06-01", "2024-12-25"]


@pytest.mark.parametrize("written", [
    "0912345678", "091-234-5678", "091 234 5678", "+218 91 234 5678", "00218912345678",
    "00 218 91 234 5678", "٠٩١٢٣٤٥٦٧٨", "۰۹۱۲۳۴۵۶۷۸", "\u200f+٢١٨٩١٢٣٤٥٦٧٨\u200f", "(+218) 91-234-5678",
])
def test_libyan_mobile_forms(written: str) -> None:
    assert extract_indicators(f"اتصل على {written} الآن")["phones"] == ["+218912345678"]


def test_default_region_reads_local_forms() -> None:
    assert extract_indicators("appelez le 06 12 34 56 78", region="FR")["phones"] == ["+33612345678"]
    # The same digits read in Libya are a Benghazi landline (061).
    assert extract_indicators("appelez le 06 12 34 56 78", region="LY")["phones"] == ["+218612345678"]
    # '00' is understood as the international prefix even where the region's own prefix differs.
    assert extract_indicators("call 0033 6 12 34 56 78", region="US")["phones"] == ["+33612345678"]


def test_regional_dinar() -> None:
    assert extract_indicators("1500 دينار", region="LY")["prices"][0]["currency"] == "LYD"
    assert extract_indicators("1500 دينار", region="TN")["prices"][0]["currency"] == "TND"
    assert extract_indicators("1500 dinars libyens", region="TN")["prices"][0]["currency"] == "LYD"


def test_case_sensitive_codes_and_arabic_prefixes() -> None:
    ind = extract_indicators("10 DT le 5 juin, bientôt le départ; بالزاوية وللزاوية من طرابلس")
    assert [(p["amount"], p["currency"]) for p in ind["prices"]] == [(10, "TND")]  # French 'le' is not EGP
    assert ind["places"] == ["Zawiya", "Tripoli"]
    assert ind["dates"] == []  # no year: not a date


def test_no_false_positives() -> None:
    ind = extract_indicators("Invalid 31/02/2024, email bob@mail.example.com, reference 12345, t.me/joinchat/AbCdEf")
    assert ind["dates"] == [] and ind["phones"] == [] and ind["prices"] == []
    assert ind["handles"] == []  # neither the e-mail's domain nor a joinchat invite is a handle
    assert ind["emails"] == ["bob@mail.example.com"]


def test_normalise_and_fold() -> None:
    assert normalise("\u200e٠١٢٣٤٥٦٧٨٩ ۰۱۲۳۴۵۶۷۸۹\u200f ١٢٫٥") == "0123456789 0123456789 12.5"
    assert fold("Traversée أوروبا") == "Traversee اوروبا"


def test_rule_lists_are_package_data() -> None:
    hashes = rule_files()
    for name, digest in hashes.items():
        data = resources.files("rules").joinpath(name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_never_fails_on_any_text(text: str) -> None:
    ind = extract_indicators(text)
    assert set(ind) >= {"phones", "handles", "links", "prices", "places", "dates"}
    assert all(p.startswith("+") and p[1:].isdigit() for p in ind["phones"])


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1_000_000, max_value=9_999_999), st.sampled_from(["91", "92", "94"]),
       st.booleans())
def test_any_libyan_mobile_in_arabic_digits(rest: int, prefix: int, bidi: bool) -> None:
    local = f"0{prefix}{rest}"
    arabic = local.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    if bidi:
        arabic = "\u200f" + arabic + "\u200e"
    assert extract_indicators(f"رقم {arabic} فقط")["phones"] == [f"+218{prefix}{rest}"]


def test_more_route_places() -> None:
    from triage.analyzers.indicators import extract_indicators

    ind = extract_indicators("انطلاق من درنة أو أجدابيا عبر القطرون، ثم Départ de Kélibia vers Catane")
    assert ind["places"] == ["Derna", "Ajdabiya", "Qatrun", "Kelibia", "Catania"]
    assert extract_indicators("هذه تجربة جديدة")["places"] == []  # جربة (Djerba) inside another word


def test_fold_of_ascii_text_is_the_text_itself() -> None:
    """The ASCII fast path of `fold` gives what the full folding gives: every ASCII character is
    already NFKD, none is a combining mark, none is an Arabic letter to unify."""
    import unicodedata

    from triage.analyzers.indicators import _ARABIC_FOLD, fold

    text = "".join(chr(c) for c in range(128)) * 2
    full = "".join(c for c in unicodedata.normalize("NFKD", text) if unicodedata.category(c) != "Mn")
    assert fold(text) == full.translate(_ARABIC_FOLD) == text
    assert fold("Café السّلام") == "Cafe السلام"  # not ASCII: accents and harakat still go


def test_fold_table_gives_the_per_character_definition_on_every_code_point() -> None:
    """`fold` translates through a table filled as characters are met; on every code point it is
    NFKD, combining marks (Mn) dropped, then the Arabic letters unified."""
    import unicodedata

    from triage.analyzers.indicators import _ARABIC_FOLD, fold

    text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    decomposed = unicodedata.normalize("NFKD", text)
    expected = "".join(c for c in decomposed if unicodedata.category(c) != "Mn").translate(_ARABIC_FOLD)
    assert fold(text) == expected
    assert fold(text) == expected  # again, from the filled table


def test_shortest_valid_number_under_the_installed_metadata() -> None:
    """MIN_INTERNATIONAL is no more than country code + shortest national number of any region or
    non-geographic code in the installed phonenumbers: a shorter candidate is never tried."""
    import phonenumbers
    from phonenumbers.phonenumberutil import COUNTRY_CODES_FOR_NON_GEO_REGIONS, SUPPORTED_REGIONS

    from triage.analyzers import indicators

    described = [phonenumbers.PhoneMetadata.metadata_for_region(r) for r in SUPPORTED_REGIONS]
    described += [phonenumbers.PhoneMetadata.metadata_for_nongeo_region(c) for c in COUNTRY_CODES_FOR_NON_GEO_REGIONS]
    lengths = [(len(str(m.country_code)), [n for n in m.general_desc.possible_length if n > 0])
               for m in described if m is not None and m.general_desc is not None]
    assert len(lengths) == len(described) > 200
    shortest = min(code + min(national or [1]) for code, national in lengths)
    assert indicators.MIN_INTERNATIONAL <= shortest
    assert indicators._fewest_digits("LY") == 6 and indicators._fewest_digits("AT") == 4
    assert indicators._fewest_digits("QQ") == indicators.MIN_INTERNATIONAL


def test_short_candidates_skipped_find_the_same_numbers() -> None:
    """Versions, counts, dates and short codes around real numbers: the same numbers as phonenumbers'
    matcher trying every candidate, in several regions."""
    import phonenumbers

    from triage.analyzers import indicators

    noise = "v1.2.3 (2019) 12/05 #45 x 7 3-4 +12 page 10-11 call 123 or 1234 5 "
    text = noise + "+431110, +218 91 234 5678 091-234-5678 " + noise + "06 12 34 56 78, 0033 6 12 34 56 78 "
    for region in ("LY", "FR", "AT", "DE", "US", "TN"):
        plain = indicators._ZERO_ZERO.sub("+", text)
        every = [phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                 for m in phonenumbers.PhoneNumberMatcher(plain, region, leniency=phonenumbers.Leniency.VALID)]
        assert "+431110" in every and indicators._phones(text, region) == every, region  # 7 characters


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["1", "9", "0", "2", "19", "20", "2024", "1999", "-", "/", ".", " ", ",", "mai",
                                 "june", "يونيو", "كانون الثاني", "3rd", "x", "٢٠٢٤", "\u200f"]), max_size=14))
@example(["0", "-", "1", "-", "2024"])  # read by the pattern, no date (day 0)
@example(["3rd", " ", "june", " ", "2024"])
def test_year_scan_drops_no_date(parts: list[str]) -> None:
    """The dates found are those of the full pattern: the year scan before it only skips text without one."""
    from triage.analyzers import indicators

    text = fold(normalise("".join(parts)))
    pattern, _names = indicators._month_table()
    if any(pattern.finditer(text)):  # a date read (valid or not, as "0-1-2024") holds a year
        assert indicators._YEAR.search(text)
    else:
        assert indicators._dates(text) == []
