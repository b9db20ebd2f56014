"""Finding and compiling YARA rule files: all compiled before any image is opened.

`--rules` takes files or folders (may repeat) and replaces the default packs shipped in `rules/`.
A rule error names the file and line (ConfigError, exit 2). `rule_files()` lists the files with
their SHA-256 for the ledger and the tool manifest.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yara

from ..core.errors import ConfigError
from . import slow_strings

SUFFIXES = (".yar", ".yara")
EXTERNALS = {"filename": "", "filepath": "", "extension": "", "filetype": "", "owner": ""}


def default_rules_dir() -> Path:
    return Path(str(resources.files("rules")))


def rule_files(paths: Iterable[Path] | None = None) -> list[Path]:
    """The rule files named (files, or folders searched recursively), else the default packs."""
    given = list(paths or [])
    if not given:
        given = [default_rules_dir()]
    found: list[Path] = []
    for path in given:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError(f"--rules: no such file or folder: {path}")
    if not found:
        raise ConfigError(f"--rules: no .yar/.yara files in {', '.join(map(str, given))}")
    return found


def describe(files: Iterable[Path]) -> list[dict[str, str]]:
    """[{path, sha256}] of rule files (what the ledger and the manifest record)."""
    return [{"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in files]


def _namespaces(files: list[Path]) -> dict[str, str]:
    spaces: dict[str, str] = {}
    for path in files:
        base = re.sub(r"[^A-Za-z0-9_]", "_", path.stem) or "rules"
        name, n = base, 2
        while name in spaces:
            name, n = f"{base}_{n}", n + 1
        spaces[name] = str(path)
    return spaces


def compile_rules(files: list[Path], internal: dict[str, Path] | None = None) -> slow_strings.SplitRules:
    """The rules of all files (a namespace per file), with `match()` as yara.Rules; errors name file and line.
    Regexes libyara can take no atom from are pre-filtered (see `slow_strings`).

    `internal` adds dalil's own rule files under namespaces no user file can take (they hold a
    '-'); their matches are for dalil's analysers, not reported as rule hits.
    """
    sources = {**{ns: Path(p) for ns, p in _namespaces(files).items()}, **(internal or {})}
    try:
        full = yara.compile(filepaths={ns: str(p) for ns, p in sources.items()}, externals=EXTERNALS, includes=True)
    except yara.Error as exc:
        for path in files:  # which file, and which line in it (each file is a namespace of its own)
            try:
                yara.compile(filepath=str(path), externals=EXTERNALS, includes=True)
            except yara.SyntaxError as one:
                raise ConfigError(f"YARA rule error: {_where(one, path)}") from one
            except yara.Error as one:
                raise ConfigError(f"YARA rule error in {path}: {one}") from one
        raise ConfigError(f"YARA rule error: {exc}") from exc
    return slow_strings.split(full, sources, EXTERNALS)


def _where(exc: Exception, path: Path) -> str:
    text = str(exc)
    m = re.match(r"^(.*)\((\d+)\): (.*)$", text)
    if m:
        return f"{m.group(1)} line {m.group(2)}: {m.group(3)}"
    return f"{path}: {text}"
