"""Output names for `dalil export`: safe components and a collision-free, length-bounded layout.

Every component a suspect named is sanitised for Linux and Windows (`..`, separators, control and
bidi characters, trailing dots and spaces, reserved device names, overlong names). Within a folder,
names are unique on a case-folded, NFC-normalised key, for files and folders alike, so a copy onto
a FAT or NTFS stick overwrites nothing; the first spelling is kept, the next ones get `~2`, `~3`.
Folders nested too deep for an output path are flattened into one folder named by a hash of their
full original path. Each export gets a folder of its own (`EXHIBIT`, or `EXHIBIT~2` when taken),
so nothing already in DIR is ever written into.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

from ..core.textsafe import hidden

MAX_NAME_BYTES = 200
MAX_DIR_BYTES = 768          # folders below DIR longer than this are flattened
PATH_LIMIT = 4095            # Linux PATH_MAX without the final NUL
SUFFIX_ROOM = 8              # room for a `~NNN` suffix
_DIGITS = "0123456789\u00b9\u00b2\u00b3"  # Windows also reserves COM¹, COM², COM³ (and LPT)
RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
            *(f"COM{d}" for d in _DIGITS), *(f"LPT{d}" for d in _DIGITS)}
FORBIDDEN = set('/\\:*?"<>|')


def _bad(ch: str) -> bool:
    return ch in FORBIDDEN or hidden(ch)  # controls, bidi, invisible characters: textsafe's one set


def safe_component(name: str) -> str:
    """One file-name component that is safe on Linux and Windows and cannot climb out of its folder."""
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if _bad(ch) else ch for ch in name).strip(" ")
    if set(name) == {"."}:
        return "_" + name.replace(".", "_")
    name = name.rstrip(". ")  # Windows drops trailing dots and spaces, all of them
    if not name:
        return "_"
    if name.split(".", 1)[0].rstrip(" ").upper() in RESERVED:  # `CON .txt` is CON too
        name = "_" + name
    return _shorten(name)


def _shorten(name: str, limit: int = MAX_NAME_BYTES) -> str:
    data = name.encode("utf-8")
    if len(data) <= limit:
        return name
    digest = hashlib.sha256(data).hexdigest()[:12]
    _stem, dot, ext = name.rpartition(".")
    ext = ext if dot and len(ext.encode()) <= 16 else ""
    keep = data[: limit - 40].decode("utf-8", "ignore")
    return f"{keep}~{digest}" + (f".{ext}" if ext else "")


def fold(name: str) -> str:
    """The key two names collide on (Windows, macOS): case-folded, NFC-normalised; and upper-cased
    as Windows compares (it makes dotless ı and i, which casefold keeps apart, both I)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold().upper())


def suffixed(name: str, n: int, is_dir: bool) -> str:
    """`name` with `~n`: before the extension for a file, at the end for a folder."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}~{n}.{ext}" if dot and stem and not is_dir else f"{name}~{n}"


def _flat_name(name: str, parts: tuple[str, ...]) -> str:
    """A short folder name for the too-deep folder `parts`: the start of its name and a hash of its whole path."""
    start = name.encode("utf-8")[:24].decode("utf-8", "ignore").rstrip(". ")
    return f"{start}~{hashlib.sha256('/'.join(parts).encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def _nbytes(path: Path) -> int:
    return len(os.fsencode(path))


class Layout:
    """Where each listed file goes under `out`: `BASE/p<partition>/<sanitised folders>/<name>`.

    Folders are created lazily (a failure is the failing file's, and the next file retries).
    Paths returned are relative to `out`.
    """

    def __init__(self, out: Path, exhibit: str) -> None:
        self.out = out
        self.budget = min(MAX_DIR_BYTES, PATH_LIMIT - _nbytes(out) - 1 - MAX_NAME_BYTES - 2 * SUFFIX_ROOM - 64)
        self.base = self._make_base(safe_component(exhibit))
        self.claimed: dict[Path, set[str]] = {}
        self.next_n: dict[tuple[Path, str, bool], int] = {}  # the next ~n to try for a name in a folder
        self.folders: dict[tuple[int | str, tuple[str, ...]], Path] = {}
        self.flat: dict[tuple[int | str, tuple[str, ...]], Path] = {}  # flattened folder -> the folder holding it
        self.made: set[Path] = {self.base}
        self.flattened = 0

    def _make_base(self, name: str) -> Path:
        """A new folder in `out` for this export, never one that exists (in any letter case)."""
        existing = {fold(n) for n in os.listdir(self.out)}
        n = 2
        candidate = name
        while True:
            if fold(candidate) not in existing:
                try:
                    os.mkdir(self.out / candidate)
                    return Path(candidate)
                except FileExistsError:
                    pass
            candidate, n = suffixed(name, n, True), n + 1

    def target(self, partition: int | str, parts: list[str]) -> Path:
        """The new file's path (relative to `out`), its folders created."""
        folder = self.folder(partition, tuple(parts[:-1]))
        self.ensure(folder)
        return folder / self.claim(folder, safe_component(parts[-1] if parts else "_"), is_dir=False)

    def folder(self, partition: int | str, parts: tuple[str, ...]) -> Path:
        """The output folder for the listed folder `parts` (not created)."""
        key = (partition, parts)
        if key in self.folders:
            return self.folders[key]
        if not parts:
            rel = self.base / f"p{partition}"
        else:
            parent_key = (partition, parts[:-1])
            parent = self.folder(partition, parts[:-1])
            name = safe_component(parts[-1])
            anchor = self.flat.get(parent_key)
            if anchor is None and _nbytes(parent / name) + SUFFIX_ROOM > self.budget:
                anchor = parent
            if anchor is not None:  # too deep: one folder per original folder, next to the others
                self.flat[key] = anchor
                self.flattened += 1
                name = _flat_name(name, parts)
                parent = anchor
            rel = parent / self.claim(parent, name, is_dir=True)
        self.folders[key] = rel
        return rel

    def claim(self, folder: Path, name: str, is_dir: bool) -> str:
        """`name`, or `name~2`, `name~3`...: the first whose case-folded key is free in `folder`."""
        taken = self.claimed.setdefault(folder, set())
        key = (folder, fold(name), is_dir)
        candidate, n = name, self.next_n.get(key, 2)  # go on from the last number given to this name
        while fold(candidate) in taken:
            candidate, n = suffixed(name, n, is_dir), n + 1
        self.next_n[key] = n
        taken.add(fold(candidate))
        return candidate

    def ensure(self, folder: Path) -> None:
        """Create `folder` and its parents below the base (all new: made by this export)."""
        if folder in self.made:
            return
        self.ensure(folder.parent)
        os.mkdir(self.out / folder)
        self.made.add(folder)
