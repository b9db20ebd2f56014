"""`dalil export` on hostile listings: names that collide once sanitised or case-folded, duplicate
members, deep and long paths, files without a hash, --out in the evidence, failures of one file and
runs that stop: every file with content is exported or has an index row saying why not."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from build_images import ext4_image, need, ntfs_image, run, sha256
from parse_helpers import parse_rows
from triage.core.case import Case
from triage.image import export as engine
from triage.image import query
from triage.image.export import safe_component
from triage.image.export_names import MAX_DIR_BYTES, MAX_NAME_BYTES


def index_of(out: Path, exhibit: str, n: int = 1) -> list[dict[str, Any]]:
    name = f"index-{exhibit}.json" if n == 1 else f"index-{exhibit}-{n}.json"
    rows: list[dict[str, Any]] = json.loads((out / name).read_text())
    return rows


def ledger(case_dir: Path) -> list[dict[str, Any]]:
    lines = (case_dir / "custody.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == "exported"]


def assert_all_exported(out: Path, index: list[dict[str, Any]], contents: dict[str, bytes]) -> None:
    """One `ok` row per expected original path, each copy holding its content; no two names fold alike."""
    assert sorted(r["original_path"] for r in index) == sorted(contents)
    for r in index:
        assert r["status"] == "ok", r
        assert r["sha256_copy"] == r["sha256_listed"]
    got = sorted((r["original_path"], (out / r["exported_path"]).read_bytes()) for r in index)
    assert got == sorted(contents.items())
    folded = [r["exported_path"].casefold() for r in index]
    assert len(set(folded)) == len(folded)


def zip_of(tmp: Path, members: list[tuple[str, bytes]]) -> Path:
    archive = tmp / "x.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return archive


@pytest.mark.parametrize("name, expected", [
    ("x. .", "x"), ("nul .", "_nul"), ("trail. . .", "trail"), ("CON .txt", "_CON .txt"),
    ("COM\u00b9", "_COM\u00b9"), ("lpt\u00b2.log", "_lpt\u00b2.log"), ("COM10", "COM10"),
    ("evil\u202etxt.exe", "evil_txt.exe"), ("a\u2066b\u2069", "a_b_"), ("line\u0085feed", "line_feed"),
    ("x\u009fy", "x_y"), ("p\u2028q", "p_q"), ("bad\udc80byte", "bad_byte"),
    ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645.txt", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0645.txt"),  # ZWNJ kept
    ("e\u0301.txt", "\u00e9.txt"), (". .", "_"),
])
def test_safe_component_windows_and_unicode(name: str, expected: str) -> None:
    assert safe_component(name) == expected


def test_file_and_folder_with_one_sanitised_name_ext4(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = ext4_image(tmp_path, {"q:1": b"the file q:1\n", "q_1/inner": b"inside q_1\n"}, [])
    parse_rows(cli, case_dir, image, "E", "--no-yara")
    out = tmp_path / "out"
    cli("export", "--exhibit", "E", "--out", out, "--case", case_dir)
    index = index_of(out, "E")
    assert_all_exported(out, index, {"/q:1": b"the file q:1\n", "/q_1/inner": b"inside q_1\n"})
    assert {r["exported_path"] for r in index} == {"E/p0/q_1", "E/p0/q_1~2/inner"}


def test_file_and_folder_with_one_name_zip(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    archive = zip_of(tmp_path, [("dir", b"file called dir\n"), ("dir/x.txt", b"x in dir\n")])
    parse_rows(cli, case_dir, archive, "Z")
    out = tmp_path / "out"
    cli("export", "--exhibit", "Z", "--out", out, "--case", case_dir)
    assert_all_exported(out, index_of(out, "Z"), {"/dir": b"file called dir\n", "/dir/x.txt": b"x in dir\n"})


def test_folder_entry_then_file_of_the_same_name(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    archive = zip_of(tmp_path, [("dir/", b""), ("dir", b"nineteen bytes here")])
    parse_rows(cli, case_dir, archive, "Z")
    out = tmp_path / "out"
    cli("export", "--exhibit", "Z", "--out", out, "--case", case_dir)
    index = index_of(out, "Z")
    assert_all_exported(out, index, {"/dir": b"nineteen bytes here"})
    assert index[0]["attr"] == "#2"


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_duplicate_members_each_with_its_own_content(cli: Any, case_dir: Path, tmp_path: Path, kind: str) -> None:
    members = [("dup.txt", b"first\n"), ("dup.txt", b"second, longer\n"), ("dup.txt", b"third\n"),
               ("other.txt", b"other\n")]
    if kind == "zip":
        with pytest.warns(UserWarning):  # zipfile warns about the duplicate name while writing
            archive = zip_of(tmp_path, members)
    else:
        archive = tmp_path / "x.tar"
        with tarfile.open(archive, "w") as tf:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    parse_rows(cli, case_dir, archive, "A")
    out = tmp_path / "out"
    cli("export", "--exhibit", "A", "--out", out, "--case", case_dir)
    index = index_of(out, "A")
    assert sorted(r["original_path"] for r in index) == ["/dup.txt"] * 3 + ["/other.txt"]
    assert all(r["status"] == "ok" for r in index)
    copies = sorted((out / r["exported_path"]).read_bytes() for r in index if r["original_path"] == "/dup.txt")
    assert copies == sorted(data for name, data in members if name == "dup.txt")
    assert ledger(case_dir)[-1]["details"]["files"] == 4


def test_names_differing_in_case_or_normalisation(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    files = {"A.txt": b"upper\n", "a.txt": b"lower\n", "Dir/f.txt": b"Dir f\n", "dir/f.txt": b"dir f\n",
             "\u00e9.txt": b"composed\n", "e\u0301.txt": b"decomposed\n", "STRASSE": b"ss\n", "stra\u00dfe": b"sz\n"}
    image = ext4_image(tmp_path, files, [])
    parse_rows(cli, case_dir, image, "E", "--no-yara")
    out = tmp_path / "out"
    cli("export", "--exhibit", "E", "--out", out, "--case", case_dir)
    index = index_of(out, "E")
    assert_all_exported(out, index, {"/" + k: v for k, v in files.items()})
    by_name = {r["original_path"]: r["exported_path"] for r in index}
    first, second = sorted([by_name["/A.txt"], by_name["/a.txt"]], key=len)
    assert first in ("E/p0/A.txt", "E/p0/a.txt") and second in ("E/p0/A~2.txt", "E/p0/a~2.txt")
    assert {by_name["/Dir/f.txt"].split("/")[2], by_name["/dir/f.txt"].split("/")[2]} in (
        {"Dir", "dir~2"}, {"dir", "Dir~2"})


def _deep_tree(root: Path, depth: int, width: int) -> dict[str, bytes]:
    """Folders `depth` deep, each name `width` bytes, a file in each: built with dir fds (the path is too long)."""
    expected: dict[str, bytes] = {}
    fd = os.open(root, os.O_RDONLY)
    parts: list[str] = []
    try:
        for level in range(depth):
            name = f"{level:02d}" + "d" * (width - 2)
            os.mkdir(name, dir_fd=fd)
            new = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
            parts.append(name)
            data = f"level {level}\n".encode()
            file_fd = os.open("f.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(file_fd, data)
            os.close(file_fd)
            expected["/" + "/".join(parts) + "/f.txt"] = data
    finally:
        os.close(fd)
    return expected


def test_deep_long_paths_flattened(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    need("mke2fs")
    root = tmp_path / "deep"
    root.mkdir()
    expected = _deep_tree(root, 25, 200)
    (root / ("n" * 255)).write_bytes(b"longest name\n")
    expected["/" + "n" * 255] = b"longest name\n"
    image = tmp_path / "deep.img"
    run("mke2fs", "-q", "-t", "ext4", "-d", root, image, "16M")
    parse_rows(cli, case_dir, image, "E", "--no-yara")
    out = tmp_path / "out"
    result = cli("export", "--exhibit", "E", "--out", out, "--case", case_dir)
    assert "flattened" in result.stdout
    index = index_of(out, "E")
    assert_all_exported(out, index, expected)
    for r in index:
        path = r["exported_path"]
        assert len(path.encode()) <= MAX_DIR_BYTES + 64 + MAX_NAME_BYTES + 16
        assert all(len(p.encode()) <= MAX_NAME_BYTES + 8 for p in path.split("/"))
    assert ledger(case_dir)[-1]["details"]["files"] == len(expected)


def test_out_inside_folder_evidence_is_refused(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "extraction"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_bytes(b"evidence\n")
    cli("parse", folder, "--exhibit", "DIR", "--case", case_dir)
    before = sorted(str(p) for p in folder.rglob("*"))
    (tmp_path / "link").symlink_to(folder / "sub")
    for out in (folder, folder / "sub", folder / "new" / "deeper", tmp_path / "link" / "x"):
        result = cli("export", "--exhibit", "DIR", "--out", out, "--case", case_dir, code=2)
        assert "outside the evidence" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(str(p) for p in folder.rglob("*")) == before
    assert ledger(case_dir) == []


def test_out_under_a_file_is_a_usage_error(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    archive = zip_of(tmp_path, [("a.txt", b"a\n")])
    parse_rows(cli, case_dir, archive, "Z")
    (tmp_path / "afile").write_bytes(b"not a folder")
    result = cli("export", "--exhibit", "Z", "--out", tmp_path / "afile" / "sub", "--case", case_dir, code=2)
    assert "is a file" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_files_without_hash_get_a_skipped_row(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    image = ntfs_image(tmp_path, {"a.txt": b"hello\n"})
    rows = parse_rows(cli, case_dir, image, "N", "--no-yara")
    unhashed = {r["path"] for r in rows if r["size"] and not r["sha256"] and r["type"] != "d"}
    assert "/$BadClus:$Bad" in unhashed
    out = tmp_path / "out"
    result = cli("export", "--exhibit", "N", "--out", out, "--case", case_dir)
    assert "skipped" in result.stdout
    index = index_of(out, "N")
    skipped = {r["original_path"]: r for r in index if r["status"] == "skipped"}
    assert set(skipped) == unhashed
    assert all(r["exported_path"] is None and "no SHA-256" in r["reason"] for r in skipped.values())
    # NTFS's sparse bad-cluster map is not read by design: said in its row, no warning at parse
    assert "bad-cluster map" in skipped["/$BadClus:$Bad"]["reason"]
    warned = [tuple(w) for w in Case.open(case_dir).store.query("SELECT * FROM warnings WHERE exhibit = 'N'")]
    assert not [w for w in warned if "$BadClus" in str(w)]
    assert ledger(case_dir)[-1]["details"]["skipped"] == len(unhashed)


def test_no_match_and_not_empty_notices(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    archive = zip_of(tmp_path, [("a.txt", b"a\n")])
    parse_rows(cli, case_dir, archive, "Z")
    out = tmp_path / "out"
    result = cli("export", "--exhibit", "Z", "--out", out, "--yara", "NOSUCHRULE", "--case", case_dir)
    assert "matches the filters (--yara NOSUCHRULE)" in result.stderr and "not empty" not in result.stderr
    result = cli("export", "--exhibit", "Z", "--out", out, "--case", case_dir)
    assert "was not empty" in result.stderr and "Z~2" in result.stderr
    assert (out / "Z~2" / "p0" / "a.txt").read_bytes() == b"a\n" and index_of(out, "Z", 2)[0]["status"] == "ok"


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


def test_one_failing_file_does_not_stop_the_run(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    big = os.urandom(2 << 20)
    archive = zip_of(tmp_path, [("a.txt", b"a\n"), ("big.bin", big), ("z.txt", b"z\n")])
    parse_rows(cli, case_dir, archive, "Z")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(Path(engine.__file__).parents[2]))
    proc = subprocess.run([sys.executable, "-m", "triage.cli.main", "export", "--exhibit", "Z", "--out", str(out),
                           "--case", str(case_dir)], capture_output=True, text=True, env=env,
                          preexec_fn=_limit_file_size)  # a real EFBIG on the big copy only
    assert proc.returncode == 1, proc.stderr
    assert "1 file(s) could not be exported" in proc.stderr and "Traceback" not in proc.stderr
    index = {r["original_path"]: r for r in index_of(out, "Z")}
    assert index["/big.bin"]["status"] == "error" and "too large" in index["/big.bin"]["reason"]
    assert index["/big.bin"]["exported_path"] is None and not (out / "Z" / "p0" / "big.bin").exists()
    assert [index[p]["status"] for p in ("/a.txt", "/z.txt")] == ["ok", "ok"]
    assert ledger(case_dir)[-1]["details"]["failed"] == 1 and ledger(case_dir)[-1]["details"]["files"] == 2


def test_stopped_run_still_writes_index_and_ledger(case_dir: Path, tmp_path: Path, cli: Any) -> None:
    archive = zip_of(tmp_path, [(f"f{i}.txt", f"file {i}\n".encode()) for i in range(6)])
    parse_rows(cli, case_dir, archive, "Z")
    case = Case.open(case_dir)
    rows = query.select(case, query.Filters("Z", False, None, None, False))
    seen: list[int] = []

    def interrupt(n: int) -> None:  # the examiner presses Ctrl-C after the second file
        seen.append(n)
        if len(seen) == 2:
            raise KeyboardInterrupt

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        engine.export(case, rows, "Z", out, {}, None, progress=interrupt)
    index = index_of(out, "Z")
    assert [r["status"] for r in index].count("ok") == 2 and len(index) == 6
    assert all("run stopped" in r["reason"] for r in index if r["status"] == "skipped")
    copied = sorted(p.name for p in (out / "Z" / "p0").iterdir())
    assert copied == sorted(Path(r["exported_path"]).name for r in index if r["status"] == "ok")
    entry = ledger(case_dir)[-1]["details"]
    assert entry["files"] == 2 and entry["skipped"] == 4 and "KeyboardInterrupt" in entry["stopped"]
    assert entry["index"][0]["sha256"] == sha256((out / "index-Z.csv").read_bytes())


def test_index_csv_keeps_its_columns_whatever_the_names(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    """A bare CR in a name used to end a CSV row early (rows of 3 and 24 columns); a name starting
    with = stays text for a spreadsheet. The JSON index keeps the names exactly."""
    import csv

    archive = zip_of(tmp_path, [("a\rb.txt", b"cr\n"), ("=HYPERLINK(1).txt", b"f\n"), ("plain.txt", b"p\n")])
    parse_rows(cli, case_dir, archive, "Z")
    out = tmp_path / "out"
    cli("export", "--exhibit", "Z", "--out", out, "--case", case_dir)
    with open(out / "index-Z.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert len(table) == 4 and {len(r) for r in table} == {len(table[0])}
    paths = {r[table[0].index("original_path")] for r in table[1:]}
    assert paths == {"/a\rb.txt", "/=HYPERLINK(1).txt", "/plain.txt"}  # paths start with /: no formula
    assert {r["original_path"] for r in index_of(out, "Z")} == paths


def test_exporting_does_not_store_the_parse_warnings_again(cli: Any, case_dir: Path, tmp_path: Path,
                                                           testdata: Any) -> None:
    """exfat_orphan.raw has a directory TSK cannot open: parse stores that once; each export re-walks
    the image and met it again, storing it again every time."""
    from parse_helpers import materialise

    image = materialise(testdata("disk_images/dfir_ntfs/exfat_orphan.raw.gz"), tmp_path)
    parse_rows(cli, case_dir, image, "EXO", "--no-yara")

    def stored() -> list[tuple[str, str]]:
        return [tuple(r) for r in Case.open(case_dir).store.query("SELECT location, message FROM warnings")]

    before = stored()
    assert any("cannot open directory" in m for _, m in before)
    cli("export", "--exhibit", "EXO", "--out", tmp_path / "o1", "--case", case_dir)
    cli("export", "--exhibit", "EXO", "--out", tmp_path / "o2", "--case", case_dir)
    assert stored() == before


def test_claim_numbers_many_repeats_in_order_and_folds_as_windows(tmp_path: Path) -> None:
    """Each repeat of a name got its number by trying ~2, ~3… again (8,000 took 16 s); dotless ı and
    i, kept apart by casefold, are one letter to Windows."""
    from triage.image.export_names import Layout

    layout = Layout(tmp_path, "EXH")
    folder = Path("EXH/p0")
    names = [layout.claim(folder, "a.txt", is_dir=False) for _ in range(20_000)]
    assert names[:3] == ["a.txt", "a~2.txt", "a~3.txt"] and names[-1] == "a~20000.txt"
    assert len({n.upper() for n in names}) == 20_000
    assert layout.claim(folder, "A~2.TXT", is_dir=False) == "A~2~2.TXT"
    assert layout.claim(folder, "\u0131.txt", is_dir=False) == "\u0131.txt"
    assert layout.claim(folder, "i.txt", is_dir=False) == "i~2.txt"
