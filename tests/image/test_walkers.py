"""walkers: what kind an exhibit is, and the private work folder backups are decoded into."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from triage.image import walkers

DATA = Path(__file__).resolve().parents[1] / "data" / "android-backup-extractor"


def test_each_kind_is_recognised(tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "Manifest.db").write_bytes(b"")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "Manifest.db").symlink_to(backup / "Manifest.db")  # not followed: a plain folder
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as zf:
        zf.writestr("a.txt", "a")
    raw = tmp_path / "disk.img"
    raw.write_bytes(bytes(4096))
    assert walkers.kind_of(folder) == "directory"
    assert walkers.kind_of(backup) == "itunes-backup"
    assert walkers.kind_of(linked) == "directory"
    assert walkers.kind_of(tmp_path / "x.zip") == "zip"
    assert walkers.kind_of(DATA / "test.encrypted.backup") == "android-backup"
    assert walkers.kind_of(DATA / "test.tar") == "tar"
    assert walkers.kind_of(raw) is None


def test_the_work_folder_is_private_and_removed(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    with walkers.work_folder(case, "android-backup") as work:
        assert work.parent == case / ".work" and work.name.startswith("android-backup-")
        assert stat.S_IMODE((case / ".work").stat().st_mode) == 0o700
        assert stat.S_IMODE(work.stat().st_mode) == 0o700
        (work / "payload.tar").write_bytes(b"decoded")
    assert not (case / ".work").exists()


def test_a_work_path_that_is_not_a_folder_is_refused(tmp_path: Path) -> None:
    import pytest

    from triage.core.errors import UsageError

    case = tmp_path / "case"
    case.mkdir()
    (case / ".work").symlink_to(tmp_path)  # decrypted content must not go where a link points
    with pytest.raises(UsageError, match="is not a folder"):
        with walkers.work_folder(case, "itunes-backup"):
            pass
