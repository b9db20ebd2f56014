"""AFF4 images are recognised and refused with one clear line.

An AFF4 (Standard v1) container is a zip: its image stream is stored as compressed chunk
("bevy") members described by RDF in `information.turtle`, and the zip comment names the
volume (`aff4://…`). Read as a logical zip it would list those chunk files as evidence files and
none of the disk's (issue 16, defect 1). The field's reader, pyaff4 (0.34, the last release),
pins PyYAML 5.4, rdflib 4.2.2 and future 0.17.1: it does not build on this Python and conflicts
with Dalil's own PyYAML, so Dalil refuses the image and says how to convert it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..core.errors import Unsupported
from ..core.hashing import open_readonly

AFF4_MEMBERS = ("information.turtle", "information.yaml", "container.description", "version.txt")


def is_aff4(path: Path) -> bool:
    """Whether the zip at `path` is an AFF4 container (its metadata members or an `aff4://` comment)."""
    return kind(path) is not None


def kind(path: Path) -> str | None:
    """'AFF4 disk image', 'AFF4-L logical image', 'AFF4 container', or None for any other zip."""
    try:
        with open_readonly(path) as fh, zipfile.ZipFile(fh) as zf:
            names = set(zf.namelist())
            comment = zf.comment
            turtle = b""
            if "information.turtle" in names:  # its first MiB only: the member may be a zip bomb
                with zf.open("information.turtle") as member:
                    turtle = member.read(1 << 20)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError, NotImplementedError):
        return None
    if not (comment.startswith(b"aff4://") or turtle or {"container.description", "version.txt"} <= names):
        return None
    if b"aff4:ImageStream" in turtle or b"aff4:Map" in turtle or b"aff4:DiskImage" in turtle:
        return "AFF4 disk image"
    if b"aff4:FileImage" in turtle or b"aff4:LogicalImage" in turtle:
        return "AFF4-L logical image"
    return "AFF4 container"


def refuse(path: Path) -> Unsupported:
    what = kind(path) or "AFF4 container"
    return Unsupported(f"{path.name} is an {what}: its data are AFF4 streams described in information.turtle, "
                       "not plain zip members, and Dalil cannot read AFF4 (pyaff4 does not install on this "
                       "Python); export it to raw or E01 with an AFF4 tool (e.g. `aff4imager --export`) and "
                       "parse that")
