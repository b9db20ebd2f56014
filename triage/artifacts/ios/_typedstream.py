"""Apple's `typedstream` (NSArchiver, "streamtyped"): enough of the format to read an archived
NSAttributedString, as iOS keeps message text in `sms.db` `message.attributedBody`.

The format (NeXT `typedstream.m`, also described by dgelessus' python-typedstream): a header (streamer
version, the signature `streamtyped` for little-endian or `typedstream` for big-endian, a system
version), then groups of values, each group led by its Objective-C type encoding (`@`, `i`, `iI`,
`+`, `[12c]`…). Integers are a signed byte, or a tag byte (-127: 2 bytes follow, -126: 4 bytes)
and the value. Type strings and class names are "shared strings" and objects, classes and C strings
"shared objects": the first occurrence is written after the tag -124 (new), later ones are a
reference number (from -110 upwards) into the table of those seen so far. An object is its class
chain (name, version, superclass… ended by nil, -123) then its encoded values, ended by -122.

NSAttributedString encodes its string object, then for each attribute run an `iI` pair (the
1-based number of its attribute dictionary, a new one following when the number is one past those
seen, and the run's length in UTF-16 units) and, when new, the dictionary.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

TAG_INTEGER_2, TAG_INTEGER_4, TAG_FLOAT = -127, -126, -125
TAG_NEW, TAG_NIL, TAG_END = -124, -123, -122
FIRST_TAG, LAST_TAG = -128, -111
FIRST_REFERENCE = LAST_TAG + 1
MAX_DEPTH = 64
STRING_CLASSES = {"NSString", "NSMutableString"}


class TypedStreamError(ValueError):
    """The bytes are not a typedstream this reader understands."""


@dataclass
class Class:
    name: str
    version: int
    superclass: "Class | None" = None

    def lineage(self) -> list[str]:
        out: list[str] = []
        cls: Class | None = self
        while cls is not None:
            out.append(cls.name)
            cls = cls.superclass
        return out


@dataclass
class Object:
    """An archived object: its class and the values its `encodeWithCoder:` wrote, in order."""

    cls: Class | None
    values: list[Any] = field(default_factory=list)

    def is_a(self, name: str) -> bool:
        return self.cls is not None and name in self.cls.lineage()


@dataclass
class AttributedText:
    """The text of an archived NSAttributedString and its attribute runs as far as they were read."""

    text: str
    runs: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # (start, length, attributes)
    complete: bool = True  # False when the attribute runs could not all be read (the text is whole)


def _split_encoding(enc: bytes) -> list[bytes]:
    """`iI` -> [b'i', b'I']; `[12c]` and `{name=ii}` stay whole."""
    out, i = [], 0
    while i < len(enc):
        start = i
        if enc[i:i + 1] in (b"[", b"{", b"("):
            depth = 0
            while i < len(enc):
                if enc[i:i + 1] in (b"[", b"{", b"("):
                    depth += 1
                elif enc[i:i + 1] in (b"]", b"}", b")"):
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            if depth:
                raise TypedStreamError(f"unbalanced type encoding {enc!r}")
        i += 1
        out.append(enc[start:i])
    return out


class Reader:
    """Reads values from a typedstream, keeping its shared-string and shared-object tables."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.strings: list[bytes | None] = []
        self.objects: list[Any] = []
        self.depth = 0
        version = self._byte()
        signature = self._unshared(self._head())
        if signature == b"streamtyped":
            self.order = "<"
        elif signature == b"typedstream":
            self.order = ">"
        else:
            raise TypedStreamError(f"not a typedstream (signature {signature!r})")
        if version not in (3, 4):
            raise TypedStreamError(f"unknown typedstream version {version}")
        self.system_version = self._integer(self._head(), signed=True)

    # -- primitives ------------------------------------------------------------------------------
    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise TypedStreamError(f"truncated at byte {self.pos} (wanted {n} more)")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def _byte(self) -> int:
        return self._take(1)[0]

    def _head(self) -> int:
        return struct.unpack("b", self._take(1))[0]

    def peek(self) -> int:
        if self.pos >= len(self.data):
            raise TypedStreamError("truncated: no more bytes")
        return struct.unpack("b", self.data[self.pos:self.pos + 1])[0]

    def _integer(self, head: int, signed: bool) -> int:
        if head == TAG_INTEGER_2:
            return int(struct.unpack(self.order + ("h" if signed else "H"), self._take(2))[0])
        if head == TAG_INTEGER_4:
            return int(struct.unpack(self.order + ("i" if signed else "I"), self._take(4))[0])
        if FIRST_TAG <= head <= LAST_TAG:
            raise TypedStreamError(f"tag {head} where an integer was expected at byte {self.pos - 1}")
        return head if signed or head >= 0 else head + 256

    def _unshared(self, head: int) -> bytes | None:
        if head == TAG_NIL:
            return None
        return self._take(self._integer(head, signed=False))

    def _reference(self, head: int, table: list[Any], what: str) -> Any:
        index = head - FIRST_REFERENCE
        if not 0 <= index < len(table):
            raise TypedStreamError(f"{what} reference {index} out of range at byte {self.pos - 1}")
        return table[index]

    def shared_string(self) -> bytes | None:
        head = self._head()
        if head == TAG_NIL:
            return None
        if head == TAG_NEW:
            text = self._unshared(self._head())
            self.strings.append(text)
            return text
        return self._reference(head, self.strings, "string")  # type: ignore[no-any-return]

    # -- objects ---------------------------------------------------------------------------------
    def _class(self) -> Class | None:
        head = self._head()
        if head == TAG_NIL:
            return None
        if head == TAG_NEW:
            name = self.shared_string()
            version = self._integer(self._head(), signed=True)
            cls = Class((name or b"").decode("utf-8", "replace"), version)
            self.objects.append(cls)
            cls.superclass = self._class()
            return cls
        found = self._reference(head, self.objects, "class")
        if not isinstance(found, Class):
            raise TypedStreamError(f"reference to a non-class where a class was expected at byte {self.pos - 1}")
        return found

    def _object(self) -> Any:
        head = self._head()
        if head == TAG_NIL:
            return None
        if head != TAG_NEW:
            return self._reference(head, self.objects, "object")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TypedStreamError("objects nested too deeply")
        obj = Object(None)
        self.objects.append(obj)
        obj.cls = self._class()
        while self.peek() != TAG_END:
            obj.values.extend(self.group())
        self._take(1)
        self.depth -= 1
        return obj

    def _c_string(self) -> bytes | None:
        head = self._head()
        if head == TAG_NIL:
            return None
        if head == TAG_NEW:
            text = self.shared_string()
            self.objects.append(text)
            return text
        return self._reference(head, self.objects, "C string")  # type: ignore[no-any-return]

    # -- typed values ----------------------------------------------------------------------------
    def group(self) -> list[Any]:
        """One group: its type encoding, then a value for each type in it."""
        enc = self.shared_string()
        if not enc:
            raise TypedStreamError(f"empty type encoding at byte {self.pos}")
        return [self.value(part) for part in _split_encoding(enc)]

    def value(self, enc: bytes) -> Any:
        kind = enc[:1]
        if kind == b"@":
            return self._object()
        if kind == b"#":
            return self._class()
        if kind in (b"c", b"C"):
            raw = self._byte()
            return raw - 256 if kind == b"c" and raw > 127 else raw
        if kind in b"sSiIlLqQ" and len(enc) == 1:
            return self._integer(self._head(), signed=kind.islower())
        if kind in (b"f", b"d"):
            head = self._head()
            if head == TAG_FLOAT:
                size = 4 if kind == b"f" else 8
                return struct.unpack(self.order + ("f" if size == 4 else "d"), self._take(size))[0]
            return float(self._integer(head, signed=True))
        if kind == b"*":
            return self._c_string()
        if kind == b"+":
            return self._unshared(self._head())
        if kind in (b":", b"%"):
            return self.shared_string()
        if kind == b"[":
            count_text = enc[1:].split(b"]")[0]
            digits = bytes(c for c in count_text if 48 <= c <= 57)
            element = count_text[len(digits):]
            if not digits or not element:
                raise TypedStreamError(f"array encoding {enc!r} not understood")
            if element in (b"c", b"C"):
                return self._take(int(digits))
            return [self.value(element) for _ in range(int(digits))]
        if kind == b"{":
            inner = enc[1:-1].split(b"=", 1)
            return [self.value(part) for part in _split_encoding(inner[1] if len(inner) == 2 else b"")]
        raise TypedStreamError(f"type encoding {enc!r} not supported")


def _string_of(obj: Any) -> str | None:
    """The text of an archived NSString (its `+` bytes, UTF-8)."""
    if isinstance(obj, Object) and obj.cls is not None and STRING_CLASSES & set(obj.cls.lineage()):
        for v in obj.values:
            if isinstance(v, bytes):
                return v.decode("utf-8", "replace")
    return None


def plain(value: Any) -> Any:
    """An archived value as plain Python: strings as str, numbers as numbers, dictionaries as dict."""
    text = _string_of(value)
    if text is not None:
        return text
    if isinstance(value, Object):
        if value.is_a("NSDictionary") and value.values and isinstance(value.values[0], int):
            items = value.values[1:]
            return {str(plain(items[i])): plain(items[i + 1]) for i in range(0, len(items) - 1, 2)}
        if value.is_a("NSNumber") or value.is_a("NSValue"):
            numbers = [v for v in value.values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            return numbers[-1] if numbers else None
        if value.is_a("NSData"):
            blobs = [v for v in value.values if isinstance(v, bytes)]
            return blobs[-1] if blobs else None
        return {"class": value.cls.name if value.cls else None}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def attributed_string(blob: bytes) -> AttributedText:
    """The text (and attribute runs) of an archived NSAttributedString. Raises TypedStreamError
    when the blob is not one; a failure after the text gives the text with `complete=False`."""
    reader = Reader(bytes(blob))
    if reader.shared_string() != b"@":
        raise TypedStreamError("the archive's root is not an object")
    if reader._head() != TAG_NEW:
        raise TypedStreamError("the archive's root object is not written in full")
    root = Object(None)
    reader.objects.append(root)
    root.cls = reader._class()
    if not root.is_a("NSAttributedString"):
        raise TypedStreamError(f"root object is a {root.cls.name if root.cls else None}, not an NSAttributedString")
    first = reader.group()
    text = _string_of(first[0]) if first else None
    if text is None:
        raise TypedStreamError("the attributed string holds no string object")
    result = AttributedText(text)
    try:
        dictionaries: list[dict[str, Any]] = []
        start = 0
        while reader.peek() != TAG_END:
            pair = reader.group()
            if len(pair) != 2 or not all(isinstance(v, int) for v in pair):
                raise TypedStreamError("attribute run is not an (index, length) pair")
            index, length = pair
            if index == len(dictionaries) + 1:
                attrs = plain(reader.group()[0])
                dictionaries.append(attrs if isinstance(attrs, dict) else {})
            if not 1 <= index <= len(dictionaries):
                raise TypedStreamError(f"attribute run names dictionary {index} of {len(dictionaries)}")
            result.runs.append((start, length, dictionaries[index - 1]))
            start += length
    except TypedStreamError:
        result.complete = False
    return result
