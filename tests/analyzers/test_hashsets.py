"""Hash-set loading: the hash comes from a hash field only, never from a file name that looks like one.

The lists are made by the real tools (md5sum, sha256sum, hashdeep) over files whose names are the
hashes of other content, as browser and app caches name them."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from triage.analyzers import hashsets
from triage.core.errors import ConfigError

OTHER = b"content the examiner never listed"  # its hashes are the cache files' names


def _seized(tmp_path: Path) -> tuple[Path, list[bytes]]:
    """A folder whose files are named after hashes of OTHER (md5, sha1, sha256), plus a comma name."""
    root = tmp_path / "seized"
    (root / "cache").mkdir(parents=True)
    contents = []
    for n, algo in enumerate(("md5", "sha1", "sha256")):
        data = f"innocent cache entry {n}\n".encode()
        (root / "cache" / f"{hashlib.new(algo, OTHER).hexdigest()}.bin").write_bytes(data)
        (root / "cache" / hashlib.new(algo, OTHER).hexdigest()).write_bytes(data + b"x")
        contents += [data, data + b"x"]
    (root / "with, comma ffffffffffffffffffffffffffffffff.txt").write_bytes(b"comma\n")
    contents.append(b"comma\n")
    return root, contents


def _other_hashes() -> set[str]:
    return {hashlib.new(a, OTHER).hexdigest() for a in ("md5", "sha1", "sha256")}


def _run(tool: str, *args: str, cwd: Path) -> str:
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed (make deps installs it)")
    return subprocess.run([tool, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root.parent)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("tool,algo,flags", [("md5sum", "md5", []), ("md5sum", "md5", ["-b"]),
                                             ("sha1sum", "sha1", []), ("sha256sum", "sha256", []),
                                             ("sha256sum", "sha256", ["--tag"])])
def test_sum_output_takes_the_hash_field_only(tmp_path: Path, tool: str, algo: str, flags: list[str]) -> None:
    root, contents = _seized(tmp_path)
    listing = tmp_path / "bad.txt"
    listing.write_text(_run(tool, *flags, *_files(root), cwd=tmp_path))
    loaded = hashsets.load_hashes(listing)
    assert loaded == {hashlib.new(algo, c).hexdigest() for c in contents}
    assert not loaded & _other_hashes()


def test_sum_output_with_an_escaped_name(tmp_path: Path) -> None:
    (tmp_path / "new\nline").write_bytes(b"x")
    listing = tmp_path / "bad.txt"
    listing.write_text(_run("sha256sum", "new\nline", cwd=tmp_path))
    assert listing.read_text().startswith("\\")  # GNU marks a line whose name is escaped
    assert hashsets.load_hashes(listing) == {hashlib.sha256(b"x").hexdigest()}


def test_hashdeep_columns_by_header(tmp_path: Path) -> None:
    root, contents = _seized(tmp_path)
    listing = tmp_path / "known.hashdeep"
    listing.write_text(_run("hashdeep", "-c", "md5,sha1,sha256", "-r", "seized", cwd=tmp_path))
    loaded = hashsets.load_hashes(listing)
    assert loaded == {hashlib.new(a, c).hexdigest() for a in ("md5", "sha1", "sha256") for c in contents}
    assert not loaded & _other_hashes() and "f" * 32 not in loaded


def test_nsrl_rds_reads_hash_columns_not_file_names(tmp_path: Path) -> None:
    name_hash = hashlib.md5(OTHER).hexdigest()
    data = b"system file"
    nsrl = tmp_path / "NSRLFile.txt"
    nsrl.write_text('"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"\r\n'
                    f'"{hashlib.sha1(data).hexdigest().upper()}","{hashlib.md5(data).hexdigest().upper()}",'
                    f'"0000ABCD","{name_hash}","11","1234","362",""\r\n')
    assert hashsets.load_hashes(nsrl) == {hashlib.sha1(data).hexdigest(), hashlib.md5(data).hexdigest()}


def test_plain_lists_first_field(tmp_path: Path) -> None:
    a, b, c = (hashlib.sha256(x).hexdigest() for x in (b"a", b"b", b"c"))
    plain = tmp_path / "list.txt"
    plain.write_text(f"# comment {hashlib.md5(b'z').hexdigest()}\n{a}\n{b.upper()}\tnote {c}\n\n{c},{a[:32]}\n")
    assert hashsets.load_hashes(plain) == {a, b, c}


def test_no_hash_field_is_a_config_error(tmp_path: Path) -> None:
    names_only = tmp_path / "names.txt"
    names_only.write_text(f"/seized/cache/{hashlib.md5(OTHER).hexdigest()}.bin\n")
    with pytest.raises(ConfigError, match="no hashes found"):
        hashsets.load_hashes(names_only)


@pytest.mark.skipif(not shutil.which("sqlite3"), reason="the sqlite3 command is not installed")
@pytest.mark.parametrize("mode", [[], ["-header"], ["-header", "-separator", "\t"], ["-csv", "-header"]])
def test_rdsv3_exported_by_sqlite3_in_its_output_modes(tmp_path: Path, mode: list[str]) -> None:
    """NSRL RDSv3 ships as SQLite: `sqlite3 RDS.db "SELECT …"` writes `|`-separated rows (with or
    without a header), or TSV/CSV. Headerless, the first field is read; with a header, every hash
    column. A file name that is a hash is never taken."""
    import sqlite3

    data, name_hash = b"system file", hashlib.md5(OTHER).hexdigest()
    db = tmp_path / "RDS.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE FILE (sha256 TEXT, sha1 TEXT, md5 TEXT, file_name TEXT, file_size INTEGER)")
        con.execute("INSERT INTO FILE VALUES (?,?,?,?,?)", (hashlib.sha256(data).hexdigest().upper(),
                    hashlib.sha1(data).hexdigest().upper(), hashlib.md5(data).hexdigest().upper(), name_hash, 11))
    out = tmp_path / "rds.txt"
    out.write_bytes(subprocess.run(["sqlite3", *mode, str(db), "SELECT * FROM FILE"], capture_output=True,
                                   check=True).stdout)
    expected = {hashlib.sha256(data).hexdigest()}
    if mode:
        expected |= {hashlib.sha1(data).hexdigest(), hashlib.md5(data).hexdigest()}
    assert hashsets.load_hashes(out) == expected
