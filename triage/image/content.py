"""Reading one listed file's bytes back from its exhibit, through the walkers `dalil export` uses
(TSK for images, the logical walkers for zip, tar and folders): for previews and thumbnails in the
browser and the portable viewer. Evidence is only ever opened for reading."""

from __future__ import annotations

import os
import re
from typing import Any, Generator

import pytsk3

from ..core.case import Case
from ..core.errors import DalilError, NotFound, Unsupported
from ..core.evidence import get
from . import layers, walkers
from .container import open_image
from .encryption import VolumeKeys
from .export import _run_tz
from .walk import Entry, numbered, walk_fs


def _candidates(case: Case, row: dict[str, Any]) -> Generator[Entry, None, None]:
    """Entries of the row's exhibit; for a disk image only the row's file system is walked."""
    exhibit = row["exhibit"]
    path = get(case, exhibit).absolute_path(case)
    tz = _run_tz(case, exhibit)
    kind = walkers.kind_of(path)
    if kind is not None:  # zip, tar, folder, iTunes backup, .ab: walked as parse walks them
        try:
            opened = walkers.open_container(path, kind, os.environ.get("DALIL_BACKUP_PASSWORD"))
        except DalilError as exc:  # an encrypted backup without its password
            raise Unsupported(f"{exhibit} cannot be read back: {exc}") from exc
        with walkers.walk_exhibit(path, opened, None, tz, lambda loc, msg: None, exhibit, case.root) as entries:
            yield from entries
        return
    source = open_image(path)
    layer = layers.find(source.img, source.size, VolumeKeys.build(), int(row["partition"]), row.get("snapshot"))
    if layer is not None and layer.entries is not None:  # APFS: its own walker
        yield from layer.entries(tz, lambda loc, msg: None)
        return
    img, at = (layer.img, layer.at) if layer is not None else (source.img, int(row["partition"]))
    try:
        fs = pytsk3.FS_Info(img, offset=at)
    except (IOError, OSError, RuntimeError) as exc:
        raise Unsupported(f"file system at offset {row['partition']} of {exhibit} cannot be opened: {exc}") from exc
    for entry in walk_fs(fs, int(row["partition"]), tz, lambda loc, msg: None):
        entry.snapshot = row.get("snapshot")
        yield entry


def read(case: Case, row: dict[str, Any], offset: int = 0, length: int = 4096) -> bytes:
    """Up to `length` bytes at `offset` of the file a `files` row lists (b"" past its end)."""
    if not row.get("size") or offset >= int(row["size"]):
        return b""
    length = min(length, int(row["size"]) - offset)
    attr = row["attr"]
    if row.get("snapshot"):  # parse numbered repeats over the whole exhibit (`#n`, walk.numbered: the files
        attr = re.sub(r"#\d+$", "", attr)  # table's old UNIQUE lacks the view); only the view is walked here
    key = (row["partition"], row["path"], row["inode"], attr)
    walk = _candidates(case, row)
    try:
        for entry in numbered(walk):
            if (entry.partition, entry.path, entry.inode, entry.attr) != key:
                continue
            if entry.file is None:
                raise NotFound(f"{row['path']}: no content to read ({entry.note or 'not a regular file'})")
            out = bytearray()
            while len(out) < length:
                piece = entry.read(offset + len(out), min(4 * 1024 * 1024, length - len(out)))
                if not piece:
                    break
                out += piece
            return bytes(out)
    finally:
        walk.close()  # the walk's image or archive handles are released at once
    raise NotFound(f"{row['path']} not found on re-reading exhibit {row['exhibit']}")
