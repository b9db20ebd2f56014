"""Canonical forms: every written form of one thing gives one value; look-alikes that are not it give none."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.links import entities, finance
from triage.links.keccak import keccak256, sha3_256


@pytest.mark.parametrize("written", ["0912345678", "091 234 5678", "091-234-5678", "+218 91 234 5678",
                                     "+218912345678", "00218912345678", "00 218 91 234 5678", "٠٩١٢٣٤٥٦٧٨",
                                     "۰۹۱۲۳۴۵۶۷۸", "\u200f+218 91 234 5678\u200e", "(091) 234 5678"])
def test_every_written_form_of_a_libyan_mobile(written: str) -> None:
    assert entities.phone(written, "LY") == "+218912345678"
    assert ("phone", "+218912345678", None) in entities.classify(written, "LY")


def test_numbers_read_in_the_case_region_and_never_from_short_codes() -> None:
    assert entities.phone("06 12 34 56 78", "FR") == "+33612345678"
    assert entities.phone("98 123 456", "TN") == "+21698123456"
    assert entities.phone("1415", "LY") is None and entities.phone("ABC", "LY") is None
    assert entities.classify("hello", "LY") == []


@pytest.mark.parametrize("url,expected", [
    ("https://t.me/Passeur_1", ("handle", "@passeur_1", "telegram")),
    ("t.me/s/safe_crossing_ly", ("handle", "@safe_crossing_ly", "telegram")),
    ("https://telegram.me/SAFE_CROSSING_LY/15", ("handle", "@safe_crossing_ly", "telegram")),
    ("https://t.me/+AbCdEf12", ("handle", "telegram-invite:AbCdEf12", "telegram")),
    ("https://t.me/joinchat/AbCdEf12", ("handle", "telegram-invite:AbCdEf12", "telegram")),
    ("https://wa.me/218912345678?text=hi", ("phone", "+218912345678", "whatsapp")),
    ("https://api.whatsapp.com/send?phone=218912345678", ("phone", "+218912345678", "whatsapp")),
    ("https://chat.whatsapp.com/Ab12Cd", ("handle", "whatsapp-invite:Ab12Cd", "whatsapp")),
    ("https://signal.me/#p/+218912345678", ("phone", "+218912345678", "signal")),
    ("https://www.facebook.com/profile.php?id=100012345", ("handle", "facebook:100012345", "facebook")),
    ("https://m.facebook.com/Some.Seller/", ("handle", "facebook:some.seller", "facebook")),
    ("https://www.facebook.com/groups/12345/", ("handle", "facebook-group:12345", "facebook")),
    ("https://www.instagram.com/boatman_ly/", ("handle", "@boatman_ly", "instagram")),
    ("https://www.tiktok.com/@Boat.Man", ("handle", "@boat.man", "tiktok")),
    ("https://twitter.com/BoatMan", ("handle", "@boatman", "x")),
    ("https://www.Smuggle-Trips.LY/ads/1", ("domain", "smuggle-trips.ly", None)),
    ("http://xn--mgbh0fb.example.ly/", ("domain", "xn--mgbh0fb.example.ly", None)),
])
def test_links_and_profiles(url: str, expected: tuple[str, str, str | None]) -> None:
    assert entities.from_url(url, "LY") == [expected]


@pytest.mark.parametrize("url", ["https://t.me/s/", "https://t.me/share/url?url=x", "https://x.com/home",
                                 "https://www.facebook.com/sharer/sharer.php?u=x", "https://www.instagram.com/p/Cx1/",
                                 "https://www.google.com/search?q=boat", "http://127.0.0.1:8080/a", "https://wa.me/"])
def test_platform_pages_that_name_no_one(url: str) -> None:
    assert entities.from_url(url, "LY") == []


def test_handles_ids_and_mail() -> None:
    assert entities.handle("@Boat_Captain", "LY") == ("handle", "@boat_captain", None)
    assert entities.handle("boat_captain", "LY") == ("handle", "@boat_captain", None)  # as apps store it
    assert entities.handle("boat_captain", "LY", bare=False) is None  # typed by an examiner: needs its @
    assert entities.handle("lid:123456789", "LY") == ("handle", "lid:123456789", "whatsapp")
    assert entities.handle("group:218912345678-1600000000", "LY")[1] == "group:218912345678-1600000000"  # type: ignore[index]
    assert entities.email("Captain.Boat@Mail.LY") == "captain.boat@mail.ly"
    assert entities.email("mailto:a@b.ly") == "a@b.ly" and entities.email("not an address") is None
    assert entities.domain("www.facebook.com") is None and entities.domain("cdn.fbcdn.net") is None
    assert entities.domain("192.168.1.1") is None and entities.domain("boats.ly.") == "boats.ly"
    assert entities.domain("قوارب.ly") == entities.domain("XN--MGBC0A7D4A.ly") == "xn--mgbc0a7d4a.ly"  # IDNA form
    assert entities.classify("profile:127.0.0.1:8080/user/3", "LY") == []
    assert entities.classify("sha256:" + "A" * 64, "LY") == [("image", "sha256:" + "a" * 64, None)]
    assert entities.classify("phash:0123456789abcdef", "LY") == [("image", "phash:0123456789abcdef", None)]


def test_ibans_checked_with_mod_97() -> None:
    for written, canonical in [("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
                               ("LY83002048000020100120361", "LY83002048000020100120361"),
                               ("tn59 1000 6035 1835 9847 8831", "TN5910006035183598478831"),
                               ("FR14-2004-1010-0505-0001-3M02-606", "FR1420041010050500013M02606")]:
        assert finance.iban(written) == canonical
    assert finance.iban("GB82 WEST 1234 5698 7654 33") is None  # one digit off
    assert finance.iban("GB82WEST1234569876543") is None  # one character short for GB
    assert finance.iban("QQ82WEST12345698765432") is None  # no such country
    text = "Virement: IBAN GB82 WEST 1234 5698 7654 32 SWIFT ABCD, ou LY83002048000020100120361."
    assert finance.find_ibans(text) == ["GB82WEST12345698765432", "LY83002048000020100120361"]
    assert finance.find_ibans("GB82 WEST 1234 5698 7654 33 and GB82WEST12345698765432X") == []


def test_wallets_checked_by_their_format() -> None:
    valid = {
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa": ("bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy": ("bitcoin", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4": ("bitcoin", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0":
            ("bitcoin", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t": ("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed": ("ethereum", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
        "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359": ("ethereum", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"),
    }
    for written, expected in valid.items():
        assert finance.wallet(written) == expected, written
    for bad in ("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",           # base58check fails
                "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u",           # TRON checksum fails
                "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",   # bech32 checksum fails
                "Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",   # mixed case
                "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",  # v1 with bech32, not bech32m
                "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"):  # EIP-55 case wrong
        assert finance.wallet(bad) is None, bad
    assert finance.eip55("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed") == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    found = finance.find_wallets("USDT (TRC20): TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t; ETH 0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359.")
    assert [w["network"] for w in found] == ["tron", "ethereum"]


def test_keccak_is_keccak() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    for size in (0, 1, 135, 136, 137, 500):  # the same permutation with SHA-3's padding is hashlib's SHA3-256
        data = bytes(range(256)) * 2
        assert sha3_256(data[:size]) == hashlib.sha3_256(data[:size]).digest()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_never_fails_on_any_text(text: str) -> None:
    for kind, value, _ in entities.classify(text, "LY"):
        assert kind in entities.KINDS and value
    for url in entities.urls_in(text):
        entities.from_url(url, "LY")
    finance.find_ibans(text)
    finance.find_wallets(text)
