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
