"""One way from an exhibit to its entries, for `parse` and `export` alike.

`kind_of` says what a path holds: a logical extraction (`directory`, `zip`, `tar`), a phone backup
(`itunes-backup`: a folder with `Manifest.db`; `android-backup`: an `adb backup` file), or None for a
disk image. `open_container` does what can fail before any entry is listed (a backup's header, its
password), so a wrong password stops the command before anything is registered or recorded.
`walk_exhibit` then yields the entries, and removes what it made when the caller is done reading
(so the caller drains its readers inside the `with`).

What a container needs on disk (a decoded `.ab` payload, a copy of `Manifest.db`, decrypted for
an encrypted backup) goes into a private folder of the case, `CASE/.work/<kind>-XXXX/` (0700),
removed afterwards; never beside the evidence. Runs that use it hold the case lock, so a folder
left there by a run that died (a crash, a kill) is removed by the next one.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import pytsk3

from ..core.errors import Corrupted, UsageError
from ..core.hashing import open_readonly
from . import adb, aff4, itunes, layers, logical, shadow
from .container import ImageSource
from .encryption import VolumeKeys
from .virtual import sniff_virtual
from .walk import Entry, Volume, fs_name, volumes, walk_fs

WORK = ".work"
Warn = Callable[[str, str], None]


def kind_of(path: Path) -> str | None:
    """'directory', 'zip', 'tar', 'itunes-backup', 'android-backup', or None (a disk image, a sparse
    bundle among them). An AFF4 image (a zip) is refused here: read as a zip it would list its chunks."""
    kind = logical.kind_of(path)
    if kind == "directory" and sniff_virtual(path) == "sparsebundle":
        return None
    if kind == "zip" and aff4.is_aff4(path):
        raise aff4.refuse(path)
    if kind == "directory" and itunes.is_backup(path):
        return "itunes-backup"
    if kind is None and path.is_file():
        with open_readonly(path) as fh:
            if adb.is_backup(fh.read(len(adb.MAGIC))):
                return "android-backup"
    return kind


@dataclass
class Opened:
    """A container checked and unlocked, ready to walk."""

    kind: str | None
    password_given: bool = False
    backup: itunes.Backup | None = None
    header: adb.Header | None = None
    keys: adb.Keys | None = None
    decoded: adb.Decoded | None = None
    volume_keys: VolumeKeys | None = None  # keys for encrypted volumes of a disk image (memory only)

    @property
    def encrypted(self) -> bool:
        return bool((self.backup and self.backup.encrypted) or (self.header and self.header.encrypted))

    def describe(self) -> dict[str, Any]:
        """For the `parsed` ledger entry: the container and whether a password was used (never the password)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.backup is not None:
            out.update(self.backup.describe())
        if self.header is not None:
            out.update(encrypted=self.header.encrypted, **self.header.describe())
        if self.decoded is not None:
            out["decoded_tar"] = {"size": self.decoded.size, "sha256": self.decoded.sha256}
        out["password_given"] = self.password_given
        if self.volume_keys is not None and self.volume_keys.given:
            out["volume_keys_given"] = self.volume_keys.describe()
        return out


def open_container(path: Path, kind: str | None, password: str | None,
                   volume_keys: VolumeKeys | None = None) -> Opened:
    """Read a backup's header and unlock it: a usage error without a password it needs,
    WrongPassword with a wrong one, Corrupted for a damaged header."""
    opened = Opened(kind, password_given=bool(password))
    if kind is None:
        opened.volume_keys = volume_keys or VolumeKeys.build(password)
    if kind == "itunes-backup":
        opened.backup = itunes.open_backup(path, password)
    elif kind == "android-backup":
        opened.header = adb.read_header(path)
        opened.keys = adb.unlock(path, opened.header, password)
    return opened


class VolumeLog(Protocol):
    """What happens to each volume of a disk image (parse records partitions; export only warns)."""

    def opened(self, vol: Volume, fs: Any) -> None: ...

    def unreadable(self, vol: Volume, exc: Exception, img: Any = None, at: int | None = None,
                   note: str | None = None) -> None: ...

    def stopped(self, vol: Volume, exc: Exception) -> None: ...

    def noted(self, vol: Volume, status: str, fs_type: str | None, message: str | None) -> None: ...


class QuietVolumes:
    """Export's log: a volume without a file system is skipped; a listing cut short is a warning."""

    def __init__(self, warn: Warn, exhibit: str) -> None:
        self.warn, self.exhibit = warn, exhibit

    def opened(self, vol: Volume, fs: Any) -> None:
        pass

    def unreadable(self, vol: Volume, exc: Exception, img: Any = None, at: int | None = None,
                   note: str | None = None) -> None:
        pass

    def stopped(self, vol: Volume, exc: Exception) -> None:
        self.warn(f"{self.exhibit}@{vol.offset}", f"export: listing stopped early: {exc}")

    def noted(self, vol: Volume, status: str, fs_type: str | None, message: str | None) -> None:
        pass


def located(warn: Warn, where: str) -> Warn:
    """`warn` with locations written as parse writes them (`EXH:/path`, `EXH@offset:/path`)."""
    return lambda loc, msg: warn(f"{where}:{loc}", msg)


class Carving(Protocol):
    """What carves a disk image: each file system's free space after its walk, then the space
    outside the partitions (`carve.Carver`)."""

    def filesystem(self, vol: Volume, fs: Any) -> Iterator[Entry]: ...

    def unpartitioned(self, volumes: list[Volume], vs_type: str) -> Iterator[Entry]: ...


@contextmanager
def walk_exhibit(path: Path, opened: Opened, source: ImageSource | None, tz: str, warn: Warn, exhibit: str,
                 case_root: Path, log: VolumeLog | None = None,
                 carver: Carving | None = None) -> Iterator[Iterator[Entry]]:
    """The exhibit's entries (a disk image's carved files too, given a `carver`); what was made to
    read them is removed when the `with` ends."""
    on_error = located(warn, exhibit)
    kind = opened.kind
    if kind is None:
        if source is None:
            raise ValueError("a disk image needs its opened source")
        yield _image(source, tz, warn, exhibit, log or QuietVolumes(warn, exhibit), opened.volume_keys, carver)
    elif kind == "zip":
        yield logical.walk_zip(path, tz, on_error)
    elif kind == "tar":
        yield logical.walk_tar(path, on_error)
    elif kind == "directory":
        yield logical.walk_dir(path, on_error)
    elif kind == "itunes-backup":
        assert opened.backup is not None
        with work_folder(case_root, kind) as work:
            yield itunes.walk_backup(opened.backup, work, on_error)
    elif kind == "android-backup":
        assert opened.header is not None
        with work_folder(case_root, kind) as work:
            tar = work / f"{path.name}.tar"
            decoded = opened.decoded = adb.decode(path, opened.header, opened.keys, tar)
            if decoded.problem and not decoded.size:
                raise Corrupted(f"Android backup {path.name}: {decoded.problem}: nothing could be decoded")
            if decoded.problem:
                on_error(path.name, f"Android backup payload: {decoded.problem}; the {decoded.size:,} "
                                    "bytes of tar decoded before it are listed")
            yield logical.walk_tar(tar, on_error) if decoded.size else iter(())
    else:
        raise ValueError(f"unknown exhibit kind {kind!r}")


def _image(source: ImageSource, tz: str, warn: Warn, exhibit: str, log: VolumeLog,
           keys: VolumeKeys | None = None, carver: Carving | None = None) -> Iterator[Entry]:
    live = shadow.Live()  # what a volume with shadow copies listed, to keep only what its stores change
    for layer in layers.expand(source.img, source.size, keys or VolumeKeys()):
        vol = layer.vol
        for gap in layer.warnings:
            warn(f"{exhibit}@{vol.offset}", gap)
        if not layer.walk:
            log.noted(vol, layer.status or "parsed", layer.fs_type, layer.message)
            continue
        if layer.entries is not None:  # a file system read by its own library (APFS)
            log.noted(vol, layer.status or "parsed", layer.fs_type, layer.message)
            where = f"{exhibit}@{vol.offset}" + (f"[{vol.snapshot}]" if vol.snapshot else "")
            entries = layer.entries(tz, located(warn, where))
            if vol.snapshot:  # an APFS snapshot: only what differs from the live volume
                entries = live.differing(vol.offset, vol.snapshot, entries)
            elif layer.stores:
                entries = live.remember(vol.offset, entries)
            try:
                yield from entries
            except Exception as exc:  # a damaged file system: keep what was listed, disclose the gap
                log.stopped(vol, exc)
            continue
        try:
            fs = pytsk3.FS_Info(layer.img, offset=layer.at)
        except (IOError, OSError, RuntimeError) as exc:
            log.unreadable(vol, exc, layer.img, layer.at, layer.message)  # keeps "opened with …"
            continue
        log.opened(vol, fs)
        if layer.status or layer.message:
            log.noted(vol, layer.status or "parsed", None, layer.message)
        where = f"{exhibit}@{vol.offset}" + (f"[{vol.snapshot}]" if vol.snapshot else "")
        entries = walk_fs(fs, vol.offset, tz, located(warn, where))
        if vol.snapshot:
            entries = live.differing(vol.offset, vol.snapshot, entries)
        elif layer.stores:
            entries = live.remember(vol.offset, entries)
        to_go = layers.ToGoWatch() if vol.encrypted is None and fs_name(fs).startswith("FAT") else None
        if to_go is not None:
            entries = to_go.watch(entries)
        try:
            yield from entries
        except Exception as exc:  # a damaged file system: keep what was listed, disclose the gap
            log.stopped(vol, exc)
        if to_go is not None and to_go.seen:
            vol.encrypted = "bitlocker"
            log.noted(vol, "locked", None, to_go.message())
        if carver is not None and not layer.derived:
            yield from carver.filesystem(vol, fs)
        elif carver is not None and not vol.snapshot:  # its free space is not one run of the image: carving offsets would mislead
            warn(where, f"carving: the free space of {vol.scheme} volume {vol.description or vol.offset} "
                        "(read through a library, not at its place in the image) is not carved")
    if carver is not None:
        vs_type, found = volumes(source.img, source.size)
        yield from carver.unpartitioned(found, vs_type.lower())


@contextmanager
def work_folder(case_root: Path, label: str) -> Iterator[Path]:
    """A new private folder in `CASE/.work/` (0700), removed with its content afterwards."""
    base = case_root / WORK
    try:
        base.mkdir(mode=0o700)
    except FileExistsError:
        if not stat.S_ISDIR(base.lstat().st_mode):
            raise UsageError(f"{base} is not a folder: remove it (Dalil keeps temporary files there)") from None
        os.chmod(base, 0o700)
        for stale in base.iterdir():  # left by a run that died: the case lock says none is running
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink()
    work = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=base))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        try:
            base.rmdir()
        except OSError:
            pass
