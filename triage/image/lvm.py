"""LVM2 physical volumes: the volume group's logical volumes, each read through libvslvm as a volume.

A logical volume's `partition` id is the image offset of its first extent (inside a decrypted volume,
LVM on LUKS: the volume's offset plus the extent's offset in the decrypted data, so still unique and
within its partition) (the PV's offset, plus the
PV's data area start `pe_start`, plus the first stripe's extent times the extent size), read from the
volume group's text metadata: unique per exhibit and stable across runs. When the metadata cannot be
read that way, the id is the PV's offset plus the LV's 1-based index (also stable; never an offset of
another volume since a PV starts with its label sector).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any, Iterator

from . import lvm_map
from .encryption import LayerImg, Read, Slice
from .external import ExternalImg, RunsImg
from .walk import Volume

LABEL = b"LABELONE"
LVM2 = b"LVM2 001"
MDA_MAGIC = b" LVM2 x[5A%r0N*>"
SECTOR = 512
MAX_METADATA = 64 * 1024 * 1024  # the text metadata read at most (lvm's metadata areas are 1 MiB by default)


def is_physical_volume(read: Read) -> bool:
    """An LVM2 label in one of the first four sectors (it is in sector 1 as pvcreate writes it)."""
    try:
        head = read(0, 4 * SECTOR)
    except (IOError, OSError, RuntimeError):
        return False
    return any(head[i * SECTOR:i * SECTOR + 8] == LABEL and head[i * SECTOR + 24:i * SECTOR + 32] == LVM2
               for i in range(4))


@dataclass
class Logical:
    """One logical volume, ready to be read."""

    vol: Volume
    img: ExternalImg | None
    message: str | None = None
    status: str | None = None       # why it is not read (img None): incomplete, unsupported


@dataclass
class Pv:
    """What a physical volume holds: its group's name, the logical volumes, and what is missing."""

    group: str
    logical: list[Logical]
    note: str | None = None


def logical_volumes(read: Read, pv: Volume) -> Pv:
    """The volume group's logical volumes: through libvslvm when the group is this PV alone, else
    (a group spanning other disks, a volume type libvslvm refuses) mapped by Dalil from the metadata,
    each LV it cannot read named with the reason."""
    meta = _metadata(read)  # read once: the group for the mapping, the first extents for libvslvm's LVs
    grp = _group(read, meta)
    if grp is None or len(grp.pvs) <= 1:
        try:
            return _libvslvm(read, pv, _first_extents(meta))
        except (IOError, OSError, RuntimeError) as exc:
            if grp is None:
                raise
            why = str(exc).strip().split(". ")[-1][:160]
            return _mapped(read, pv, grp, f"libvslvm cannot open the group ({why}): its volumes are mapped by Dalil")
    note = (f"volume group {grp.name} spans {len(grp.pvs)} physical volumes; this image is "
            f"{grp.this_pv or 'not one named in the metadata'}; not in this image: {', '.join(grp.others())}")
    return _mapped(read, pv, grp, note)


def _libvslvm(read: Read, pv: Volume, starts: dict[str, int]) -> Pv:
    import pyvslvm

    fh = Slice(read, pv.length)
    handle = pyvslvm.handle()
    handle.open_file_object(fh)
    handle.open_physical_volume_files_as_file_objects([fh])
    group = handle.get_volume_group()
    found: list[Logical] = []
    for index, lv in enumerate(group.logical_volumes):
        name = str(lv.name)
        start = starts.get(name)
        partition = pv.offset + start if start is not None else pv.offset + index + 1
        vol = Volume(partition, int(lv.size), f"{group.name}/{name}", f"LVM2 logical volume {group.name}/{name}",
                     "lvm", parent=pv.offset)
        found.append(Logical(vol, LayerImg(lv, int(lv.size), (handle, fh))))
    return Pv(str(group.name), found)


def _mapped(read: Read, pv: Volume, grp: lvm_map.Group, note: str) -> Pv:
    found: list[Logical] = []
    for index, name in enumerate(grp.visible()):
        label = f"{grp.name}/{name}"
        try:
            mapped = lvm_map.runs(grp, name)
            if any(length <= 0 or at < 0 for _s, length, at in mapped):
                raise lvm_map.Unmapped("its metadata gives empty or negative extents")
            if any(at + length > pv.length for _s, length, at in mapped):
                raise lvm_map.Unmapped("its extents lie past the end of this disk, not in this image")
        except (lvm_map.Unmapped, ValueError, TypeError, KeyError, OverflowError) as exc:
            why = str(exc) if isinstance(exc, lvm_map.Unmapped) else "its metadata is malformed"
            vol = Volume(pv.offset + index + 1, _declared_size(grp, name), label, f"LVM2 logical volume {label}",
                         "lvm", parent=pv.offset)
            status = "incomplete" if "not in this image" in why else "unsupported"
            found.append(Logical(vol, None, f"LVM2 logical volume {label}: not read: {why}", status))
            continue
        first = min((at for start, _n, at in mapped if start == 0), default=None)
        vol = Volume(pv.offset + first if first is not None else pv.offset + index + 1,
                     sum(n for _s, n, _a in mapped), label, f"LVM2 logical volume {label}", "lvm", parent=pv.offset)
        found.append(Logical(vol, RunsImg(read, mapped), "read by Dalil from the group's metadata"))
    return Pv(grp.name, found, note)


def _declared_size(grp: lvm_map.Group, name: str) -> int:
    """The LV's size as its segments declare it (0 when the metadata says nothing usable)."""
    try:
        return max(0, sum(int(seg.get("extent_count", 0)) for key, seg in grp.lvs()[name].items()
                          if key.startswith("segment") and isinstance(seg, dict)) * grp.extent)
    except (ValueError, TypeError, OverflowError):
        return 0


def _group(read: Read, found: tuple[str, int] | None) -> lvm_map.Group | None:
    if found is None:
        return None
    try:
        return lvm_map.group(_tree(_tokens(found[0])), lvm_map.pv_uuid(read))
    except (RuntimeError, ValueError, TypeError, AttributeError, struct.error):
        return None


def _first_extents(found: tuple[str, int] | None) -> dict[str, int]:
    """{LV name: byte offset of its first extent in the PV}, from the PV's text metadata ({} if unread)."""
    if found is None:
        return {}
    try:
        return _parse(*found)
    except (RuntimeError, ValueError, AttributeError, TypeError, OverflowError, MemoryError):
        return {}


def _metadata(read: Read) -> tuple[str, int] | None:
    """The PV's current text metadata and its data area's start, or None."""
    try:
        head = read(0, 4 * SECTOR)
        label = next(i for i in range(4) if head[i * SECTOR:i * SECTOR + 8] == LABEL) * SECTOR
        pv_header = label + struct.unpack_from("<I", head, label + 20)[0]
        pos = pv_header + 32 + 8
        data_start = struct.unpack_from("<Q", head, pv_header + 32)[0]
        while struct.unpack_from("<Q", head, pos)[0]:
            pos += 16
        pos += 16
        mda = struct.unpack_from("<Q", head, pos)[0]
        meta = read(mda, SECTOR)
        if meta[4:20] != MDA_MAGIC:
            return None
        offset, size = struct.unpack_from("<QQ", meta, 40)
        if size > MAX_METADATA:
            return None
        return read(mda + offset, size).rstrip(b"\0").decode("utf-8", "replace"), data_start
    except (IOError, OSError, RuntimeError, StopIteration, struct.error, ValueError, AttributeError, TypeError,
            OverflowError, MemoryError):  # RecursionError is a RuntimeError: metadata nested without end
        return None


def _tokens(text: str) -> Iterator[str]:
    return iter(re.findall(r'"(?:[^"\\]|\\.)*"|[{}\[\]=,]|[^\s{}\[\]=,"#]+|#[^\n]*', text))


def _parse(text: str, data_start: int) -> dict[str, int]:
    tree = _tree(_tokens(text))
    group = next((v for v in tree.values() if isinstance(v, dict)), {})
    extent = int(group.get("extent_size", 0)) * SECTOR
    pvs = group.get("physical_volumes", {})
    out: dict[str, int] = {}
    for name, lv in (group.get("logical_volumes") or {}).items():
        seg = lv.get("segment1") if isinstance(lv, dict) else None
        stripes = seg.get("stripes") if isinstance(seg, dict) else None
        if not extent or not isinstance(stripes, list) or len(stripes) < 2:
            continue
        pv = pvs.get(stripes[0], {})
        pe_start = int(pv.get("pe_start", 0)) * SECTOR or data_start
        out[name] = pe_start + int(stripes[1]) * extent
    return out


def _tree(tokens: Iterator[str]) -> dict[str, Any]:
    """LVM's metadata syntax: `name { … }`, `key = value`, `key = [ a, b ]`, `# comments`."""
    out: dict[str, Any] = {}
    for tok in tokens:
        if tok == "}":
            return out
        if tok.startswith("#"):
            continue
        nxt = next(tokens, None)
        if nxt == "{":
            out[tok] = _tree(tokens)
        elif nxt == "=":
            value = next(tokens, "")
            if value == "[":
                items: list[Any] = []
                for item in tokens:
                    if item == "]":
                        break
                    if item != ",":
                        items.append(_value(item))
                out[tok] = items
            else:
                out[tok] = _value(value)
    return out


def _value(tok: str) -> Any:
    if tok.startswith('"'):
        return tok[1:-1]
    try:
        return int(tok)
    except ValueError:
        return tok
