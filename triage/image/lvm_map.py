"""Logical volumes read from the volume group's text metadata when libvslvm cannot: a group that
spans several physical volumes of which this image holds one, or a group with a logical volume type
libvslvm refuses (thin pools). Each visible LV's segments are mapped to extents of this PV:
linear/striped segments with one stripe directly, `mirror` and `raid1` through the first leg that
lies wholly on this PV (each leg is a full copy). Whatever lies on another PV, or is of another
type (thin, striped over several stripes, RAID 4/5/6, cache, snapshots), is named with the reason,
never read as if it were there.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from .encryption import Read

SECTOR = 512
MAX_DEPTH = 4     # an LV made of sub-LVs (mirror legs) made of sub-LVs: deeper is a crafted loop
MAX_RUNS = 65536  # segments mapped per LV at most (lvm writes a handful)


@dataclass
class Group:
    """The parsed metadata of the group and which of its PVs this image is."""

    name: str
    tree: dict[str, Any]
    this_pv: str | None                      # the metadata's name for this PV (pv0, pv1, …)
    extent: int                              # bytes
    pvs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def others(self) -> list[str]:
        """The PVs of the group that are not this image, named with the device lvm last saw them on."""
        return [f"{name} ({pv.get('device_id') or pv.get('device') or pv.get('id')})"
                for name, pv in sorted(self.pvs.items()) if name != self.this_pv]

    def lvs(self) -> dict[str, dict[str, Any]]:
        lvs = self.tree.get("logical_volumes")
        return {k: v for k, v in lvs.items() if isinstance(v, dict)} if isinstance(lvs, dict) else {}

    def visible(self) -> list[str]:
        return [name for name, lv in self.lvs().items() if "VISIBLE" in (lv.get("status") or [])]


class Unmapped(Exception):
    """Why an LV cannot be read from this PV (one line)."""


def group(tree: dict[str, Any], pv_uuid: str | None) -> Group | None:
    name, body = next(((k, v) for k, v in tree.items() if isinstance(v, dict)), (None, None))
    if name is None or body is None:
        return None
    pvs = {k: v for k, v in (body.get("physical_volumes") or {}).items() if isinstance(v, dict)}
    this = next((k for k, v in pvs.items() if str(v.get("id", "")).replace("-", "") == pv_uuid), None)
    return Group(name, body, this, int(body.get("extent_size", 0) or 0) * SECTOR, pvs)


def runs(grp: Group, lv_name: str, depth: int = 0) -> list[tuple[int, int, int]]:
    """(offset in the LV, length, offset in this PV) of every segment of `lv_name`, or Unmapped."""
    if depth > MAX_DEPTH:
        raise Unmapped("its sub-volumes nest deeper than lvm makes them")
    lv = grp.lvs().get(lv_name)
    if lv is None:
        raise Unmapped(f"its sub-volume {lv_name} is not in the metadata")
    if not grp.extent:
        raise Unmapped("the volume group's extent size is missing")
    out: list[tuple[int, int, int]] = []
    for key, seg in sorted(((k, v) for k, v in lv.items() if k.startswith("segment") and isinstance(v, dict)),
                           key=lambda kv: int(kv[1].get("start_extent", 0))):
        start, count = int(seg.get("start_extent", 0)) * grp.extent, int(seg.get("extent_count", 0)) * grp.extent
        kind = str(seg.get("type", ""))
        if kind == "striped":
            out.append((start, count, _on_this_pv(grp, seg, count)))
        elif kind in ("mirror", "raid1"):
            out.extend((start + inner, length, at) for inner, length, at in _first_leg(grp, seg, kind, depth))
        else:
            raise Unmapped(f"a {kind or 'typeless'} segment ({_KINDS.get(kind, 'not read by Dalil')})")
        if len(out) > MAX_RUNS:
            raise Unmapped("more segments than lvm writes")
    return out


_KINDS = {"thin": "thin-provisioned: its blocks are mapped by the pool's metadata, which Dalil does not read",
          "thin-pool": "a thin pool", "cache": "a cached volume", "snapshot": "an old-style snapshot",
          "raid5": "RAID 5 parity", "raid6": "RAID 6 parity", "raid4": "RAID 4 parity", "raid10": "RAID 10"}


def _on_this_pv(grp: Group, seg: dict[str, Any], count: int) -> int:
    stripes = seg.get("stripes")
    if int(seg.get("stripe_count", 1)) != 1 or not isinstance(stripes, list) or len(stripes) != 2:
        raise Unmapped("striped over several physical volumes or stripes (not read by Dalil)")
    pv_name, pe = stripes[0], int(stripes[1])
    if pv_name != grp.this_pv:
        pv = grp.pvs.get(str(pv_name), {})
        raise Unmapped(f"its extents are on {pv_name} ({pv.get('device_id') or pv.get('device') or '?'}), "
                       "not in this image")
    pe_start = int(grp.pvs[pv_name].get("pe_start", 0)) * SECTOR
    return pe_start + pe * grp.extent


def _first_leg(grp: Group, seg: dict[str, Any], kind: str, depth: int) -> list[tuple[int, int, int]]:
    legs = seg.get("mirrors") if kind == "mirror" else seg.get("raids")
    names = [x for x in (legs or []) if isinstance(x, str)]
    if kind == "raid1":  # [rmeta_0, rimage_0, rmeta_1, rimage_1, …]: the images are the copies
        names = [n for n in names if "_rimage_" in n]
    reasons = []
    for name in names:
        try:
            return runs(grp, name, depth + 1)
        except Unmapped as exc:
            reasons.append(f"{name}: {exc}")
        except (ValueError, TypeError, KeyError, OverflowError):  # numbers that are not numbers
            reasons.append(f"{name}: its metadata is malformed")
    raise Unmapped(f"no {kind} leg lies wholly in this image ({'; '.join(reasons) or 'no legs listed'})")


def pv_uuid(read: Read) -> str | None:
    """This PV's UUID from its label (32 characters, as the metadata writes it without dashes)."""
    head = read(0, 4 * SECTOR)
    for i in range(4):
        label = i * SECTOR
        if head[label:label + 8] == b"LABELONE":
            pv_header = label + struct.unpack_from("<I", head, label + 20)[0]
            return head[pv_header:pv_header + 32].decode("ascii", "replace")
    return None
