"""What a `dalil parse` is asked (ParseOptions) and what it answers (ParseResult, Stats).

Plain data, apart from the parse engine: the command's process sends the options to the parse
child and unpickles its result without importing pytsk3, YARA, libmagic or numpy (see isolate.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class Stats:
    files: int = 0
    with_content: int = 0
    deleted: int = 0
    bytes: int = 0
    yara_hits: int = 0
    gps: int = 0
    errors: int = 0
    partitions: dict[int | tuple[int, str], int] = field(default_factory=dict)  # (partition, snapshot) for views


@dataclass
class ParseOptions:
    exhibit: str
    rules: list[Path] = field(default_factory=list)
    no_yara: bool = False
    known_good: list[Path] = field(default_factory=list)
    known_bad: list[Path] = field(default_factory=list)
    jobs: int = 0
    tz: str = "UTC"
    reason: str | None = None
    verify_image: bool = False
    password: str | None = field(default=None, repr=False)  # an encrypted backup's or volume's; never stored
    recovery_key: str | None = field(default=None, repr=False)  # an encrypted volume's; never stored
    key_file: Path | None = None  # a BitLocker .BEK, FileVault wipekey or LUKS key file; its content never stored
    carve: bool = False  # also carve the free space of each file system and outside the partitions
    # (files, bytes, location, reading content) as each entry is reached and while its content is read
    on_entry: Callable[[int, int, str, bool], None] | None = None
    on_stream: Callable[[str | None], None] | None = None  # a large file's content starts/ends streaming
    broker: str | None = field(default=None, repr=False)  # redis:// URL (its password never in a repr): the per-file analysis runs on `dalil worker`s (triage.distributed)


@dataclass
class ParseResult:
    exhibit: str
    stats: Stats
    warnings: int
    partitions: list[dict[str, Any]]
    rules: list[dict[str, str]]
    verification: dict[str, Any] | None = None
    crashes: list[str] = field(default_factory=list)  # files whose content crashed libtsk (got past)
    run_id: int | None = None  # the run its rows and warnings carry
    artifacts: dict[str, Any] | None = None  # the phone-artifact stage's summary (counts, parsers)
    carving: list[dict[str, Any]] | None = None  # with --carve: each area scanned (carve.Area.ledger)
