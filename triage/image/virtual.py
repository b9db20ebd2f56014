"""Virtual disks and Apple disk images read through the libyal Python bindings, as pytsk3 images.

VMDK (monolithic or split, sparse or flat, stream-optimised; a delta with its parent) through
libvmdk, VHD and VHDX (fixed, dynamic, differencing with its parent) through libvhdi, QCOW 1/2/3
(with a backing file) through libqcow, DMG (UDIF, compressed or not), `.sparseimage` and
`.sparsebundle` through libmodi. Each becomes a `pytsk3.Img_Info` of type
`TSK_IMG_TYPE_EXTERNAL`, as E01 does (container.EwfImg): libtsk calls `read()` from any thread, so
the handle sits behind a lock.

Every file is opened by us, read-only (`open_readonly`), and handed to the library as a file
object: extents, bands and parents are found by name beside the file that names them, and a
missing one is refused with its name, never read as zeros. The files read make the exhibit's
segments (registered and hashed in that order); `describe()` is the container layer as the
`parsed` ledger entry records it (format, disk type, media size, files, parent chain).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any, BinaryIO, Callable

import pytsk3

from ..core.errors import Corrupted, NotFound, Unsupported
from ..core.hashing import open_readonly
from .external import ExternalImg
from .volumes import volume_row
from .walk import Volume

MAX_EXTENTS = 4096  # a 2GbExtent disk of 8 TiB; a descriptor naming more is refused
MAX_BANDS = 1 << 21  # a sparse bundle's bands: 16 TiB in macOS's 8 MiB bands (one file object each)
MAX_CHAIN = 16  # parents followed at most (a loop of differencing disks naming each other stops here)

# the names `sniff` gives, to the scheme recorded on the container layer's row
SCHEMES = {"VMDK": "vmdk", "VHD": "vhd", "VHDX": "vhdx", "QCOW": "qcow", "DMG (UDIF)": "dmg",
           "sparseimage": "sparseimage", "sparsebundle": "sparsebundle"}

CONTAINER_SCHEMES = frozenset(SCHEMES.values())
CONTAINER_PARTITION = -1  # the container layer's row in `partitions` (no file lies in it directly)

VMDK_DISK_TYPES = {1: "2GbExtentFlat", 2: "2GbExtentSparse", 3: "custom", 4: "fullDevice", 5: "partitionedDevice",
                   6: "monolithicFlat", 7: "monolithicSparse", 8: "streamOptimized", 9: "vmfsFlat",
                   10: "vmfsFlatPreAllocated", 11: "vmfsFlatZeroed", 12: "vmfsRaw", 13: "vmfsRdm", 14: "vmfsRdmp",
                   15: "vmfsSparse", 16: "vmfsSparseThin"}  # pyvmdk.disk_types
VHDI_DISK_TYPES = {2: "fixed", 3: "dynamic", 4: "differencing"}


@dataclass
class Layer:
    """One file of the chain (the disk itself, then each parent) and what its header says."""

    path: Path
    kind: str
    disk_type: str | None
    media_size: int
    identifier: str | None = None
    parent_name: str | None = None
    parent_identifier: str | None = None
    files: list[Path] = field(default_factory=list)  # the files this layer is made of (descriptor, extents, bands)
    absent_bands: int | None = None  # a sparse bundle's bands never written (read as zeros)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.path.name, "format": self.kind, "disk_type": self.disk_type,
                               "media_size": self.media_size}
        if self.identifier:
            out["identifier"] = self.identifier
        if self.parent_name:
            out.update(parent_name=self.parent_name, parent_identifier=self.parent_identifier)
        if len(self.files) > 1 or (self.files and self.files[0] != self.path):
            out["files"] = [p.name for p in self.files]
        if self.absent_bands is not None:
            out["absent_bands"] = self.absent_bands
        return out


class VirtualImg(ExternalImg):
    """A libyal handle (with its parents set) read as one image."""

    def __init__(self, handle: Any, chain: list[Layer], handles: list[Any], files: list[BinaryIO]) -> None:
        self._handle, self.chain, self._handles, self._files = handle, chain, handles, files
        self.WHAT = f"{chain[0].kind} image"
        self.truncated: str | None = None  # why the disk cannot be read to its end (see _check_readable)
        super().__init__(int(handle.get_media_size()))

    @property
    def segments(self) -> list[Path]:
        """Every file read, in chain order: the disk's own files, then each parent's."""
        out: list[Path] = []
        for layer in self.chain:
            out.extend(p for p in layer.files if p not in out)
        return out

    def describe(self) -> dict[str, Any]:
        """The container layer for the ledger: format, disk type, media size, files, parent chain."""
        top = self.chain[0]
        return {"format": top.kind, "disk_type": top.disk_type, "media_size": self._size,
                "files": [p.name for p in self.segments], "chain": [layer.describe() for layer in self.chain]}

    def stored(self) -> list[tuple[int, int]] | None:
        """The byte ranges the disk holds data in (a sparse disk's allocation), None when unknown."""
        from . import allocation

        top = self.chain[0]
        return allocation.stored(top.path, top.kind, top.disk_type, len(top.files), len(self.chain) - 1, self._size)

    def _read_at(self, offset: int, size: int) -> bytes:
        try:
            return bytes(self._handle.read_buffer_at_offset(size, offset))
        except (IOError, OSError) as exc:
            if self.truncated is None:  # the first failure is the container layer's status
                self.truncated = f"cannot read the disk at byte {offset:,} of {self._size:,} ({_gist(exc)})"
            raise

    def close(self) -> None:
        for handle in self._handles:
            try:
                handle.close()
            except (IOError, OSError):
                pass
        for fh in self._files:
            fh.close()


class _Opener:
    """Opens a chain of handles, keeping every file object so all can be closed on failure."""

    def __init__(self) -> None:
        self.files: list[BinaryIO] = []
        self.handles: list[Any] = []

    def file(self, path: Path) -> BinaryIO:
        fh = open_readonly(path)
        self.files.append(fh)
        return fh

    def open(self, handle: Any, path: Path, kind: str) -> Any:
        """`handle` opened on `path` (read-only) and kept for closing; one line naming `kind` if it fails."""
        try:
            handle.open_file_object(self.file(path))
        except (IOError, OSError) as exc:
            raise Corrupted(f"cannot open {kind} {path.name}: {_gist(exc)}") from exc
        self.handles.append(handle)
        return handle

    def close(self) -> None:
        for handle in self.handles:
            try:
                handle.close()
            except (IOError, OSError):
                pass
        for fh in self.files:
            fh.close()


def _beside(path: Path, name: str) -> Path | None:
    """The file `name` (as a container wrote it: relative, absolute, Windows or POSIX) found beside
    `path`: only the base name is used, so nothing outside the exhibit's folder is ever opened."""
    base = PureWindowsPath(name).name if "\\" in name else Path(name).name
    if not base or base in (".", ".."):
        return None
    candidate = path.parent / base
    return candidate if candidate.is_file() and _stays_inside(candidate) else None


def _stays_inside(candidate: Path) -> bool:
    """True, or Corrupted: a file found beside the one naming it is not read through a symbolic link
    out of that folder: a link put among the container's files (copied from seized media) must not
    make Dalil read, and register as this exhibit, a file elsewhere (another case's image, a system file)."""
    if candidate.is_symlink() and candidate.resolve().parent != candidate.parent.resolve():
        raise Corrupted(f"{candidate.name} beside the image is a symbolic link out of its folder: not followed "
                        "(copy the file itself beside the image, or parse the folder it points to)")
    return True


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _missing_parent(layer: Layer, kind: str) -> Corrupted:
    return Corrupted(f"{layer.path.name} is a {kind} {layer.disk_type or 'differencing'} disk whose parent "
                     f"{layer.parent_name!r} is not beside it: put the parent file in the same folder "
                     "(its changes alone are not a disk)")


def _vmdk(path: Path, op: _Opener, depth: int) -> tuple[Any, list[Layer]]:
    import pyvmdk

    handle = op.open(pyvmdk.handle(), path, "VMDK")
    if handle.get_number_of_extents() > MAX_EXTENTS:
        raise Corrupted(f"VMDK {path.name} names {handle.get_number_of_extents()} extents (more than "
                        f"{MAX_EXTENTS}): refusing to open that many files")
    extents: list[Path] = []
    embedded = handle.get_number_of_extents() == 1 and _embedded_descriptor(path)
    for index in range(handle.get_number_of_extents()):
        desc = handle.get_extent_descriptor(index)
        name = _text(desc.filename) or ""
        # a monolithic sparse disk's one extent is the file itself, whatever name it had when made
        # (a renamed copy must not read the original beside it)
        found = path if embedded else _beside(path, name)
        if found is None:
            raise Corrupted(f"VMDK {path.name} is missing its extent file {name!r} (extent {index + 1} of "
                            f"{handle.get_number_of_extents()}): put every extent beside the descriptor")
        extents.append(found)
    try:
        handle.open_extent_data_files_as_file_objects([op.file(p) for p in extents])
    except (IOError, OSError) as exc:
        raise Corrupted(f"cannot open the extents of VMDK {path.name}: {exc}") from exc
    files = [path] + [p for p in extents if p != path]
    disk_type = VMDK_DISK_TYPES.get(int(handle.get_disk_type()), str(handle.get_disk_type()))
    parent_name = _text(handle.get_parent_filename())
    layer = Layer(path, "VMDK", disk_type, int(handle.get_media_size()), _hex(handle.get_content_identifier()),
                  parent_name, _hex(handle.get_parent_content_identifier()) if parent_name else None, files)
    chain = [layer]
    if parent_name:
        parent_path = _beside(path, parent_name)
        if parent_path is None:
            raise _missing_parent(layer, "VMDK")
        parent, above = _chain(parent_path, "VMDK", op, depth + 1)
        handle.set_parent(parent)
        chain += above
    return handle, chain


def _hex(value: Any) -> str | None:
    return None if value in (None, 0) else f"{int(value):08x}"


def _embedded_descriptor(path: Path) -> bool:
    with open_readonly(path) as fh:
        return fh.read(4) == b"KDMV"


def _vhdi(path: Path, op: _Opener, depth: int) -> tuple[Any, list[Layer]]:
    import pyvhdi

    handle = pyvhdi.file()
    try:
        handle.open_file_object(op.file(path))
    except (IOError, OSError) as exc:
        hint = ""
        if _head(path, 8) == b"conectix" and not _tail_has_footer(path):
            hint = " (the footer a VHD ends with is missing: the file is truncated)"
        raise Corrupted(f"cannot open VHD/VHDX {path.name}{hint}: {_gist(exc)}") from exc
    op.handles.append(handle)
    kind = "VHDX" if int(handle.get_format_version().split(".")[0]) >= 2 else "VHD"
    disk_type = VHDI_DISK_TYPES.get(int(handle.get_disk_type()), str(handle.get_disk_type()))
    parent_name = _text(handle.get_parent_filename()) if disk_type == "differencing" else None
    layer = Layer(path, kind, disk_type, int(handle.get_media_size()), _text(handle.get_identifier()),
                  parent_name, _text(handle.get_parent_identifier()) if parent_name else None, [path])
    chain = [layer]
    if disk_type == "differencing":
        parent_path = _beside(path, parent_name or "")
        if parent_path is None:
            raise _missing_parent(layer, kind)
        parent, above = _chain(parent_path, "VHD", op, depth + 1)
        if layer.parent_identifier and above[0].identifier and layer.parent_identifier != above[0].identifier:
            raise Corrupted(f"{path.name} names parent {above[0].path.name} with identifier "
                            f"{layer.parent_identifier}, but that file is {above[0].identifier}: not its parent")
        handle.set_parent(parent)
        chain += above
    return handle, chain


def _qcow(path: Path, op: _Opener, depth: int) -> tuple[Any, list[Layer]]:
    import pyqcow

    handle = op.open(pyqcow.file(), path, "QCOW")
    version = _qcow_version(path)
    method = _qcow_crypt_method(path, version)
    if method or handle.is_locked():
        name = {1: "AES", 2: "LUKS"}.get(method, "encrypted")
        raise Unsupported(f"{path.name} is a QCOW image encrypted with {name} (its clusters are ciphertext): Dalil "
                          "cannot read it; decrypt it with qemu-img convert --object secret,… -O raw (giving its "
                          "secret) and parse the raw result")
    backing = _text(handle.get_backing_filename())
    layer = Layer(path, "QCOW", f"v{version}", int(handle.get_media_size()), None, backing, None, [path])
    chain = [layer]
    if backing:
        parent_path = _beside(path, backing)
        if parent_path is None:
            raise Corrupted(f"{path.name} is a QCOW image over the backing file {backing!r}, which is not beside "
                            "it: put the backing file in the same folder")
        parent, above = _chain(parent_path, None, op, depth + 1)
        handle.set_parent(parent)
        chain += above
    return handle, chain


def _qcow_crypt_method(path: Path, version: int) -> int:
    """The header's crypt_method (0 none, 1 AES-CBC, 2 LUKS): libqcow says `is_locked` for neither
    when no key was set, and would hand back ciphertext as the disk."""
    at = 36 if version == 1 else 32
    head = _head(path, at + 4)
    return int.from_bytes(head[at:at + 4], "big") if len(head) == at + 4 else 0


def _qcow_version(path: Path) -> int:
    with open_readonly(path) as fh:
        head = fh.read(8)
    return int.from_bytes(head[4:8], "big") if len(head) == 8 else 0


def _modi(path: Path, op: _Opener, depth: int) -> tuple[Any, list[Layer]]:
    import pymodi

    handle = pymodi.handle()
    files: list[Path]
    if path.is_dir():  # a sparse bundle: Info.plist and bands/0, 1, … (hexadecimal names)
        info = path / "Info.plist"
        try:
            handle.open_file_object(op.file(info))
        except (IOError, OSError) as exc:
            raise Corrupted(f"cannot open sparse bundle {path.name}: {_gist(exc)}") from exc
        op.handles.append(handle)
        bands, objects, absent = _bands(path, info, int(handle.get_media_size()))
        try:
            handle.open_band_data_files_as_file_objects(objects)
        except (IOError, OSError) as exc:
            raise Corrupted(f"cannot open the bands of sparse bundle {path.name}: {_gist(exc)}") from exc
        files, kind = [info] + bands, "sparsebundle"
        layer = Layer(path, kind, None, int(handle.get_media_size()), None, None, None, files)
        layer.absent_bands = absent
        return handle, [layer]
    op.open(handle, path, "Apple disk image")
    kind = "sparseimage" if _head(path, 4) == b"sprs" else "DMG (UDIF)"
    return handle, [Layer(path, kind, None, int(handle.get_media_size()), None, None, None, [path])]


class _Band:
    """A band file as the file object libmodi wants (read, seek, tell, get_size), opened read-only
    for each read: a bundle can hold more bands than a process may keep open."""

    def __init__(self, path: Path | None, size: int) -> None:
        self.path, self.size, self.pos = path, size, 0

    def read(self, size: int = -1) -> bytes:
        if self.path is None or self.pos >= self.size:
            return b""
        size = self.size - self.pos if size is None or size < 0 else min(size, self.size - self.pos)
        with open_readonly(self.path) as fh:
            data = os.pread(fh.fileno(), size, self.pos)
        self.pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else self.pos + offset if whence == 1 else self.size + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def get_size(self) -> int:
        return self.size


def _bands(bundle: Path, info: Path, media_size: int) -> tuple[list[Path], list[_Band], int]:
    """The band files of a sparse bundle in band order (names are hexadecimal numbers), one file
    object per band of the disk; a band never written is absent (macOS leaves it out) and reads as
    zeros, as macOS reads it. Returns (files present, file objects, number absent)."""
    import plistlib

    folder = bundle / "bands"
    if not folder.is_dir():
        raise Corrupted(f"sparse bundle {bundle.name} has no bands folder")
    with open_readonly(info) as fh:
        raw = fh.read(1 << 20)
    try:
        band_size = int(plistlib.loads(raw).get("band-size") or 0)
    except (plistlib.InvalidFileException, ValueError, TypeError, AttributeError) as exc:
        raise Corrupted(f"sparse bundle {bundle.name}: unreadable Info.plist ({exc})") from exc
    if band_size <= 0:
        raise Corrupted(f"sparse bundle {bundle.name}: Info.plist gives no band size")
    count = -(-media_size // band_size)
    if count > MAX_BANDS:
        raise Corrupted(f"sparse bundle {bundle.name}: Info.plist gives a {media_size:,}-byte disk in bands of "
                        f"{band_size:,} bytes, {count:,} bands (more than {MAX_BANDS:,}): refusing to open that many")
    found: dict[int, Path] = {}
    for entry in folder.iterdir():
        if entry.is_file() and re.fullmatch(r"[0-9a-f]{1,16}", entry.name) and _stays_inside(entry):
            found[int(entry.name, 16)] = entry
    beyond = [n for n in found if n >= count]
    if beyond:
        raise Corrupted(f"sparse bundle {bundle.name}: band {max(beyond):x} lies past the disk's "
                        f"{media_size:,} bytes ({count} bands): not this bundle's")
    objects = [_Band(found.get(n), found[n].stat().st_size if n in found else 0) for n in range(count)]
    return [found[k] for k in sorted(found)], objects, count - len(found)


def _tail_has_footer(path: Path) -> bool:
    with open_readonly(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        tail = os.pread(fh.fileno(), 512, max(0, size - 512))
    return b"conectix" in tail


def _head(path: Path, n: int) -> bytes:
    with open_readonly(path) as fh:
        return fh.read(n)


def sniff_virtual(path: Path) -> str | None:
    """The container kind of `path` by its signature (None: not one of these)."""
    if path.is_dir():
        return "sparsebundle" if (path / "Info.plist").is_file() and (path / "bands").is_dir() else None
    with open_readonly(path) as fh:
        head = fh.read(512)
        size = os.fstat(fh.fileno()).st_size
        tail = os.pread(fh.fileno(), 512, max(0, size - 512)) if size >= 512 else b""
    if head.startswith(b"QFI\xfb"):
        return "QCOW"
    if head.startswith((b"KDMV", b"COWD")) or _vmdk_descriptor(head):
        return "VMDK"
    if head.startswith(b"vhdxfile"):
        return "VHDX"
    if tail.startswith(b"conectix") or head.startswith(b"conectix") or tail[1:].startswith(b"conectix"):
        return "VHD"
    if tail.startswith(b"koly"):
        return "DMG (UDIF)"
    if head.startswith(b"sprs"):
        return "sparseimage"
    return None


def _vmdk_descriptor(head: bytes) -> bool:
    text = head.lstrip()
    return text.startswith(b"# Disk DescriptorFile") or (text.startswith(b"#") and b"createType" in head)


_OPENERS = {"VMDK": _vmdk, "VHD": _vhdi, "VHDX": _vhdi, "QCOW": _qcow, "DMG (UDIF)": _modi, "sparseimage": _modi,
            "sparsebundle": _modi}


def _chain(path: Path, expect: str | None, op: _Opener, depth: int = 0) -> tuple[Any, list[Layer]]:
    """The handle of `path` with its parents set, and the chain of layers from it up."""
    if depth >= MAX_CHAIN:
        raise Corrupted(f"{path.name}: more than {MAX_CHAIN} parent disks (a loop?): refusing to follow them")
    kind = sniff_virtual(path)
    if kind is None or (expect == "VHD" and kind not in ("VHD", "VHDX")) or (expect and expect != "VHD" and kind != expect):
        raise Corrupted(f"{path.name} is not a {expect or 'virtual disk'} image, but is named as a parent disk")
    return _OPENERS[kind](path, op, depth)


def open_virtual(path: Path) -> VirtualImg:
    """Open the virtual disk or Apple disk image at `path` (with its extents, bands and parents)."""
    if not path.exists():
        raise NotFound(f"no such image file: {path}")
    op = _Opener()
    try:
        handle, chain = _chain(path, None, op)
        img = VirtualImg(handle, chain, op.handles, op.files)
    except BaseException:
        op.close()
        raise
    _check_readable(img)
    return img


def _check_readable(img: VirtualImg) -> None:
    """Read the first and last sectors now: a container cut short, or a sparse file whose grain
    tables point past its end, says so here rather than as a disk without a file system."""
    size = img.get_size()
    if size <= 0:
        img.close()
        raise Corrupted(f"{img.chain[0].path.name}: the {img.chain[0].kind} container declares an empty disk")
    for offset in sorted({0, max(0, size - 512)}):
        try:
            img.read(offset, min(512, size - offset))
        except (IOError, OSError):
            return  # recorded by read(): the walk lists what can be read


def _gist(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    parts = [p.strip() for p in text.split(". ") if p.strip()]
    return (parts[-1] if parts else text)[:200]


def container_row(source: Any, exhibit: str, warn: Callable[[str, str], None]) -> dict[str, Any]:
    """The `partitions` row of a virtual disk's container layer (`dalil volumes`): scheme the
    container format, the media size as its length, the chain of parents in its message. Made
    after the walk: a container any read of which failed (cut short or damaged: a grain, cluster or
    block its tables point to is not in the file) is `truncated`, and a warning."""
    img, layer = source.img, source.layer or {}
    chain = layer.get("chain") or []
    top = chain[0] if chain else {}
    description = " ".join(str(x) for x in (layer.get("format"), layer.get("disk_type")) if x)
    row = volume_row(Volume(CONTAINER_PARTITION, source.size, None, description, source.format))
    row["offset"] = 0
    parts = [f"{layer.get('format')} {top.get('file', '')}: media {source.size:,} bytes"]
    if len(chain) > 1:
        parts.append("parent chain " + " -> ".join(str(c.get("file")) for c in chain))
    if len(layer.get("files") or []) > 1 and len(chain) == 1:
        parts.append(f"{len(layer['files'])} files")
    row["message"] = "; ".join(parts)
    reason = getattr(img, "truncated", None)
    if reason:
        row["status"] = "truncated"
        row["message"] += f"; truncated or damaged: {reason}"
        warn(exhibit, f"{layer.get('format')} container {top.get('file', '')}: image truncated or damaged: {reason}")
    return row
