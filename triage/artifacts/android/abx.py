"""Android's XML files as element trees, whether text XML or Android Binary XML (ABX), read safely.

Android 12+ writes many system files (`packages.xml`, settings, …) as ABX: the magic `ABX\\0`, then
one byte per event (low nibble: the XmlPullParser token, 15 for an attribute; high nibble: the data
type), strings as a big-endian u16 length and modified UTF-8, "interned" strings as a u16 index into
the strings seen so far (0xFFFF: a new one follows), numbers big-endian. See AOSP
`com.android.internal.util.BinaryXmlSerializer` and `FastDataOutput`. Typed attributes come back
in the form the text serialiser writes them (`ft="18b3c0f1a2e"` for a long written as hex), so one
reader serves both forms.

Everything here is hostile input: text XML goes through defusedxml (no DTD, no entities, no
external references); the ABX reader checks every length and index against the data, bounds the
depth and the number of elements, and raises `BadXml` instead of anything else.
"""

from __future__ import annotations

import base64
import re
import struct
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _safe_fromstring

MAGIC = b"ABX\x00"
MAX_DEPTH = 256
MAX_ELEMENTS = 2_000_000

START_DOCUMENT, END_DOCUMENT, START_TAG, END_TAG, TEXT = 0, 1, 2, 3, 4
CDSECT, ENTITY_REF, IGNORABLE_WHITESPACE, PROCESSING_INSTRUCTION, COMMENT, DOCDECL = 5, 6, 7, 8, 9, 10
ATTRIBUTE = 15
TYPE_NULL, TYPE_STRING, TYPE_STRING_INTERNED, TYPE_BYTES_HEX, TYPE_BYTES_BASE64 = 1, 2, 3, 4, 5
TYPE_INT, TYPE_INT_HEX, TYPE_LONG, TYPE_LONG_HEX, TYPE_FLOAT, TYPE_DOUBLE = 6, 7, 8, 9, 10, 11
TYPE_BOOLEAN_TRUE, TYPE_BOOLEAN_FALSE = 12, 13
ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BARE_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);)")


class BadXml(ValueError):
    """Neither well-formed XML nor well-formed ABX (the message says where it broke)."""


def is_abx(data: bytes) -> bool:
    return data[:4] == MAGIC


def load(data: bytes) -> tuple[ET.Element, str | None]:
    """The root element of a text-XML or ABX file, and a note when text XML had to be repaired
    (stray control characters or a bare `&`, as some OEM builds write them) to be read."""
    if is_abx(data):
        return decode(data), None
    try:
        return _safe_fromstring(data, forbid_dtd=True), None
    except DefusedXmlException as exc:
        raise BadXml(f"refused: {type(exc).__name__} ({exc})") from exc
    except ET.ParseError as exc:
        repaired = _BARE_AMP.sub(b"&amp;", _CONTROL.sub(b"", data))
        if repaired == data:
            raise BadXml(f"not well-formed XML: {exc}") from exc
        try:
            root = _safe_fromstring(repaired, forbid_dtd=True)
        except (ET.ParseError, DefusedXmlException) as exc2:
            raise BadXml(f"not well-formed XML: {exc}") from exc2
        return root, f"not well-formed XML ({exc}): read after removing control characters and escaping bare '&'"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = len(MAGIC)
        self.interned: list[str] = []

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise BadXml(f"ABX truncated at byte {self.pos} (wanted {n} more)")
        out = self.data[self.pos:end]
        self.pos = end
        return out

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def utf(self) -> str:
        return _modified_utf8(self.take(self.u16()))

    def interned_utf(self) -> str:
        ref = self.u16()
        if ref == 0xFFFF:
            text = self.utf()
            self.interned.append(text)
            return text
        if ref >= len(self.interned):
            raise BadXml(f"ABX interned string {ref} unknown at byte {self.pos - 2}")
        return self.interned[ref]

    def value(self, kind: int) -> str | None:
        """An attribute value as text XML would carry it."""
        if kind == TYPE_NULL:
            return None
        if kind == TYPE_STRING:
            return self.utf()
        if kind == TYPE_STRING_INTERNED:
            return self.interned_utf()
        if kind in (TYPE_BYTES_HEX, TYPE_BYTES_BASE64):
            raw = self.take(self.u16())
            return raw.hex() if kind == TYPE_BYTES_HEX else base64.b64encode(raw).decode("ascii")
        if kind in (TYPE_INT, TYPE_INT_HEX):
            number = int(struct.unpack(">i", self.take(4))[0])
            return str(number) if kind == TYPE_INT else format(number & 0xFFFFFFFF, "x")
        if kind in (TYPE_LONG, TYPE_LONG_HEX):
            number = int(struct.unpack(">q", self.take(8))[0])
            return str(number) if kind == TYPE_LONG else format(number & 0xFFFFFFFFFFFFFFFF, "x")
        if kind == TYPE_FLOAT:
            return _float32(self.take(4))
        if kind == TYPE_DOUBLE:
            return repr(float(struct.unpack(">d", self.take(8))[0]))
        if kind == TYPE_BOOLEAN_TRUE:
            return "true"
        if kind == TYPE_BOOLEAN_FALSE:
            return "false"
        raise BadXml(f"ABX attribute type {kind} unknown at byte {self.pos - 1}")


def decode(data: bytes) -> ET.Element:
    """The root element of an ABX document (the first, if a file holds several)."""
    if not is_abx(data):
        raise BadXml("no ABX magic")
    reader = _Reader(data)
    document = ET.Element("#document")
    stack = [document]
    count = 0
    while reader.pos < len(data):
        at = reader.pos
        byte = reader.take(1)[0]
        token, kind = byte & 0x0F, byte >> 4
        if token == ATTRIBUTE:
            name = reader.interned_utf()
            value = reader.value(kind)
            if len(stack) < 2:
                raise BadXml(f"ABX attribute outside an element at byte {at}")
            if value is not None:
                stack[-1].set(name, value)
        elif token == START_TAG:
            name = reader.interned_utf() if kind == TYPE_STRING_INTERNED else reader.value(kind) or ""
            count += 1
            if count > MAX_ELEMENTS or len(stack) > MAX_DEPTH:
                raise BadXml(f"ABX deeper or larger than this reader accepts, at byte {at}")
            stack.append(ET.SubElement(stack[-1], name))
        elif token == END_TAG:
            name = reader.interned_utf() if kind == TYPE_STRING_INTERNED else reader.value(kind) or ""
            if len(stack) < 2 or stack[-1].tag != name:
                raise BadXml(f"ABX end tag {name!r} does not close the open element at byte {at}")
            stack.pop()
        elif token in (START_DOCUMENT, END_DOCUMENT):
            if kind != TYPE_NULL:
                reader.value(kind)
        elif token in (TEXT, CDSECT, IGNORABLE_WHITESPACE, ENTITY_REF):
            text = reader.value(kind) if kind != TYPE_NULL else None
            if text is not None and token == ENTITY_REF:
                text = ENTITIES.get(text, f"&{text};")
            if text and len(stack) > 1 and token != IGNORABLE_WHITESPACE:
                _append_text(stack[-1], text)
        elif token in (PROCESSING_INSTRUCTION, COMMENT, DOCDECL):
            if kind != TYPE_NULL:
                reader.value(kind)
        else:
            raise BadXml(f"ABX token {token} unknown at byte {at}")
    if len(stack) != 1:
        raise BadXml(f"ABX ends inside element {stack[-1].tag!r}")
    if not len(document):
        raise BadXml("ABX holds no element")
    return document[0]


def _append_text(element: ET.Element, text: str) -> None:
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "") + text
    else:
        element.text = (element.text or "") + text


def _modified_utf8(raw: bytes) -> str:
    """Java's modified UTF-8: NUL as C0 80, characters beyond the BMP as two 3-byte surrogates (or,
    as Android 12+ writes them, plain 4-byte UTF-8)."""
    try:
        text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
    if any("\ud800" <= c <= "\udfff" for c in text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _float32(raw: bytes) -> str:
    """The shortest decimal that reads back as the same 32-bit float (as Java's Float.toString)."""
    value = float(struct.unpack(">f", raw)[0])
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.pack(">f", float(text)) == raw:
            return text if any(c in text for c in ".en") else text + ".0"
    return repr(value)
