"""LUKS1 and LUKS2 volumes made by cryptsetup with the ciphers older set-ups and other tools chose
(dissect.fve's test images, fetched from PyPI by `make thirdparty`): AES-ECB, AES-CBC with plain and
ESSIV IVs, AES-XTS; PBKDF2 and Argon2 key slots; two key slots; a binary passphrase given as a key
file. Each volume's first four sectors hold bytes i (sector i) in clear: what dissect.fve's own
tests check with their own independent decryption."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

SDIST = "dissect_fve-4.6.tar.gz"
BINARY_PASSPHRASE = b"\x00\x01\x02\x03KUSJESVANSRT\x03\x02\x01\x00"


def first_layer(path: Path, **keys: Any) -> Any:
    from triage.image import layers
    from triage.image.container import open_image
    from triage.image.encryption import VolumeKeys

    source = open_image(path)
    return next(iter(layers.expand(source.img, source.size, VolumeKeys(**keys))))


@pytest.mark.parametrize(("name", "password", "variant"), [
    ("luks1/aes-ecb", "password", "LUKS1, aes-ecb"),
    ("luks2/aes-ecb", "password", "LUKS2, aes-ecb"),
    ("luks2/aes-ecb-pbkdf2", "password", "LUKS2, aes-ecb"),
    ("luks2/aes-cbc-plain", "password", "LUKS2, aes-cbc-plain"),
    ("luks2/aes-cbc-essiv", "password", "LUKS2, aes-cbc-essiv:sha256"),
    ("luks2/aes-xts-plain64", "password", "LUKS2, aes-xts-plain64"),
    ("luks2/multiple-slots", "password", "LUKS2, aes-cbc-plain, protectors: key slot 0, key slot 1"),
    ("luks2/multiple-slots", "another", "LUKS2, aes-cbc-plain, protectors: key slot 0, key slot 1"),
])
def test_cryptsetup_volume_decrypts(thirdparty: Callable[[str, str], Path], name: str, password: str,
                                    variant: str) -> None:
    layer = first_layer(thirdparty(SDIST, f"tests/_data/{name}.bin.gz"), password=password)
    assert layer.key_kind == "password", layer.message
    assert (layer.message or "").startswith(variant) and "opened with the password" in (layer.message or "")
    assert [layer.img.read(i * 512, 512) for i in range(4)] == [bytes([i]) * 512 for i in range(4)]


def test_binary_passphrase_as_key_file(thirdparty: Callable[[str, str], Path],
                                                          tmp_path: Path) -> None:
    path = thirdparty(SDIST, "tests/_data/luks2/aes-ecb-binary-passphrase.bin.gz")
    key = tmp_path / "key.bin"
    key.write_bytes(BINARY_PASSPHRASE)
    layer = first_layer(path, key_file=key)
    assert layer.key_kind == "key-file"
    assert [layer.img.read(i * 512, 512) for i in range(4)] == [bytes([i]) * 512 for i in range(4)]
