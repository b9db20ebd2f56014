"""Images shorter than what they hold says: a partition past the image's end, a file system larger
than what is left of the image, a virtual disk whose container cannot be read to its end.

Such a volume is still listed (what lies in the image is evidence), with status `truncated`, a
warning and a gap in the report: never a silent listing with fewer files. For a split raw set
the message names the segment that would follow the last one found (a missing last segment
leaves no gap in the names, so only the sizes tell).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .container import ImageSource, _split_scheme
from .walk import Volume


def volume_shortfall(source: ImageSource, vol: Volume) -> str | None:
    """Why `vol` (from the volume table) does not fit in the image, or None when it does."""
    end = vol.offset + vol.length
    if vol.scheme == "none" or end <= source.size:
        return None
    if vol.offset >= source.size:
        return (f"the volume table puts this partition at bytes {vol.offset:,}–{end:,}, past the image's end at "
                f"{source.size:,}: none of it is in the image{_hint(source)}")
    return (f"the volume table says this partition ends at byte {end:,}, the image ends at {source.size:,}: "
            f"its last {end - source.size:,} bytes are missing{_hint(source)}")


def fs_shortfall(source: ImageSource, fs: Any) -> str | None:
    """Why the file system `fs` is larger than what the image holds of it (TSK's last_block_act:
    the last block the image really has), or None."""
    info = fs.info
    last, actual, block = int(info.last_block), int(info.last_block_act), int(info.block_size)
    if actual >= last or block <= 0:
        return None
    declared, present = (last + 1) * block, (actual + 1) * block
    return (f"the file system declares {declared:,} bytes, the image holds {max(present, 0):,} of them "
            f"({declared - present:,} bytes missing): files in the missing part are listed without content "
            f"or not at all{_hint(source)}")


def container_shortfall(source: ImageSource) -> str | None:
    """A virtual disk that cannot be read to its end (see virtual._check_readable)."""
    reason = getattr(source.img, "truncated", None)
    if not reason:
        return None
    return f"the {source.format} container is damaged or cut short: {reason}"


def _hint(source: ImageSource) -> str:
    """For a split raw set: the segment that would come next (a missing last segment)."""
    if source.format not in ("split-raw", "raw") or not source.segments:
        return ""
    last = Path(source.segments[-1])
    found = _split_scheme(last)
    if found is None:
        return ""
    scheme, index = found
    return (f"; the split image has {len(source.segments)} segment(s) ending with {last.name}: "
            f"is segment {scheme.name(index + 1)} missing?")


def mark(part: dict[str, Any], message: str) -> None:
    """Set the `partitions` row to `truncated` (an earlier, graver status such as `partial` keeps its
    place; the truncation is added to its message)."""
    if part.get("status") in (None, "parsed"):
        part["status"], part["message"] = "truncated", message
    else:
        part["message"] = f"{part.get('message') or part['status']}; truncated: {message}"


EXTENDED_TYPES = {0x05, 0x0F, 0x85}


def primary_partitions(img: Any, size: int) -> list[Volume]:
    """The four primary entries of an MBR, read by hand, when libtsk refused the volume system
    because part of it (an extended table) lies past the end of a cut image. Used only when the
    sector is a plausible MBR (0x55AA, status bytes 0x00/0x80, no entry starting at sector 0) and
    at least one entry reaches past the image's end: a truncated disk, not a damaged table."""
    try:
        sector = img.read(0, 512)
    except (IOError, OSError):
        return []
    if len(sector) < 512 or sector[510:512] != b"\x55\xaa":
        return []
    found = []
    for index in range(4):
        entry = sector[446 + 16 * index: 462 + 16 * index]
        status, kind = entry[0], entry[4]
        start, count = int.from_bytes(entry[8:12], "little"), int.from_bytes(entry[12:16], "little")
        if status not in (0x00, 0x80):
            return []
        if kind == 0 or count == 0:
            continue
        if start == 0:
            return []
        desc = f"DOS Extended (0x{kind:02x})" if kind in EXTENDED_TYPES else f"type 0x{kind:02x}"
        found.append(Volume(start * 512, count * 512, f"000:{index:03d}", desc, "mbr"))
    if not any(v.offset + v.length > size for v in found):
        return []
    return found


def volumes_of_cut_disk(img: Any, size: int, found: list[Volume]) -> list[Volume]:
    """`found` (walk.volumes' answer) or, where libtsk saw no volume system and no file system at
    offset 0 but the first sector is an MBR reaching past the image's end, its primary partitions."""
    if len(found) != 1 or found[0].scheme != "none":
        return found
    import pytsk3

    try:
        pytsk3.FS_Info(img, offset=0)
        return found
    except (IOError, OSError, RuntimeError):
        pass
    return primary_partitions(img, size) or found
