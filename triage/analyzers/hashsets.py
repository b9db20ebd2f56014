"""Known-good and known-bad hash sets (NSRL RDS text, hashdeep, md5sum/sha*sum, plain lists): marks `known`.

A hash is only ever taken from a hash field: the first field of a plain or `*sum` line, or a column
named md5/sha1/sha256 in a CSV header (NSRL RDS, hashdeep). A hex-looking file name (a cache file
called after its own hash) never becomes a known hash.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Iterable

from ..core.errors import ConfigError
from . import Analyzer, Blob

HEX = re.compile(r"[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32}")
HASH_COLUMNS = {"md5": 32, "sha1": 40, "sha256": 64}  # header name (lower case, no '-') -> hex length
BSD_TAG = re.compile(r"^(?:MD5|SHA-?1|SHA-?256) \(.*\) = ([0-9a-fA-F]+)$", re.IGNORECASE)  # `sha256sum --tag`
HASHDEEP_HEADER = "%%%% "


def load_hashes(path: Path) -> frozenset[str]:
    """Lower-case MD5/SHA-1/SHA-256 values from an NSRL RDS text file (NSRLFile.txt: quoted CSV with
    "SHA-1","MD5" headers) or any CSV whose header names md5/sha1/sha256 columns, `hashdeep` output
    (`%%%% size,md5,sha256,filename`), `md5sum`/`sha256sum` output (`HASH  NAME`, `HASH *NAME`, `--tag`),
    or a plain list (one hash per line, first field)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read hash set {path}: {exc.strerror or exc}") from exc
    lines = text.splitlines()
    first = next((line for line in lines if line.strip() and not line.startswith("#")), "")
    if first.startswith(HASHDEEP_HEADER):
        values = _hashdeep(lines)
    elif _header(first)[1]:
        values = _csv_columns(lines[lines.index(first):])
    else:
        values = _listed(lines)
    if not values:
        raise ConfigError(f"no hashes found in {path} (expected NSRL RDS text, hashdeep or md5sum/sha256sum "
                          "output, or one hash per line)")
    return frozenset(values)


DELIMITERS = (",", "\t", "|", ";")  # CSV, TSV, sqlite3's default output (an RDSv3 query), European CSV


def _header(line: str) -> tuple[str, dict[int, int]]:
    """(delimiter, {column index: hex length} of the hash columns) when `line` is a header naming
    md5/sha1/sha256 columns, else (",", {})."""
    for delimiter in DELIMITERS:
        fields = next(csv.reader([line], delimiter=delimiter), [])
        if len(fields) < 2 or any(HEX.search(f) for f in fields):  # a header holds no hash
            continue
        names = [f.strip().lower().replace("-", "").replace("_", "") for f in fields]
        columns = {i: HASH_COLUMNS[n] for i, n in enumerate(names) if n in HASH_COLUMNS}
        if columns:
            return delimiter, columns
    return ",", {}


def _csv_columns(lines: list[str]) -> set[str]:
    """NSRL RDS text or a CSV/TSV/pipe-separated table with a header: only the hash columns are read."""
    delimiter, columns = _header(lines[0])
    values: set[str] = set()
    for row in csv.reader(lines[1:], delimiter=delimiter):
        values.update(_pick(row, columns))
    return values


def _hashdeep(lines: list[str]) -> set[str]:
    """hashdeep: `%%%% size,md5,sha256,filename` names the columns; the file name is last and may hold commas."""
    values: set[str] = set()
    columns: dict[int, int] = {}
    width = 0
    for line in lines:
        if line.startswith(HASHDEEP_HEADER):
            names = line[len(HASHDEEP_HEADER):].strip().split(",")
            if "filename" in names:  # the column line (the first %%%% line is the HASHDEEP-1.0 banner)
                columns = {i: HASH_COLUMNS[n] for i, n in enumerate(names) if n in HASH_COLUMNS}
                width = len(names)
            continue
        if line.startswith(("#", "%")) or not width:
            continue
        values.update(_pick(line.split(",", width - 1), columns))
    return values


def _pick(row: list[str], columns: dict[int, int]) -> Iterable[str]:
    for index, length in columns.items():
        value = row[index].strip() if index < len(row) else ""
        if len(value) == length and HEX.fullmatch(value):
            yield value.lower()


def _listed(lines: list[str]) -> set[str]:
    """Plain lists and md5sum/sha*sum output: the hash is the first field, never a later one."""
    values: set[str] = set()
    for line in lines:
        if line.startswith(("#", "%")) or not line.strip():
            continue
        tagged = BSD_TAG.match(line.strip())
        if tagged:
            field = tagged.group(1)
        else:
            field = re.split(r"[\s,;|]", line.strip(), maxsplit=1)[0].removeprefix("\\")  # `\HASH  name` escapes
        if HEX.fullmatch(field):
            values.add(field.lower())
    return values


class HashSets(Analyzer):
    NAME = "hashsets"
    VERSION = "1.1"
    ORDER = 20

    def analyse(self, blob: Blob) -> dict[str, Any]:
        digests = {blob.found.get(k) for k in ("md5", "sha1", "sha256")} - {None}
        if digests & self.settings.known_bad:
            return {"known": "bad"}
        if digests & self.settings.known_good:
            return {"known": "good"}
        return {}
