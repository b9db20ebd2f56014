"""What a task carries so that a worker proves it sees what the coordinator sees.

- The evidence: the image file(s) by path (shared storage), their sizes, and either the SHA-256
  recorded at registration (the worker hashes the files once per process; images up to
  `full_check_max()` bytes) or, for larger images, a sampled digest: SHA-256 over the total size and
  `SAMPLES` blocks of `SAMPLE_BYTES` at evenly spaced offsets, computed by the coordinator. The
  ledger's `parsed` entry says which check was made.
- The analysis settings: every rule file and hash set by path and SHA-256 (the default rule packs
  by their place in the installed `rules` package, so the worker uses its own copy, checked by
  hash), the region, and a digest of the analyser registry (names, versions, code hashes).

A mismatch is an `EvidenceMismatch` whose message says what differs, on which host.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any

from .. import analyzers
from ..analyzers import Analyzer, Settings, hashsets, rulesets
from ..analyzers.text_indicators import PREFILTER_NAMESPACE, PREFILTER_PATH
from ..core.errors import DalilError
from ..core.evidence import Exhibit

SAMPLES = 64
SAMPLE_BYTES = 64 * 1024


class EvidenceMismatch(DalilError):
    """The worker does not see the evidence, rules or analysers the coordinator sees."""


def full_check_max() -> int:
    """Images up to this many bytes are checked by their full SHA-256 (DALIL_FULL_CHECK_MAX; 4 GiB)."""
    try:
        return int(os.environ.get("DALIL_FULL_CHECK_MAX", str(4 << 30)))
    except ValueError:
        return 4 << 30


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        for chunk in iter(lambda: fh.read(4 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sampled_digest(paths: list[Path]) -> str:
    """SHA-256 over the total size and SAMPLES blocks at evenly spaced offsets of the concatenation."""
    sizes = [p.stat().st_size for p in paths]
    total = sum(sizes)
    digest = hashlib.sha256(str(total).encode())
    span = max(total - SAMPLE_BYTES, 0)
    handles = [open(p, "rb", buffering=0) for p in paths]  # noqa: SIM115 - closed below
    try:
        for i in range(SAMPLES):
            offset = span * i // (SAMPLES - 1)
            digest.update(_read_span(handles, sizes, offset, min(SAMPLE_BYTES, total - offset)))
    finally:
        for fh in handles:
            fh.close()
    return digest.hexdigest()


def _read_span(handles: list[Any], sizes: list[int], offset: int, length: int) -> bytes:
    out = bytearray()
    start = 0
    for fh, size in zip(handles, sizes):
        if length <= 0:
            break
        if offset < start + size:
            fh.seek(offset - start)
            piece = fh.read(min(length, start + size - offset))
            out += piece
            offset += len(piece)
            length -= len(piece)
        start += size
    return bytes(out)


def describe_evidence(exhibit: Exhibit, segments: list[Path], fmt: str) -> dict[str, Any]:
    """The evidence part of every task (coordinator side)."""
    files = [Path(p).resolve() for p in segments]
    sizes = [p.stat().st_size for p in files]
    out: dict[str, Any] = {"exhibit": exhibit.exhibit, "paths": [str(p) for p in files], "sizes": sizes,
                           "format": fmt}
    # the registration's SHA-256 covers exactly these files when its size is theirs
    if sum(sizes) <= full_check_max() and exhibit.size == sum(sizes) and exhibit.sha256:
        out.update(check="sha256", sha256=exhibit.sha256)
    else:
        out.update(check="sampled", samples=SAMPLES, sample_bytes=SAMPLE_BYTES, sampled_sha256=sampled_digest(files))
    return out


def check_statement(evidence: dict[str, Any]) -> str:
    """What the ledger says about the workers' evidence check."""
    if evidence["check"] == "sha256":
        return "each worker process hashed the image file(s) in full: SHA-256 equal to the registration's"
    return (f"sampled: each worker process compared the size and a SHA-256 over {evidence['samples']} blocks of "
            f"{evidence['sample_bytes']:,} bytes at evenly spaced offsets with the coordinator's "
            "(the image is above the full-hash limit)")


class PathMap:
    """`FROM=TO` prefixes: where this worker sees the coordinator's paths (shared storage mounted elsewhere)."""

    def __init__(self, pairs: list[str]) -> None:
        self.pairs: list[tuple[str, str]] = []
        for pair in pairs:
            src, sep, dst = pair.partition("=")
            if not sep or not src or not dst:
                raise ValueError(f"--path-map wants FROM=TO, not {pair!r}")
            self.pairs.append((src.rstrip("/") or "/", dst.rstrip("/") or "/"))

    def __call__(self, path: str) -> Path:
        for src, dst in self.pairs:
            if path == src or path.startswith(src.rstrip("/") + "/"):
                return Path(dst + path[len(src):])
        return Path(path)


def outside(path: Path, roots: list[Path]) -> bool:
    """True when `roots` are set and `path` (links resolved) lies under none of them."""
    if not roots:
        return False
    resolved = path.resolve()
    return not any(resolved.is_relative_to(root.resolve()) for root in roots)


def verify_evidence(evidence: dict[str, Any], mapped: PathMap, roots: list[Path] | None = None) -> list[Path]:
    """The evidence files as this worker sees them, or EvidenceMismatch saying what differs. With
    `roots` (`dalil worker --evidence-root`), a path outside them is refused before it is looked at:
    whoever can write a task into Redis cannot make the worker read, size or hash any other file."""
    host = socket.gethostname()
    files = [mapped(p) for p in evidence["paths"]]
    for path in files:
        if outside(path, roots or []):
            raise EvidenceMismatch(f"evidence {evidence['exhibit']}: {path} is outside the evidence roots worker "
                                   f"{host} serves (--evidence-root): refused")
    for path, size in zip(files, evidence["sizes"]):
        if not path.is_file():
            raise EvidenceMismatch(f"evidence {evidence['exhibit']}: worker {host} does not see {path}")
        here = path.stat().st_size
        if here != size:
            raise EvidenceMismatch(f"evidence {evidence['exhibit']}: {path} is {here:,} bytes on worker {host}, "
                                   f"{size:,} at the coordinator")
    if evidence["check"] == "sha256":
        digest = hashlib.sha256()
        for path in files:
            with open(path, "rb", buffering=0) as fh:
                for chunk in iter(lambda: fh.read(4 << 20), b""):
                    digest.update(chunk)
        if digest.hexdigest() != evidence["sha256"]:
            raise EvidenceMismatch(f"evidence {evidence['exhibit']}: the image file(s) hash to sha256:"
                                   f"{digest.hexdigest()} on worker {host}, registered as sha256:{evidence['sha256']}")
    elif sampled_digest(files) != evidence["sampled_sha256"]:
        raise EvidenceMismatch(f"evidence {evidence['exhibit']}: the sampled SHA-256 of the image file(s) differs "
                               f"on worker {host} from the coordinator's")
    return files


def _registry_digest() -> str:
    return hashlib.sha256(json.dumps(analyzers.registry(), sort_keys=True).encode()).hexdigest()


def describe_settings(options_rules: list[Path], no_yara: bool, known_good: list[Path], known_bad: list[Path],
                      region: str) -> dict[str, Any]:
    """The analysis settings part of every task (coordinator side), after `parse.prepare` accepted them."""
    rules: list[dict[str, Any]] | None = None
    if not no_yara:
        packaged = rulesets.default_rules_dir().resolve()
        rules = []
        for path in rulesets.rule_files(options_rules):
            resolved = path.resolve()
            inside = resolved.is_relative_to(packaged) and not options_rules
            rules.append({"path": str(resolved), "sha256": _sha256_file(resolved),
                          "packaged": str(resolved.relative_to(packaged)) if inside else None})

    def sets(paths: list[Path]) -> list[dict[str, str]]:
        return [{"path": str(p.resolve()), "sha256": _sha256_file(p)} for p in paths]

    return {"rules": rules, "known_good": sets(known_good), "known_bad": sets(known_bad), "region": region,
            "analysers": _registry_digest()}


def _checked(entry: dict[str, Any], path: Path, what: str) -> Path:
    host = socket.gethostname()
    if not path.is_file():
        raise EvidenceMismatch(f"{what} {entry['path']}: worker {host} does not see {path}")
    here = _sha256_file(path)
    if here != entry["sha256"]:
        raise EvidenceMismatch(f"{what} {path.name} differs on worker {host}: sha256:{here}, "
                               f"sha256:{entry['sha256']} at the coordinator")
    return path


def build_analyzers(spec: dict[str, Any], mapped: PathMap) -> list[Analyzer]:
    """The analysers the coordinator's settings describe, built here after checking every file's hash."""
    host = socket.gethostname()
    if spec["analysers"] != _registry_digest():
        raise EvidenceMismatch(f"the analysers of worker {host} differ from the coordinator's (another Dalil "
                               "version or changed code): install the same version on every machine")
    compiled = None
    if spec["rules"] is not None:
        packaged = rulesets.default_rules_dir()
        files = [_checked(r, packaged / r["packaged"] if r["packaged"] else mapped(r["path"]), "rule pack")
                 for r in spec["rules"]]
        compiled = rulesets.compile_rules(files, internal={PREFILTER_NAMESPACE: PREFILTER_PATH})
    good = frozenset().union(*[hashsets.load_hashes(_checked(s, mapped(s["path"]), "hash set"))
                               for s in spec["known_good"]])
    bad = frozenset().union(*[hashsets.load_hashes(_checked(s, mapped(s["path"]), "hash set"))
                              for s in spec["known_bad"]])
    settings = Settings(rules=compiled, known_good=good, known_bad=bad, prefilter_in_rules=compiled is not None)
    settings.region = spec["region"]
    return analyzers.build(settings)
