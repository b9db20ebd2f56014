"""BitLocker volumes made by Windows (dissect.fve's test images, fetched from PyPI by `make thirdparty`):
recognised with their protectors, opened with a password, a recovery password or a .BEK startup key,
opened without a key when BitLocker is suspended (clear key) or the volume decrypted, refused with one
line for a wrong key, the key never kept in the case, the image never written.

These images were cut down by their makers to the sectors their tests read: the decrypted volume starts
with an NTFS boot sector and has an MFT record at 0x2000 (what dissect.fve's own tests check, with their
own independent decryption), but its MFT is not all there, so no file system can be listed from them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import pytest

SDIST = "dissect_fve-4.6.tar.gz"
PASSWORD = "password12!@"  # the password and recovery password dissect.fve's tests use for these images
RECOVERY = "284867-596541-514998-422114-660297-261613-215424-199408"
VOLUME_SIZE = 65994752  # the decrypted volume's size, as its FVE metadata gives it

Thirdparty = Callable[[str, str], Path]


def image(thirdparty: Thirdparty, name: str) -> Path:
    return thirdparty(SDIST, f"tests/_data/bde/{name}")


def volume(cli: Any, case_dir: Path, exhibit: str) -> dict[str, Any]:
    out = cli("volumes", "--case", case_dir, "--exhibit", exhibit, "--format", "jsonl").stdout
    [row] = [json.loads(line) for line in out.splitlines() if line.strip()]
    return row


def parse(cli: Any, case_dir: Path, path: Path, exhibit: str, *args: Any) -> Any:
    # nothing can be listed from these cut-down images: exit 1 ("nothing could be read"), each time
    return cli("parse", path, "--exhibit", exhibit, "--case", case_dir, "--no-yara", *args, code=1)


def decrypted_layer(path: Path, **keys: Any) -> Any:
    """The first layer `layers.expand` gives for the image: the decrypted volume when opened."""
    from triage.image import layers
    from triage.image.container import open_image
    from triage.image.encryption import VolumeKeys

    source = open_image(path)
    return next(iter(layers.expand(source.img, source.size, VolumeKeys(**keys))))


@pytest.mark.parametrize(("name", "keys", "method"), [
    ("aes_128.bin.gz", {"password": PASSWORD}, 0x8002),
    ("aes-xts_256.bin.gz", {"password": PASSWORD}, 0x8005),
    ("aes_256_diffuser.bin.gz", {"password": PASSWORD}, 0x8001),
    ("recovery_password.bin.gz", {"recovery_key": RECOVERY}, 0x8004),
])
def test_opened_volume_decrypts_to_ntfs(thirdparty: Thirdparty, name: str, keys: dict[str, str], method: int) -> None:
    layer = decrypted_layer(image(thirdparty, name), **keys)
    assert layer.vol.encrypted == "bitlocker" and layer.key_kind in ("password", "recovery-key")
    assert f"method 0x{method:04x}" in (layer.message or "") and "opened with the" in (layer.message or "")
    assert int(layer.img.get_size()) == VOLUME_SIZE
    assert layer.img.read(0, 512)[3:11] == b"NTFS    "
    assert layer.img.read(0x2000, 8) == b"FILE0\x00\x03\x00"  # outside BitLocker's relocated boot sectors


def test_password_recovery_key_and_wrong_key_through_parse(cli: Any, case_dir: Path, thirdparty: Thirdparty) -> None:
    path = image(thirdparty, "recovery_password.bin.gz")
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    locked = parse(cli, case_dir, path, "LOCKED")
    assert "--recovery-key" in locked.stderr and "Traceback" not in locked.stderr
    row = volume(cli, case_dir, "LOCKED")
    assert row["encrypted"] == "bitlocker" and row["status"] == "locked" and row["files"] == 0
    assert "protectors: recovery password, password" in row["message"]

    parse(cli, case_dir, path, "WRONG", "--password", "not-this-one")
    row = volume(cli, case_dir, "WRONG")
    assert row["status"] == "locked" and "the key given (password) does not open it" in row["message"]

    parse(cli, case_dir, path, "OPEN", "--recovery-key", RECOVERY)
    row = volume(cli, case_dir, "OPEN")
    assert row["encrypted"] == "bitlocker" and row["length"] == VOLUME_SIZE
    # opened, then honest about the cut-down content: the opening is not lost behind the failure
    assert row["message"].startswith("BitLocker, method 0x8004, protectors: recovery password, password: "
                                     "opened with the recovery-key; no file system recognised")

    parse(cli, case_dir, path, "BYPASSWORD", "--password", PASSWORD)
    assert "opened with the password" in volume(cli, case_dir, "BYPASSWORD")["message"]

    kept = b"".join(p.read_bytes() for p in sorted(case_dir.rglob("*")) if p.is_file())
    assert PASSWORD.encode() not in kept and RECOVERY.encode() not in kept
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # evidence untouched


def test_startup_key_file(cli: Any, case_dir: Path, thirdparty: Thirdparty) -> None:
    path = image(thirdparty, "startup_key.bin.gz")
    bek = thirdparty(SDIST, "tests/_data/bde/startup_key.bek")
    other = thirdparty(SDIST, "tests/_data/bde/recovery_key.bek")
    layer = decrypted_layer(path, key_file=bek)
    assert layer.key_kind == "key-file" and layer.img.read(0, 512)[3:11] == b"NTFS    "

    parse(cli, case_dir, path, "BEK", "--key-file", bek)
    assert "protectors: startup key, password: opened with the key-file" in volume(cli, case_dir, "BEK")["message"]
    parse(cli, case_dir, path, "OTHERBEK", "--key-file", other)
    row = volume(cli, case_dir, "OTHERBEK")
    assert row["status"] == "locked" and "not a startup key (.BEK) of this volume" in row["message"]
    parse(cli, case_dir, path, "NOTBEK", "--key-file", Path(__file__))  # any file is not a key
    assert volume(cli, case_dir, "NOTBEK")["status"] == "locked"


@pytest.mark.parametrize(("name", "why"), [
    ("suspended.bin.gz", "its key is stored in clear (BitLocker suspended)"),
    ("decrypted.bin.gz", "it is not encrypted (decrypted, BitLocker metadata kept)"),
])
def test_readable_without_a_key(cli: Any, case_dir: Path, thirdparty: Thirdparty, name: str, why: str) -> None:
    """A suspended BitLocker volume (its key in clear) is readable by anyone holding the disk: Dalil opens
    it without being asked for a key, and says so."""
    path = image(thirdparty, name)
    layer = decrypted_layer(path)
    assert layer.key_kind == "clear-key" and layer.img.read(0, 512)[3:11] == b"NTFS    "
    parse(cli, case_dir, path, "NOKEY")
    row = volume(cli, case_dir, "NOKEY")
    assert row["encrypted"] == "bitlocker" and f"opened without a key: {why}" in row["message"]


def test_vista_volume_is_one_clear_line(cli: Any, case_dir: Path, thirdparty: Thirdparty) -> None:
    """Windows Vista's BitLocker header, in an image cut before its secondary metadata: libbde cannot
    open it; Dalil says what it is and why, without a traceback."""
    result = parse(cli, case_dir, image(thirdparty, "vista.bin.gz"), "VISTA", "--password", PASSWORD)
    assert "Traceback" not in result.stderr
    row = volume(cli, case_dir, "VISTA")
    assert row["encrypted"] == "bitlocker" and row["status"] == "locked"
    assert row["message"].startswith("BitLocker (Windows Vista): its encryption header cannot be read")
