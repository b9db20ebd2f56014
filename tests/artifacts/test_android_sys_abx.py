"""Android Binary XML and safe XML reading: CCL Solutions' ABX test files (made by their Java port of AOSP's
BinaryXmlSerializer, tests/data/abx) decode to the XML they were made from; hostile input is refused."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from android_sys_fixtures import AbxWriter, abx_from_xml
from triage.artifacts.android import abx

DATA = Path(__file__).resolve().parents[1] / "data" / "abx"
NAMES = ("test-basic", "test-typed-attribute", "test_interned_strings")


def _flat(root: ET.Element) -> list[tuple[str, dict[str, str], str]]:
    return [(e.tag, dict(e.attrib), (e.text or "").strip()) for e in root.iter()]


@pytest.mark.parametrize("name", NAMES)
def test_ccl_abx_files_decode_to_their_xml(name: str) -> None:
    decoded = abx.decode((DATA / f"{name}.xml.abx").read_bytes())
    assert _flat(decoded) == _flat(ET.parse(DATA / f"{name}.xml").getroot())


def test_typed_attributes_come_back_as_text_xml_writes_them() -> None:
    root = abx.decode((DATA / "test-typed-attribute.xml.abx").read_bytes())
    values = [(k, v) for e in root for k, v in e.attrib.items()]
    assert values == [("value-int", "100"), ("value-inthex", "64"), ("value-long", "100"), ("value-longhex", "64"),
                      ("value-float", "0.5"), ("value-float", "0.3"), ("value-double", "0.5"),
                      ("value-double", "0.3"), ("value-bool", "true"), ("value-bool", "false"),
                      ("value-byteshex", "123456aabbccddeeffc0ffee"), ("value-base64", "us5k")]


def _ccl_type(tag: str, name: str, value: str) -> str:
    """How CCL's makeabx Converter types an attribute: by the suffix after its last '-' ('bool' is
    compared with Java's ==, so booleans end up as strings)."""
    suffix = name.rsplit("-", 1)[-1].lower() if name.rfind("-") > 0 else ""
    return suffix if suffix in ("int", "inthex", "long", "longhex", "float", "double", "byteshex", "base64") \
        else "string"


@pytest.mark.parametrize("name", NAMES)
def test_the_fixture_writer_writes_what_the_java_serializer_wrote(name: str) -> None:
    text = (DATA / f"{name}.xml").read_text(encoding="utf-8")
    assert abx_from_xml(text, _ccl_type, whitespace=True) == (DATA / f"{name}.xml.abx").read_bytes()


def test_modified_utf8_and_interned_strings() -> None:
    writer = AbxWriter()
    writer.start_document()
    writer.start_tag("a")
    writer.out += b"\x2f" + struct.pack(">H", 0) + struct.pack(">H", 4) + b"x\xc0\x80y"   # name 'a' again, NUL
    writer.start_tag("a")
    writer.end_tag("a")
    writer.text("\U0001F6A4 قارب")
    writer.end_tag("a")
    writer.end_document()
    root = abx.decode(bytes(writer.out))
    assert root.get("a") == "x\x00y" and root[0].tag == "a" and root[0].tail == "\U0001F6A4 قارب"
    cesu = b"ABX\x00\x10\x32\xff\xff\x00\x01r\x24\x00\x06\xed\xa0\xbd\xed\xba\xa4\x33\x00\x00\x11"
    assert abx.decode(cesu).text == "\U0001F6A4"   # a character beyond the BMP as two 3-byte surrogates


@pytest.mark.parametrize("data, message", [
    (b"ABX\x00\x10\x32\xff\xff\x00\x09pac", "truncated"),
    (b"ABX\x00\x10\x32\x00\x05", "interned string 5 unknown"),
    (b"ABX\x00\x10\x32\xff\xff\x00\x01a\x33\xff\xff\x00\x01b\x11", "does not close"),
    (b"ABX\x00\x10\x32\xff\xff\x00\x01a\x11", "ends inside element"),
    (b"ABX\x00\x10\x2f\xff\xff\x00\x01a\x00\x00\x11", "outside an element"),
    (b"ABX\x00\x10\x32\xff\xff\x00\x01a\xef\xff\xff\x00\x01b", "attribute type 14"),
    (b"ABX\x00\x10\x11", "holds no element"),
    (b"ABX\x00\x10\x32\xff\xff\x00\x01a" + b"\x32\x00\x00" * 300, "deeper or larger"),
])
def test_broken_abx_is_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(abx.BadXml, match=message):
        abx.decode(data)


def test_text_xml_with_entities_is_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b"<WifiConfigStoreData>&lol2;</WifiConfigStoreData>")
    with pytest.raises(abx.BadXml, match="refused: DTDForbidden"):
        abx.load(bomb)
    external = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    with pytest.raises(abx.BadXml, match="refused"):
        abx.load(external)


def test_text_xml_with_a_bare_ampersand_is_read_with_a_note() -> None:
    root, note = abx.load(b'<r><string name="SSID">"Tom & Jerry\x01"</string></r>')
    assert root[0].text == '"Tom & Jerry"'
    assert note is not None and "escaping bare '&'" in note
    with pytest.raises(abx.BadXml, match="not well-formed"):
        abx.load(b"<r><unclosed></r>")
