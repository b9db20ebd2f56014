"""Windows Volume Shadow Copies: each store of an NTFS volume read through libvshadow as its own view.

A store is a `partitions` row with scheme `vss`, the same `partition` as its live volume and
`snapshot` = `vss1`, `vss2`, … (the store's position in the catalogue, oldest first: the names
vshadowmount and dfvfs give them), its identifier and creation time in `description`.

Only what differs is listed from a store: an entry of a store is kept when the live volume has no
entry with its path (and stream), or has one whose inode, size, deleted flag or any of its
timestamps differ. The rest is the same file as the live one (same metadata record, same times), and
listing it again would double the rows and hash the same content again. So every `files` row with a
`snapshot` is a difference from the live volume: an older version, or a file since deleted or
renamed. (A change that touches neither size nor any timestamp is not seen; Windows updates the
modification and MFT-change times on every write.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from .encryption import LayerImg, Read, Slice
from .walk import Entry, Volume


@dataclass
class Store:
    vol: Volume
    img: LayerImg


# Windows keeps at most 512 shadow copies of a volume (64 before Windows 8): a catalogue claiming more
# is damaged or made to make the parse walk the volume thousands of times
MAX_STORES = 512


def stores(read: Read, live: Volume) -> tuple[list[Store], str | None]:
    """The shadow-copy stores of an NTFS volume (none when it has no VSS catalogue), and a note when
    the catalogue claims more than MAX_STORES (only the first MAX_STORES are listed)."""
    import pyvshadow

    try:
        head = read(0, 16)
    except (IOError, OSError, RuntimeError):
        return [], None
    if head[3:11] != b"NTFS    ":
        return [], None
    fh = Slice(read, live.length)
    if not pyvshadow.check_volume_signature_file_object(fh):
        return [], None
    volume = pyvshadow.volume()
    volume.open_file_object(fh)
    found = []
    count = int(volume.number_of_stores)
    note = (f"its shadow-copy catalogue claims {count:,} stores, more than Windows keeps ({MAX_STORES}): "
            f"only the first {MAX_STORES} are listed") if count > MAX_STORES else None
    for number in range(1, min(count, MAX_STORES) + 1):
        store = volume.get_store(number - 1)
        when = store.get_creation_time()
        desc = f"shadow copy {store.identifier}, created {when.isoformat()}Z" if when else f"shadow copy {store.identifier}"
        vol = Volume(live.offset, int(store.volume_size), live.slot, desc, "vss", live.encrypted,
                     f"vss{number}", live.offset)
        found.append(Store(vol, LayerImg(store, int(store.volume_size), (volume, fh))))
    return found, note


def _fingerprint(entry: Entry) -> int:
    """One int per (path, stream, inode, size, deleted, times): a live volume of a million entries
    costs tens of megabytes to remember."""
    return hash((entry.path, entry.stream, entry.inode, entry.size, entry.deleted, tuple(sorted(entry.times.items()))))


class Live:
    """What the live volume listed, for telling a store's entries that differ from it."""

    def __init__(self) -> None:
        self._seen: dict[int, set[int]] = {}

    def remember(self, partition: int, entries: Iterable[Entry]) -> Iterator[Entry]:
        seen = self._seen.setdefault(partition, set())
        for entry in entries:
            seen.add(_fingerprint(entry))
            yield entry

    def differing(self, partition: int, snapshot: str, entries: Iterable[Entry]) -> Iterator[Entry]:
        seen = self._seen.get(partition, set())
        for entry in entries:
            entry.snapshot = snapshot
            if _fingerprint(entry) not in seen:
                yield entry
