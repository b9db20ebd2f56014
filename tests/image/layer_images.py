"""Images with volume layers, built with the real tools: LUKS (cryptsetup, no device-mapper needed:
offline `reencrypt --encrypt` on a file, then `convert` to LUKS1), LVM2 (pvcreate/vgcreate/lvcreate on
a loop device with device-mapper disabled, file systems written at the LVs' extents), f2fs
(mkfs.f2fs), shadow copies (plaso's vsstest.qcow2 converted with qemu-img), and the TSK listing of a
file system (`fls -r -p`) to compare with."""

from __future__ import annotations

import fcntl
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from build_images import MiB, need, run
from parse_helpers import FLS_LINE

VG_NAME = "vgdalil"
LVM_CONFIG = "global{activation=0} backup{backup=0 archive=0} devices{obtain_device_list_from_udev=0 use_devicesfile=0}"


def ext2_tree(tmp: Path, files: dict[str, bytes], name: str = "tree") -> Path:
    root = tmp / name
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def luks_image(tmp: Path, files: dict[str, bytes], password: str, version: int, argon2: bool = False,
               sector_size: int = 512) -> tuple[Path, Path]:
    """(the encrypted image, a plain copy of the ext2 file system it holds) — 12 MiB, file system 8 MiB;
    key slot by PBKDF2 (1000 iterations), or Argon2id (32 MiB, 4 passes) for LUKS2."""
    need("cryptsetup", "mke2fs")
    root = ext2_tree(tmp, files)
    image = tmp / f"luks{version}.img"
    with open(image, "wb") as fh:
        fh.truncate(12 * MiB)
    run("mke2fs", "-q", "-t", "ext2", "-b", "4096", "-d", root, "-F", image, "8M")
    plain = tmp / "plain-ext2.img"
    plain.write_bytes(image.read_bytes()[:8 * MiB])
    key = tmp / "pass.txt"
    key.write_text(password)
    try:
        kdf = (["--pbkdf", "argon2id", "--pbkdf-memory", "32768", "--pbkdf-force-iterations", "4"] if argon2
               else ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"])
        run("cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--reduce-device-size", "4M",
            "--sector-size", str(sector_size), *kdf, "--batch-mode", "--key-file", key, image)
        if version == 1:
            run("cryptsetup", "convert", image, "--type", "luks1", "--batch-mode")
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cryptsetup cannot encrypt a file here: {exc.stderr.decode(errors='replace')[:200]}")
    key.unlink()
    return image, plain


def lvm_image(tmp: Path, volumes: dict[str, Path]) -> tuple[Path, dict[str, int]]:
    """A 16 MiB LVM2 physical volume (extents of 1 MiB) with one linear LV per file-system image
    given, each written at its LV's first extent. Returns the image and {LV: byte offset}."""
    need("losetup", "pvcreate", "vgcreate", "lvcreate", "lvs")
    image = tmp / "pv.img"
    with open(image, "wb") as fh:
        fh.truncate(16 * MiB)
    try:
        loop = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, check=True,
                              text=True).stdout.strip()
    except (subprocess.CalledProcessError, OSError):
        pytest.skip("no loop device here (LVM tools need a block device)")
    env = {"LVM_SUPPRESS_FD_WARNINGS": "1", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    starts: dict[str, int] = {}
    vg = VG_NAME  # the same in every run; LVM's names are machine-wide, hence the lock below
    lock = open(Path(tempfile.gettempdir()) / "dalil-tests-lvm.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs (or workers) must not make the same VG at once
    try:
        lvm = ["--config", LVM_CONFIG]
        run("pvcreate", *lvm, "-ff", "-y", loop, env=env)
        run("vgcreate", *lvm, "-s", "1M", vg, loop, env=env)
        for name, fs in volumes.items():
            size = (fs.stat().st_size + MiB - 1) // MiB
            run("lvcreate", *lvm, "-an", "-Zn", "-L", f"{size}M", "-n", name, vg, env=env)
        pe_start = int(subprocess.run(["pvs", *lvm, "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start",
                                       loop], capture_output=True, check=True, text=True, env=env).stdout.strip())
        out = subprocess.run(["lvs", *lvm, "--noheadings", "--segments", "-o", "lv_name,seg_pe_ranges", vg],
                             capture_output=True, check=True, text=True, env=env).stdout
        for line in out.splitlines():
            m = re.match(r"\s*(\S+)\s+\S+:(\d+)-\d+", line)
            if m:
                starts[m.group(1)] = pe_start + int(m.group(2)) * MiB
    finally:
        subprocess.run(["losetup", "-d", loop], capture_output=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    with open(image, "r+b") as fh:
        for name, fs in volumes.items():
            fh.seek(starts[name])
            fh.write(fs.read_bytes())
    return image, starts


def encrypt_luks2(image: Path, tmp: Path, password: str) -> None:
    """Encrypt an image in place as cryptsetup does offline (its last 4 MiB must be free)."""
    need("cryptsetup")
    key = tmp / "pass-luks.txt"
    key.write_text(password)
    try:
        run("cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--reduce-device-size", "4M", "--pbkdf",
            "pbkdf2", "--pbkdf-force-iterations", "1000", "--batch-mode", "--key-file", key, image)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cryptsetup cannot encrypt a file here: {exc.stderr.decode(errors='replace')[:200]}")
    finally:
        key.unlink()


def f2fs_image(tmp: Path) -> Path:
    need("mkfs.f2fs")
    image = tmp / "userdata.img"
    with open(image, "wb") as fh:
        fh.truncate(64 * MiB)
    run("mkfs.f2fs", "-q", "-l", "userdata", image)
    return image


def qcow2_to_raw(src: Path, tmp: Path) -> Path:
    need("qemu-img")
    out = tmp / (src.stem + ".raw")
    run("qemu-img", "convert", "-O", "raw", src, out)
    return out


def fls_paths(image: Path, offset_sectors: int = 0) -> dict[str, tuple[bool, str]]:
    """{path: (deleted, inode)} as `fls -r -p` lists them."""
    need("fls")
    cmd = ["fls", "-r", "-p"] + (["-o", str(offset_sectors)] if offset_sectors else []) + [str(image)]
    text = subprocess.run(cmd, capture_output=True, check=True).stdout.decode("utf-8", "replace")
    out: dict[str, tuple[bool, str]] = {}
    for line in text.splitlines():
        m = FLS_LINE.match(line)
        if m:
            out["/" + m.group(5)] = (bool(m.group(2)), m.group(3))
    return out
