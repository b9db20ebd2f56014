"""Content-addressed, write-once object store: `objects/<sha256[:2]>/<sha256>`, files read-only.

Objects are written to a temporary file while being hashed, fsync'd, made read-only, then
linked into place under their SHA-256 name. An object that already exists is never replaced.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from .errors import NotFound
from .hashing import Digests, hash_stream, iter_chunks, open_readonly

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


class ObjectStore:
    """The `objects/` folder of a case."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / ".tmp"
        # sha256 lines of objects linked in whose case.db row may not be committed yet: a command
        # killed in between leaves them, and the next one records them (Case.locked) instead of
        # verify taking them for objects added outside Dalil
        self.unrecorded = self.tmp / "unrecorded"

    def path_for(self, sha256: str) -> Path:
        sha256 = sha256.removeprefix("sha256:").lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def relpath(self, sha256: str) -> str:
        """Path of an object relative to the case directory (`objects/ab/ab…`)."""
        return str(Path("objects") / self.path_for(sha256).relative_to(self.root))

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_stream(
        self,
        stream: BinaryIO,
        progress: Callable[[int], object] | None = None,
        accept: Callable[[Digests], None] | None = None,
    ) -> tuple[Digests, bool]:
        """Copy `stream` in while hashing it; returns (digests, newly_stored).

        `accept` is called with the digests before the object is linked in; if it raises, the
        temporary copy is deleted and nothing is stored.
        """
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, tmpname = tempfile.mkstemp(dir=self.tmp, prefix="in-")
        tmp = Path(tmpname)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                digests = hash_stream(stream, sinks=[DurableWriter(out.fileno())], progress=progress)
                os.fsync(out.fileno())
            if accept is not None:
                accept(digests)
            os.chmod(tmp, READ_ONLY)
            final = self.path_for(digests.sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            if not final.exists():
                self._note_unrecorded(digests.sha256)
            try:
                os.link(tmp, final)
                created = True
            except FileExistsError:
                created = False
            _fsync_dir(final.parent)
            return digests, created
        finally:
            tmp.unlink(missing_ok=True)

    def _note_unrecorded(self, sha256: str) -> None:
        fd = os.open(self.unrecorded, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, sha256.encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def noted_unrecorded(self) -> list[str]:
        """The objects noted as linked in (see `unrecorded`); `forget_unrecorded` once recorded."""
        try:
            return self.unrecorded.read_text(encoding="ascii", errors="replace").split()
        except FileNotFoundError:
            return []

    def forget_unrecorded(self) -> None:
        self.unrecorded.unlink(missing_ok=True)

    def put_file(
        self, path: str | os.PathLike[str], progress: Callable[[int], object] | None = None,
        accept: Callable[[Digests], None] | None = None,
    ) -> tuple[Digests, bool]:
        with open_readonly(path) as src:
            return self.put_stream(src, progress, accept)

    def put_bytes(self, data: bytes) -> tuple[Digests, bool]:
        import io

        return self.put_stream(io.BytesIO(data))

    def open(self, sha256: str) -> BinaryIO:
        path = self.path_for(sha256)
        if not path.is_file():
            raise NotFound(f"object not in the case: sha256:{sha256}")
        return open_readonly(path)

    def iter_objects(self) -> Iterator[tuple[str, Path]]:
        """(name, path) of every file under objects/ except the temporary area, sorted."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.name == ".tmp" or not sub.is_dir():
                if sub.is_file():
                    yield sub.name, sub
                continue
            for obj in sorted(sub.iterdir()):
                yield obj.name, obj


class DurableWriter:
    """A copy sink that flushes to disk every `every` bytes, so the final fsync is short and the
    disk writes overlap the hashing instead of following it."""

    def __init__(self, fd: int, every: int = 64 * 1024 * 1024) -> None:
        self.fd = fd
        self.every = every
        self.pending = 0

    def __call__(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            view = view[os.write(self.fd, view):]
        self.pending += len(chunk)
        if self.pending >= self.every:
            os.fdatasync(self.fd)
            self.pending = 0


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


