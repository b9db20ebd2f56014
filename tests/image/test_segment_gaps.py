"""Split images with a missing segment are refused with one line naming it, never read truncated:
split raw (.001…, .000…, .aa…) with a gap or given from a later segment, and split E01 whose
later segment is absent (libewf would open it and fail only on reading those chunks)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from build_images import fat_image
from parse_helpers import parse_rows

SCHEMES = {"digits1": [f".{i:03d}" for i in range(1, 13)], "digits0": [f".{i:03d}" for i in range(12)],
           "letters": [f".a{c}" for c in "abcdefghijkl"]}


def _split(image: Path, out: Path, suffixes: list[str]) -> list[Path]:
    data = image.read_bytes()
    piece = -(-len(data) // len(suffixes))
    out.mkdir()
    paths = []
    for i, suffix in enumerate(suffixes):
        path = out / f"f16{suffix}"
        path.write_bytes(data[i * piece:(i + 1) * piece])
        paths.append(path)
    return paths


@pytest.fixture
def fat(tmp_path: Path) -> Path:
    return fat_image(tmp_path, {"DOCS/NOTE.TXT": b"note\n" * 200, "B.BIN": bytes(range(256)) * 64}, delete=[])


def _no_exhibit(cli: Any, case_dir: Path) -> None:
    assert cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout.strip() == ""


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_split_raw_with_a_gap_is_refused(scheme: str, cli: Any, case_dir: Path, tmp_path: Path, fat: Path) -> None:
    paths = _split(fat, tmp_path / "split", SCHEMES[scheme])
    whole = parse_rows(cli, case_dir, paths[0], "WHOLE", "--no-yara")  # the complete set reads as the image
    assert {r["path"] for r in whole} >= {"/DOCS/NOTE.TXT", "/B.BIN"}
    paths[4].unlink()
    result = cli("parse", paths[0], "--exhibit", "GAP", "--case", case_dir, code=1)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"missing segment {paths[4].name}" in result.stderr and paths[-1].name in result.stderr
    assert cli("files", "--exhibit", "WHOLE", "--case", case_dir, "--format", "jsonl").stdout
    assert "GAP" not in cli("evidence", "list", "--case", case_dir, "--format", "jsonl").stdout


def test_split_raw_given_from_a_later_segment_is_refused(cli: Any, case_dir: Path, tmp_path: Path,
                                                         fat: Path) -> None:
    paths = _split(fat, tmp_path / "split", SCHEMES["digits1"])
    result = cli("parse", paths[3], "--exhibit", "MID", "--case", case_dir, code=1)
    assert f"parse {paths[0].name}" in result.stderr and result.stderr.count("\n") == 1
    _no_exhibit(cli, case_dir)


def test_single_file_with_a_segment_name_still_reads(cli: Any, case_dir: Path, tmp_path: Path, fat: Path) -> None:
    one = tmp_path / "card.001"
    shutil.copyfile(fat, one)
    assert {r["path"] for r in parse_rows(cli, case_dir, one, "ONE", "--no-yara")} >= {"/B.BIN"}


def test_split_e01_with_its_second_segment_missing(cli: Any, case_dir: Path, tmp_path: Path,
                                                   testdata: Callable[[str], Path]) -> None:
    first = testdata("disk_images/plaso/image-split.E01")
    assert first.with_name("image-split.E02").is_file()
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copyfile(first, alone / first.name)
    result = cli("parse", alone / first.name, "--exhibit", "E01", "--case", case_dir, code=1)
    assert "segment image-split.E02 is missing" in result.stderr and result.stderr.count("\n") == 1
    assert "no file system" not in result.stderr
    _no_exhibit(cli, case_dir)
    shutil.copyfile(first.with_name("image-split.E02"), alone / "image-split.E03")  # beyond the gap
    result = cli("parse", alone / first.name, "--exhibit", "E01", "--case", case_dir, code=1)
    assert "segment image-split.E02 is missing" in result.stderr
    shutil.move(alone / "image-split.E03", alone / "image-split.E02")
    assert parse_rows(cli, case_dir, alone / first.name, "E01", "--no-yara")  # the whole set parses
