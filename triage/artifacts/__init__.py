"""Phone-artifact parsers (SMS, calls, contacts, chats, history…): one module a parser.

A parser is a subclass of `Artifact` with declarative class attributes, as xLEAPP modules and plaso
parsers are: `NAME`, `VERSION`, `APP`, `PATTERNS` (globs over the paths `dalil parse` lists, `*`
crossing `/`), optionally `ALSO` (other files it reads through `ctx.find`, e.g. WhatsApp's `wa.db`
beside `msgstore.db`), `FORMAT` (`sqlite`, `plist` or `bytes`: checked before it runs) and `TABLES`
(sets of tables that together identify its database where no path can: a database carved from
unallocated space, `dalil parse --carve`, has none). Its one
method, `parse(ctx)`, yields records (`records.Message`, `Call`, `Contact`, `Item`). Subclassing
registers it; a second class with the same NAME fails at import. Parsers live in the `android` and
`ios` subpackages and are found automatically.

Parsers never open evidence: the walk hands matching files (with their `-wal` and `-journal`) to
`collect.Collector`, which copies them into a private work folder; `ctx.file.sqlite()` opens that
copy read-only, and `ctx.file.recovered()` gives rows recovered from its free space.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterator

if TYPE_CHECKING:
    from .context import Context
    from .records import Record

_REGISTRY: dict[str, type["Artifact"]] = {}
SUBPACKAGES = ("android", "ios")


class Artifact:
    """Base class: set NAME, VERSION, APP and PATTERNS; implement `parse`."""

    NAME: ClassVar[str] = ""
    VERSION: ClassVar[str] = ""
    APP: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    PATTERNS: ClassVar[tuple[str, ...]] = ()
    ALSO: ClassVar[tuple[str, ...]] = ()
    FORMAT: ClassVar[str] = "sqlite"
    TABLES: ClassVar[tuple[tuple[str, ...], ...]] = ()  # any one set, all its tables present: this app's database

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.NAME or not cls.VERSION or not cls.PATTERNS:
            raise TypeError(f"artifact parser {cls.__qualname__} needs NAME, VERSION and PATTERNS")
        existing = _REGISTRY.get(cls.NAME)
        if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
            raise RuntimeError(f"artifact parser name {cls.NAME!r} registered twice: "
                               f"{existing.__module__}.{existing.__qualname__} and {cls.__module__}.{cls.__qualname__}")
        _REGISTRY[cls.NAME] = cls

    def parse(self, ctx: "Context") -> Iterator["Record"]:
        raise NotImplementedError


def load() -> dict[str, type[Artifact]]:
    """Import every parser module (registering its parsers) and return the registry, by name."""
    for sub in SUBPACKAGES:
        package = importlib.import_module(f"{__name__}.{sub}")
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))


def source_sha256(cls: type[Artifact]) -> str:
    return hashlib.sha256(Path(inspect.getfile(cls)).read_bytes()).hexdigest()


def registry() -> list[dict[str, str]]:
    """[{name, version, app, sha256}] of every parser, for the tool manifest."""
    return [{"name": name, "version": cls.VERSION, "app": cls.APP, "sha256": source_sha256(cls)}
            for name, cls in load().items()]
