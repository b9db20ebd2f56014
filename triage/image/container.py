"""Open a disk image for pytsk3: raw/dd, split raw (.000/.001, .001/.002, .aa/.ab), E01 and split E01;
VMDK, VHD/VHDX, QCOW and Apple disk images through virtual.py.

Split raw and EWF go through `pytsk3.Img_Info` subclasses (`TSK_IMG_TYPE_EXTERNAL`) whose `read()`
is called by libtsk from any thread: each keeps its handles behind a lock. Everything is opened
read-only (O_RDONLY, O_NOATIME where allowed). Virtual disks (VMDK, VHD, VHDX, QCOW, DMG, sparse
images and bundles) go through the libyal bindings (virtual.py); a container Dalil cannot read
(Ex01) is refused with one clear message.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pytsk3

from ..core.errors import Corrupted, NotFound, Unsupported
from ..core.hashing import open_readonly
from .external import ExternalImg
from .virtual import SCHEMES, open_virtual, sniff_virtual

EWF_MAGIC = b"EVF\x09\x0d\x0a\xff\x00"
EWF2_MAGIC = b"EVF2\x0d\x0a\x81\x00"


@dataclass
class ImageSource:
    """An opened image: the pytsk3 handle, its format and the files it is made of."""

    img: pytsk3.Img_Info
    format: str
    segments: list[Path] = field(default_factory=list)
    size: int = 0
    layer: dict[str, Any] | None = None  # a virtual disk's container layer (virtual.VirtualImg.describe)


class SegmentedImg(ExternalImg):
    """Split raw: the segments read as one image."""

    def __init__(self, paths: list[Path]) -> None:
        self._files: list[BinaryIO] = [open_readonly(p) for p in paths]
        self._starts: list[int] = []
        total = 0
        for fh in self._files:
            self._starts.append(total)
            total += os.fstat(fh.fileno()).st_size
        super().__init__(total)

    def _read_at(self, offset: int, size: int) -> bytes:
        out = bytearray()
        index = max(i for i, start in enumerate(self._starts) if start <= offset)
        while len(out) < size and index < len(self._files):
            fh = self._files[index]
            local = offset + len(out) - self._starts[index]
            data = os.pread(fh.fileno(), size - len(out), local)
            if not data:
                index += 1
                continue
            out += data
            if local + len(data) >= self._segment_size(index):
                index += 1
        return bytes(out)

    def _segment_size(self, index: int) -> int:
        end = self._starts[index + 1] if index + 1 < len(self._starts) else self._size
        return end - self._starts[index]

    def close(self) -> None:
        for fh in self._files:
            fh.close()


class EwfImg(ExternalImg):
    """EWF (E01, split E01) through libewf-python."""

    def __init__(self, paths: list[Path]) -> None:
        import pyewf

        self._handle = pyewf.handle()
        self._files = [open_readonly(p) for p in paths]
        try:
            self._handle.open_file_objects(self._files)
        except (IOError, OSError) as exc:
            for fh in self._files:
                fh.close()
            raise Corrupted(f"cannot open EWF image {paths[0].name}: {exc}") from exc
        self._size = self._handle.get_media_size()
        self._check_complete(paths)
        super().__init__(self._size)

    def _check_complete(self, paths: list[Path]) -> None:
        """libewf opens a set whose later segments are missing and fails only when their chunks are
        read (then the walk finds no file system). The last chunk lies in the last segment, and
        pyewf.glob stops at the first gap, so reading the last byte now tells; a segment that ends
        in a `next` section (not `done`, nor cut short) says the missing part is another file."""
        if self._size <= 0:
            return
        try:
            self._handle.read_buffer_at_offset(1, self._size - 1)
        except (IOError, OSError) as exc:
            if "missing segment" not in str(exc) or not _ends_in_next_section(self._files[-1]):
                return  # a truncated or damaged segment, not a missing file: the walk reports what it cannot read
            self.close()
            missing = _next_ewf_name(paths[-1])
            raise Corrupted(f"EWF image {paths[0].name} is incomplete: segment "
                            f"{missing or 'after ' + paths[-1].name} is missing ({len(paths)} segment(s) found, "
                            f"media {self._size} bytes); put every segment beside the first") from None

    WHAT = "EWF image"

    def _read_at(self, offset: int, size: int) -> bytes:
        return bytes(self._handle.read_buffer_at_offset(size, offset))

    def stored_md5(self) -> str | None:
        """The MD5 of the media the acquisition tool stored in the EWF file, if any."""
        with self._lock:
            try:
                value = self._handle.get_hash_value("MD5")
            except (IOError, OSError):
                return None
        return value.lower() if value else None

    def media_md5(self) -> str:
        """MD5 of the media as libewf returns it (chunks failing their checksum come back zero-filled)."""
        md5, offset = hashlib.md5(), 0
        while offset < self._size:
            piece = self.read(offset, min(4 * 1024 * 1024, self._size - offset))
            md5.update(piece)
            offset += len(piece)
        return md5.hexdigest()

    def close(self) -> None:
        self._handle.close()
        for fh in self._files:
            fh.close()


DIGITS = re.compile(r"\.(\d{3})$")
LETTERS = re.compile(r"\.([a-z]{2})$")


@dataclass(frozen=True)
class _SplitNames:
    """One split-raw naming scheme: stem.000/stem.001… (digits) or stem.aa, stem.ab… (letters)."""

    stem: str
    letters: bool

    @property
    def limit(self) -> int:
        return 26 * 26 if self.letters else 1000

    def name(self, index: int) -> str:
        if self.letters:
            a, b = divmod(index, 26)
            return f"{self.stem}.{string.ascii_lowercase[a]}{string.ascii_lowercase[b]}"
        return f"{self.stem}.{index:03d}"

    def index_of(self, name: str) -> int | None:
        m = (LETTERS if self.letters else DIGITS).search(name)
        if not m or name[: m.start()] != self.stem:
            return None
        if self.letters:
            return string.ascii_lowercase.index(m.group(1)[0]) * 26 + string.ascii_lowercase.index(m.group(1)[1])
        return int(m.group(1))


def _split_scheme(path: Path) -> tuple[_SplitNames, int] | None:
    m = DIGITS.search(path.name)
    if m:
        return _SplitNames(path.name[: m.start()], False), int(m.group(1))
    m = LETTERS.search(path.name)
    if m:
        scheme = _SplitNames(path.name[: m.start()], True)
        if m.group(1) == "aa" or (path.parent / scheme.name(0)).is_file():
            return scheme, scheme.index_of(path.name) or 0
    return None


def _next_names(path: Path) -> list[Path] | None:
    """The split-raw segment family of `path`, or None when the name is not a segment name.
    Refuses (Corrupted) a set with a gap or a path that is not its first segment: read as it is,
    such a set would be silently truncated."""
    found = _split_scheme(path)
    if found is None:
        return None
    scheme, start = found
    with os.scandir(path.parent) as entries:
        present = sorted(i for i in (scheme.index_of(e.name) for e in entries if e.is_file()) if i is not None)
    earlier = [i for i in present if i < start]
    if earlier:
        raise Corrupted(f"{path.name} is not the first segment of its split image: parse {scheme.name(earlier[0])}")
    names, n = [], start
    while n < scheme.limit and (path.parent / scheme.name(n)).is_file():
        names.append(path.parent / scheme.name(n))
        n += 1
    later = [i for i in present if i > n]
    if later:
        raise Corrupted(f"split image {path.name} is missing segment {scheme.name(n)} ({len(later)} later "
                        f"segment(s) up to {scheme.name(later[-1])} present): refusing to read it truncated")
    return names


def _ends_in_next_section(fh: BinaryIO) -> bool:
    """True when an EWF segment file ends with a `next` section: more segments follow it. (The last
    segment ends with `done`; a file cut short ends with neither.) A section descriptor is 76 bytes."""
    size = os.fstat(fh.fileno()).st_size
    tail = os.pread(fh.fileno(), 76, size - 76) if size >= 76 else b""
    return tail[:16].rstrip(b"\0") == b"next"


def _next_ewf_name(path: Path) -> str | None:
    """The segment after `path` in libewf's naming (E01…E99, EAA…EZZ, FAA…), or None if not so named."""
    m = re.search(r"\.([EeLls])(\d\d|[A-Za-z]{2})$", path.name)
    if not m:
        return None
    letter, rest = m.groups()
    upper = string.ascii_uppercase
    if rest.isdigit() and int(rest) < 99:
        ext = f"{letter}{int(rest) + 1:02d}"
    elif rest.isdigit():
        ext = f"{letter}AA"
    else:
        value = (upper.index(letter.upper()) * 26 + upper.index(rest[0].upper())) * 26 + upper.index(rest[1].upper()) + 1
        ext = upper[(value // 676) % 26] + upper[(value // 26) % 26] + upper[value % 26]
    ext = ext.lower() if letter.islower() else ext.upper()
    return path.name[: m.start() + 1] + ext


def _ewf_segments(path: Path) -> list[Path]:
    import pyewf

    if not re.search(r"\.(E|e|L|l|s)(0[1-9]|[1-9][0-9]|[A-Za-z][A-Za-z])$", path.name):
        return [path]  # EWF content under another name (a wrong extension): read as one segment
    try:
        names = pyewf.glob(str(path))
    except (IOError, OSError) as exc:
        raise Corrupted(f"cannot find the EWF segments of {path.name}: {exc}") from exc
    return [Path(n) for n in names]


def sniff(path: Path) -> str:
    """'ewf', 'raw', or the name of a container pytsk3 cannot read."""
    with open_readonly(path) as fh:
        head = fh.read(4096)
        size = os.fstat(fh.fileno()).st_size
        tail = os.pread(fh.fileno(), 512, max(0, size - 512)) if size >= 512 else b""
    if head.startswith(EWF_MAGIC):
        return "ewf"
    if head.startswith(EWF2_MAGIC):
        return "Ex01 (EWF2)"
    if head.startswith(b"QFI\xfb"):
        return "QCOW"
    if head.startswith(b"KDMV") or head.startswith(b"# Disk DescriptorFile") or head.startswith(b"COWD"):
        return "VMDK"
    if tail.startswith(b"conectix") or head.startswith(b"conectix") or head.startswith(b"vhdxfile"):
        return "VHD"
    if tail.startswith(b"koly"):
        return "DMG (UDIF)"
    return "raw"


def open_image(path: Path) -> ImageSource:
    """Open `path` (the first segment for split images) read-only for pytsk3."""
    path = Path(path)
    if path.name == "Info.plist" and sniff_virtual(path.parent) == "sparsebundle":
        path = path.parent  # a sparse bundle's exhibit is registered by its first file
    virtual = sniff_virtual(path) if path.exists() else None
    if virtual is not None:
        vimg = open_virtual(path)
        return ImageSource(vimg, SCHEMES[virtual], vimg.segments, vimg.get_size(), vimg.describe())
    if not path.is_file():
        raise NotFound(f"no such image file: {path}")
    if path.stat().st_size == 0:
        raise Corrupted(f"image is empty (0 bytes): {path.name}")
    kind = sniff(path)
    if kind == "ewf":
        segments = _ewf_segments(path)
        img = EwfImg(segments)
        return ImageSource(img, "ewf", segments, img.get_size())
    if kind != "raw":
        raise Unsupported(f"{path.name} is a {kind} container, which pytsk3 cannot read: convert it to raw "
                          "(e.g. qemu-img convert -O raw) and parse the result")
    family = _next_names(path)
    if family and len(family) > 1:
        img = SegmentedImg(family)
        return ImageSource(img, "split-raw", family, img.get_size())
    try:
        img = pytsk3.Img_Info(str(path))
    except (IOError, OSError) as exc:
        raise Corrupted(f"cannot open image {path.name}: {exc}") from exc
    return ImageSource(img, "raw", [path], path.stat().st_size)
