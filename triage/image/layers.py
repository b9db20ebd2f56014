"""Every layer of a disk image, from its partitions down to the file systems to walk.

`expand()` takes each partition (or the whole image) from `walk.volumes()` and looks at it before
any file system is opened: an encrypted volume (encryption.py) is described and, with a key, opened
and looked at again; a Linux RAID mirror member yields the array's data (mdraid.py); an LVM2
physical volume yields its logical volumes (lvm.py); an NTFS volume is
followed by its shadow-copy stores (shadow.py). Each `Layer` says where its file system is read
(`img`, `at`) or, when there is nothing to walk, what status and message its `partitions` row gets.
A layer read through a library is a pytsk3 image of its own (`encryption.LayerImg`), so the usual
pytsk3 walk and the usual content reads go through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

import pytsk3

from . import apfs, lvm, mdraid, shadow
from .encryption import Read, VolumeKeys, detect, image_reader, open_encrypted
from .external import RunsImg
from .truncation import volumes_of_cut_disk
from .walk import Entry, Volume, volumes

MAX_DEPTH = 4  # layers within layers (LUKS on LVM on a partition …): more is a loop or a trap
Warn = Callable[[str, str], None]


@dataclass
class Layer:
    vol: Volume
    img: pytsk3.Img_Info
    at: int                         # the file system's offset in `img`
    walk: bool = True               # False: nothing to walk, the row says why (status, message)
    status: str | None = None       # the row's status when not `parsed` (or after the walk, e.g. `locked`)
    fs_type: str | None = None
    message: str | None = None
    stores: bool = False            # shadow-copy stores of this volume follow it
    key_kind: str | None = None     # the kind of key that opened it
    entries: Callable[[str, Warn], Iterator[Entry]] | None = None  # a walk not through pytsk3 (APFS)
    warnings: list[str] = field(default_factory=list)  # gaps beside its status (a damaged APFS snapshot tree)

    @property
    def derived(self) -> bool:
        """Read through a library (not at its own offset in the image)."""
        return self.at != self.vol.offset or self.vol.scheme in ("lvm", "vss") or self.key_kind is not None


def expand(img: pytsk3.Img_Info, size: int, keys: VolumeKeys) -> Iterator[Layer]:
    for vol in volumes_of_cut_disk(img, size, volumes(img, size)[1]):
        yield from _expand(img, vol.offset, vol, keys, 0)


def find(img: pytsk3.Img_Info, size: int, keys: VolumeKeys, partition: int, snapshot: str | None) -> Layer | None:
    """The walkable layer a `files` row's (partition, snapshot) names, or None."""
    for layer in expand(img, size, keys):
        if layer.walk and (layer.vol.offset, layer.vol.snapshot) == (partition, snapshot):
            return layer
    return None


def _expand(img: pytsk3.Img_Info, at: int, vol: Volume, keys: VolumeKeys, depth: int,
            note: str | None = None, key_kind: str | None = None) -> Iterator[Layer]:
    read = image_reader(img, at)
    found = detect(read) if depth < MAX_DEPTH else None
    if found is not None:
        vol.encrypted = found.kind
        opened = open_encrypted(found, read, vol.length, keys)
        if opened.img is not None:
            inner = Volume(vol.offset, int(opened.img.get_size()), vol.slot, vol.description, vol.scheme,
                           found.kind, vol.snapshot, vol.parent, opened.key_kind)
            note = opened.message + (f" with the {opened.key_kind}" if opened.key_kind not in (None, "clear-key") else "")
            yield from _expand(opened.img, 0, inner, keys, depth + 1, note, opened.key_kind)
        elif found.discovery:
            yield Layer(vol, img, at, status="locked", message=opened.message + "; only the unencrypted "
                        "discovery volume in front of it (a FAT32 stub with BitLocker To Go's reader) is listed")
        else:
            yield Layer(vol, img, at, walk=False, status="locked", message=opened.message)
        return
    member = mdraid.detect(read, vol.length) if depth < MAX_DEPTH else None
    if member is not None:
        yield from _md(img, at, vol, keys, depth, member, read)
        return
    if depth < MAX_DEPTH and lvm.is_physical_volume(read):
        try:
            pv = lvm.logical_volumes(read, vol)
        except (IOError, OSError, RuntimeError) as exc:
            yield Layer(vol, img, at, walk=False, status="unreadable", fs_type="LVM2",
                        message=f"LVM2 physical volume whose metadata cannot be read ({_gist(exc)})")
            return
        yield Layer(vol, img, at, walk=False, status="parsed", fs_type="LVM2", key_kind=key_kind,
                    message=(f"{note}; " if note else "")
                    + f"LVM2 physical volume of volume group {pv.group}: {len(pv.logical)} logical volume(s)"
                    + (f"; {pv.note}" if pv.note else ""))
        for lv in pv.logical:
            lv.vol.encrypted = vol.encrypted  # inside an encrypted volume (LVM on LUKS): its data was encrypted
            lv.vol.key_kind = key_kind
            if lv.img is not None:
                yield from _expand(lv.img, 0, lv.vol, keys, depth + 1, lv.message)
            else:  # on a disk not in this image, or of a type not read: named, never silently dropped
                yield Layer(lv.vol, img, at, walk=False, status=lv.status or "unsupported", fs_type="LVM2 LV",
                            message=lv.message)
        return
    if depth < MAX_DEPTH and apfs.is_container(read):
        yield from _apfs(img, at, vol, keys)
        return
    stores: list[shadow.Store] = []
    capped: str | None = None
    try:
        stores, capped = shadow.stores(read, vol)
    except (IOError, OSError, RuntimeError) as exc:
        note = (note + "; " if note else "") + f"its shadow copies cannot be read ({_gist(exc)})"
    yield Layer(vol, img, at, message=note, stores=bool(stores), key_kind=key_kind)
    for number, store in enumerate(stores, 1):
        if capped and number == len(stores):  # the last store listed: the gap is its row's (a warning)
            yield Layer(store.vol, store.img, 0, status="partial", message=capped)
        else:
            yield Layer(store.vol, store.img, 0, message="only the entries that differ from the live volume are listed")


TO_GO_NAMES = re.compile(r"^/(bitlockertogo\.exe|cov ?\d{4}\. ?(bl|er))$", re.IGNORECASE)


class ToGoWatch:
    """Notices, while a FAT volume is listed, the files BitLocker To Go leaves on its discovery volume
    (`BitLockerToGo.exe`, `COV 0000. BL`, …): the sign of encryption when the boot sector's is gone."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, entries: Iterator[Entry]) -> Iterator[Entry]:
        for entry in entries:
            if len(self.seen) < 3 and not entry.deleted and TO_GO_NAMES.match(entry.path):
                self.seen.append(entry.name)
            yield entry

    def message(self) -> str:
        return (f"BitLocker To Go: its discovery volume's files ({', '.join(self.seen)}) are here: the data "
                "around them is encrypted; only the unencrypted discovery volume is listed")


def _md(img: pytsk3.Img_Info, at: int, vol: Volume, keys: VolumeKeys, depth: int, member: mdraid.Member,
        read: Read) -> Iterator[Layer]:
    """A Linux RAID member: a mirror's data area read as the array; any other level named, not read."""
    size = member.array_size or 0
    if not member.mirror or not 0 < size <= vol.length - member.data_offset:
        status = "incomplete" if not member.mirror else "unreadable"
        why = ("its data is spread over the array's members: image every member; Dalil does not assemble "
               "arrays" if not member.mirror else "its data area does not fit in the volume (truncated?)")
        yield Layer(vol, img, at, walk=False, status=status, fs_type="Linux RAID member",
                    message=f"{member.describe()}: not read: {why}")
        return
    said = f"{member.describe()}: a full copy of the array's data (mirror), read as the array"
    data = RunsImg(read, [(0, size, member.data_offset)])
    if member.data_offset == 0:  # superblock at the end (0.90, 1.0): the array's data is this volume's start
        yield from _expand(data, 0, Volume(vol.offset, size, vol.slot, vol.description, vol.scheme, vol.encrypted,
                                           vol.snapshot, vol.parent), keys, depth + 1, said)
        return
    yield Layer(vol, img, at, walk=False, status="parsed", fs_type="Linux RAID member", message=said)
    inner = Volume(vol.offset + member.data_offset, size, f"md:{member.name or member.array_uuid}",
                   f"Linux md {mdraid.LEVELS.get(member.level, '')} array data", "md", vol.encrypted,
                   parent=vol.offset)
    yield from _expand(data, 0, inner, keys, depth + 1)


def _apfs(img: pytsk3.Img_Info, at: int, vol: Volume, keys: VolumeKeys) -> Iterator[Layer]:
    try:
        found = apfs.volumes(image_reader(img, at), vol, keys)
    except (IOError, OSError, RuntimeError, apfs.Damaged) as exc:
        yield Layer(vol, img, at, walk=False, status="unreadable", fs_type="APFS",
                    message=f"APFS container that cannot be opened ({_gist(exc)})")
        return
    yield Layer(vol, img, at, walk=False, status=found.status, fs_type="APFS container", message=found.message,
                warnings=found.warnings)
    for one in found.volumes:
        readable = [entries for _snap, entries in one.views if entries is not None]
        yield Layer(one.vol, img, at, walk=one.entries is not None, status=one.status, fs_type="APFS",
                    message=one.message, key_kind=one.key_kind, entries=one.entries,
                    stores=one.entries is not None and bool(readable), warnings=one.warnings)
        for snap, entries in one.views:
            view = Volume(one.vol.offset, one.vol.length, one.vol.slot, snap.describe(), "apfs", one.vol.encrypted,
                          snap.name, one.vol.offset)
            if entries is None:
                yield Layer(view, img, at, walk=False, status="listed", fs_type="APFS snapshot",
                            message=f"{snap.describe()}: listed; its files are not read (the volume is "
                                    + ("encrypted" if one.vol.encrypted else "not readable") + ")")
            else:
                yield Layer(view, img, at, fs_type="APFS snapshot", entries=entries, message=(
                    f"{snap.describe()}: " + ("only the entries that differ from the live volume are listed"
                                              if one.entries is not None else "all its entries are listed")))


def _gist(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
