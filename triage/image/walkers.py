"""One way from an exhibit to its entries, for `parse` and `export` alike.

`kind_of` says what a path holds: a logical extraction (`directory`, `zip`, `tar`), or None for a
disk image. `open_container` does what can fail before any entry is listed. `walk_exhibit` then
yields the entries, and releases what it holds when the caller is done reading (so the caller
drains its readers inside the `with`).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import pytsk3

from . import logical
from .container import ImageSource
from .walk import Entry, Volume, volumes, walk_fs

Warn = Callable[[str, str], None]


def kind_of(path: Path) -> str | None:
    """'directory', 'zip', 'tar', or None (a disk image)."""
    return logical.kind_of(path)


@dataclass
class Opened:
    """A container checked, ready to walk."""

    kind: str | None


def open_container(path: Path, kind: str | None) -> Opened:
    """What can fail before the walk (nothing yet for extractions and images)."""
    return Opened(kind)


class VolumeLog(Protocol):
    """What happens to each volume of a disk image (parse records partitions; export only warns)."""

    def opened(self, vol: Volume, fs: Any) -> None: ...

    def unreadable(self, vol: Volume, exc: Exception) -> None: ...

    def stopped(self, vol: Volume, exc: Exception) -> None: ...


class QuietVolumes:
    """Export's log: a volume without a file system is skipped; a listing cut short is a warning."""

    def __init__(self, warn: Warn, exhibit: str) -> None:
        self.warn, self.exhibit = warn, exhibit

    def opened(self, vol: Volume, fs: Any) -> None:
        pass

    def unreadable(self, vol: Volume, exc: Exception) -> None:
        pass

    def stopped(self, vol: Volume, exc: Exception) -> None:
        self.warn(f"{self.exhibit}@{vol.offset}", f"export: listing stopped early: {exc}")


def located(warn: Warn, where: str) -> Warn:
    """`warn` with locations written as parse writes them (`EXH:/path`, `EXH@offset:/path`)."""
    return lambda loc, msg: warn(f"{where}:{loc}", msg)


@contextmanager
def walk_exhibit(path: Path, opened: Opened, source: ImageSource | None, tz: str, warn: Warn, exhibit: str,
                 case_root: Path, log: VolumeLog | None = None) -> Iterator[Iterator[Entry]]:
    """The exhibit's entries, to be read inside the `with`."""
    on_error = located(warn, exhibit)
    kind = opened.kind
    if kind is None:
        if source is None:
            raise ValueError("a disk image needs its opened source")
        yield _image(source, tz, warn, exhibit, log or QuietVolumes(warn, exhibit))
    elif kind == "zip":
        yield logical.walk_zip(path, tz, on_error)
    elif kind == "tar":
        yield logical.walk_tar(path, on_error)
    elif kind == "directory":
        yield logical.walk_dir(path, on_error)
    else:
        raise ValueError(f"unknown exhibit kind {kind!r}")


def _image(source: ImageSource, tz: str, warn: Warn, exhibit: str, log: VolumeLog) -> Iterator[Entry]:
    for vol in volumes(source.img, source.size)[1]:
        try:
            fs = pytsk3.FS_Info(source.img, offset=vol.offset)
        except (IOError, OSError, RuntimeError) as exc:
            log.unreadable(vol, exc)
            continue
        log.opened(vol, fs)
        try:
            yield from walk_fs(fs, vol.offset, tz, located(warn, f"{exhibit}@{vol.offset}"))
        except Exception as exc:  # a damaged file system: keep what was listed, disclose the gap
            log.stopped(vol, exc)
