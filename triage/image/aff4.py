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
    try:
        with open_readonly(path) as fh, zipfile.ZipFile(fh) as zf:
            names = set(zf.namelist())
            comment = zf.comment
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return comment.startswith(b"aff4://") or "information.turtle" in names or (
        "container.description" in names and "version.txt" in names)


def refuse(path: Path) -> Unsupported:
    return Unsupported(f"{path.name} is an AFF4 image (a zip of compressed image chunks, not an extraction): "
                       "Dalil cannot read AFF4; export the disk to raw or E01 with an AFF4 tool (e.g. "
                       "`aff4imager --export` or pyaff4 in an environment of its own) and parse that")
