"""IBANs and wallets among the indicators of free text and of text files (the pre-filter lets them through)."""

from __future__ import annotations

from triage.analyzers import Blob, Settings
from triage.analyzers.indicators import extract_indicators
from triage.analyzers.text_indicators import TextIndicators

TEXT = ("الدفع مقدماً USDT شبكة TRC20 على المحفظة TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t\n"
        "ou virement IBAN LY83 0020 4800 0020 1001 2036 1 — pas GB82 WEST 1234 5698 7654 33")


def test_checksum_valid_ibans_and_wallets_only() -> None:
    found = extract_indicators(TEXT, "LY")
    assert found["ibans"] == ["LY83002048000020100120361"]  # the GB one fails mod 97
    assert found["wallets"] == [{"network": "tron", "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}]
    assert found["phones"] == []  # the digits of an IBAN are not a phone number
    assert extract_indicators("nothing here")["wallets"] == []


def test_a_text_file_with_only_a_wallet_is_read() -> None:
    data = "Send 500 USDT to TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t before Friday\n".encode()
    blob = Blob("/sdcard/pay.txt", "pay.txt", len(data), data, data=data, found={"mime": "text/plain"})
    out = TextIndicators(Settings()).analyse(blob)
    assert out["indicators"]["wallets"][0]["address"] == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
