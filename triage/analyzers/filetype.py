"""MIME type from the content (libmagic on what `file` reads of it) and an extension-mismatch flag.

libmagic runs over the system's database with, per buffer, the entries that provably cannot match it
switched off (`magicdb`): the same answer as `file --mime-type` (no difference on the shared corpus
nor on 59,528 Debian files, benchmarks/magic_equivalence.py) for a quarter of the CPU. DALIL_MAGIC=full
runs the whole database on every buffer instead. Where the pruning reader does not apply (another
libmagic, local magic files) the full database is used, with a warning.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import os
import threading
from typing import Any

import magic

from . import Analyzer, Blob, magicdb

log = logging.getLogger(__name__)

GENERIC = {"application/octet-stream", "inode/x-empty", "application/x-empty"}
ZIP_BASED = {"docx", "xlsx", "pptx", "odt", "ods", "odp", "jar", "apk", "epub", "kmz", "xpi", "ipa", "aar"}
EXTRA = {
    "jpg": {"image/jpeg"}, "jpeg": {"image/jpeg"}, "heic": {"image/heic", "image/heif"},
    "heif": {"image/heif", "image/heic"}, "db": {"application/vnd.sqlite3", "application/x-sqlite3"},
    "sqlite": {"application/vnd.sqlite3", "application/x-sqlite3"}, "gz": {"application/gzip", "application/x-gzip"},
    "tgz": {"application/gzip", "application/x-gzip"}, "7z": {"application/x-7z-compressed"},
    "rar": {"application/x-rar", "application/vnd.rar"}, "mp4": {"video/mp4", "video/quicktime"},
    "m4a": {"audio/mp4", "audio/x-m4a", "video/mp4"}, "opus": {"audio/ogg"}, "webp": {"image/webp"},
}
_local = threading.local()
_warned: list[str] = []


def _cookie() -> magic.Magic:
    """This thread's magic cookie (libmagic is not thread-safe) and what `file` reads of a file."""
    cookie = getattr(_local, "magic", None)
    if cookie is None:
        cookie = _local.magic = magic.Magic(mime=True)
        _local.bytes_max = int(cookie.getparam(magic.MAGIC_PARAM_BYTES_MAX))
        _local.engine = _engine()
    return cookie


def _engine() -> magicdb.Engine | None:
    """This thread's pruning engine, or None (the full database) where it does not apply."""
    if os.environ.get("DALIL_MAGIC", "pruned") == "full":
        return None
    path = magicdb.compiled_path()
    try:
        if path is None:
            raise ValueError("no single compiled database in libmagic's path (local magic files?)")
        return magicdb.Engine(path, remember=True)  # starts with the entries earlier runs needed
    except (OSError, ValueError, magic.MagicException) as exc:
        if not _warned:
            _warned.append(str(exc))
            log.warning("file types from libmagic's full database (slower): %s", exc)
        return None


def engine_name() -> str:
    """Which engine types files in this thread: "pruned" or "full"."""
    _cookie()
    return "full" if _local.engine is None else "pruned"


def bytes_max() -> int:
    """How much of a file `file` gives libmagic (MAGIC_PARAM_BYTES_MAX, 7 MiB in file 5.44)."""
    _cookie()
    return int(_local.bytes_max)


def mime_of(data: bytes) -> str:
    """libmagic's MIME type of a file's content, as `file --mime-type` gives it: of its first
    `bytes_max()` bytes (a JSON document is typed application/json only when libmagic sees all of it)."""
    cookie = _cookie()
    if not data:
        return "inode/x-empty"
    data = data if len(data) <= _local.bytes_max else data[:_local.bytes_max]
    engine = _local.engine
    return engine.mime(data) if engine is not None else str(cookie.from_buffer(data))


@functools.lru_cache(maxsize=4096)
def mismatch(ext: str, mime: str) -> bool | None:
    """True when the extension names a different type than the content; None when unknown."""
    if not ext or mime in GENERIC:
        return None
    expected = set(EXTRA.get(ext, set()))
    guessed = mimetypes.guess_type(f"x.{ext}", strict=False)[0]
    if guessed:
        expected.add(guessed)
    if not expected:
        return None
    if mime in expected:
        return False
    if ext in ZIP_BASED and mime in {"application/zip", "application/java-archive"}:
        return False
    main = mime.split("/")[0]
    if main == "text" and all(e.startswith("text/") or e.endswith(("xml", "json", "javascript", "x-sh",
                                                                    "x-python", "x-csh"))
                              for e in expected):
        return False
    if any(e.split("/")[1].replace("x-", "") == mime.split("/")[1].replace("x-", "") for e in expected):
        return False
    return True


class FileType(Analyzer):
    NAME = "filetype"
    VERSION = "1.4"  # 1.4: magicdb by default (the same MIME types), DALIL_MAGIC=full opts out
    ORDER = 30
    CACHE_MAX = 50_000  # per worker; `dalil parse` also shares the types of known content across workers

    @classmethod
    def manifest(cls) -> dict[str, Any]:
        """The manifest says which libmagic database typed the files: the full one or pruned copies."""
        return {"magic": engine_name()}

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._by_content: dict[str, str] = {}  # sha256 -> MIME: identical content gets libmagic once

    def prepare(self) -> None:
        """The engine (database copies, the Hyperscan scanners: about 0.06 s once they are cached) is
        built once before the workers fork; they inherit it."""
        _cookie()

    def analyse(self, blob: Blob) -> dict[str, Any]:
        digest = blob.found.get("sha256")
        mime = blob.found.get("_mime")  # the type of an identical content seen earlier in this run
        if mime is None and digest:
            mime = self._by_content.get(digest)
        if mime is None:
            mime = mime_of(blob.data if blob.data is not None else blob.head)
            if blob.data is None and blob.reader is not None and mime.startswith("text/"):
                # a large text file: its head is not what `file` reads (a JSON or CSV needs all of it)
                mime = mime_of(blob.reader(0, min(blob.size, bytes_max())))
            if digest and len(self._by_content) < self.CACHE_MAX:
                self._by_content[digest] = mime
        flag = mismatch(blob.ext, mime)
        return {"mime": mime, "ext_mismatch": None if flag is None else int(flag)}
