"""Per-file analysers (hashes, type, EXIF, YARA, entropy, hash sets, indicators), one module each.

A plugin is a subclass of `Analyzer` with `NAME`, `VERSION` (and optionally `ORDER`) and one
method, `analyse(blob) -> dict` of `files` columns. Subclassing registers it; a second class with
the same NAME fails at import. `registry()` gives name, version and the SHA-256 of each
analyser's source file for the tool manifest. Analysers get bytes and a locator (`Blob`), never a
path, so the same code runs on raw, E01 or a phone extraction folder.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import pkgutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

CHUNK = 8 * 1024 * 1024
HEAD = 1024 * 1024

_REGISTRY: dict[str, type["Analyzer"]] = {}
_BESIDE: tuple[int, ThreadPoolExecutor] | None = None  # (pid, pool): a forked child makes its own


def beside() -> ThreadPoolExecutor:
    """A second thread for a large file's analysis (its MD5 beside SHA-1 and SHA-256, every other YARA
    window): hashlib and libyara release the GIL, so the two use two cores when the workers leave one
    idle. One per process: a pool's thread does not survive a fork."""
    global _BESIDE
    if _BESIDE is None or _BESIDE[0] != os.getpid():
        _BESIDE = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="dalil-beside"))
    return _BESIDE[1]


@dataclass
class Settings:
    """What analysers need from the run: compiled rules, hash sets, region."""

    rules: Any = None
    known_good: frozenset[str] = frozenset()
    known_bad: frozenset[str] = frozenset()
    region: str = "LY"
    yara_timeout: int = 60
    prefilter_in_rules: bool = False  # `rules` also hold the text-indicators pre-filter (one scan for both)


@dataclass
class Blob:
    """One file's content: its head in memory, the rest read on demand through `reader`.

    `data` holds the whole content for small files; `reader(offset, length)` reads large ones.
    `found` accumulates the columns earlier analysers produced (and, under keys starting with
    `_`, what one analyser hands to a later one without it becoming a column).
    """

    locator: str
    name: str
    size: int
    head: bytes
    data: bytes | None = None
    reader: Callable[[int, int], bytes] | None = None
    found: dict[str, Any] = field(default_factory=dict)

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The content in pieces of at most `size` bytes (never all of a large file at once)."""
        if self.data is not None:
            for start in range(0, len(self.data), size):
                yield self.data[start:start + size]
            return
        if self.reader is None:
            yield self.head
            return
        offset = 0
        while offset < self.size:
            piece = self.reader(offset, min(size, self.size - offset))
            if not piece:
                raise IOError(f"read returned nothing at offset {offset}")
            yield piece
            offset += len(piece)

    @property
    def ext(self) -> str:
        stem, dot, ext = self.name.rpartition(".")
        return ext.lower() if dot and stem and len(ext) <= 10 else ""


class Analyzer:
    """Base class: set NAME and VERSION, implement `analyse`."""

    NAME: ClassVar[str] = ""
    VERSION: ClassVar[str] = ""
    ORDER: ClassVar[int] = 50
    FILES: ClassVar[tuple[Path, ...]] = ()  # data files it reads (their SHA-256 go into the manifest too)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.NAME or not cls.VERSION:
            raise TypeError(f"analyser {cls.__qualname__} needs NAME and VERSION")
        existing = _REGISTRY.get(cls.NAME)
        if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
            raise RuntimeError(f"analyser name {cls.NAME!r} registered twice: "
                               f"{existing.__module__}.{existing.__qualname__} and {cls.__module__}.{cls.__qualname__}")
        _REGISTRY[cls.NAME] = cls

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def manifest(cls) -> dict[str, Any]:
        """What else the tool manifest must say of this analyser (a mode chosen at run time)."""
        return {}

    def prepare(self) -> None:
        """Build, in the process that forks the workers and before it does, what each worker would
        otherwise build for itself (they inherit it). Nothing by default."""

    def analyse(self, blob: Blob) -> dict[str, Any]:
        raise NotImplementedError


def load() -> dict[str, type[Analyzer]]:
    """Import every module of this package (registering its analysers) and return the registry."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].ORDER, kv[0])))


def _sha256_of(obj: Any) -> str:
    return hashlib.sha256(Path(inspect.getfile(obj)).read_bytes()).hexdigest()


def registry() -> list[dict[str, Any]]:
    """[{name, version, sha256[, files]}] of every analyser, for the tool manifest.

    Besides `Analyzer` subclasses, modules of this package that declare module-level NAME and
    VERSION (e.g. `indicators`, a library the analysers and the web collectors share) are listed.
    """
    out: list[dict[str, Any]] = []
    for name, cls in load().items():
        entry: dict[str, Any] = {"name": name, "version": cls.VERSION, "sha256": _sha256_of(cls)}
        entry.update(cls.manifest())
        if cls.FILES:
            entry["files"] = [{"path": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in cls.FILES]
        out.append(entry)
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        mod_name, mod_version = getattr(module, "NAME", None), getattr(module, "VERSION", None)
        if isinstance(mod_name, str) and isinstance(mod_version, str) and mod_name not in {o["name"] for o in out}:
            out.append({"name": mod_name, "version": mod_version, "sha256": _sha256_of(module)})
    return out


def build(settings: Settings, names: set[str] | None = None) -> list[Analyzer]:
    """Instances of the registered analysers (all, or those named), in their order."""
    return [cls(settings) for name, cls in load().items() if names is None or name in names]
