"""`dalil parse IMAGE --exhibit ID`: list and analyse every file of a disk image or logical extraction."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ..image import schema  # noqa: F401  (registers the files/partitions tables)
from . import common

SHOWN_WARNINGS = 20  # on the console; the case keeps them all


def parse(
    image: Annotated[str, typer.Argument(help="Image file (raw, split raw, E01, VMDK, VHD/VHDX, QCOW, DMG), extraction folder/zip/tar, "
                                              "iTunes/Finder backup folder, Android .ab backup, or a registered "
                                              "exhibit id. Never written.")],
    exhibit: Annotated[str, typer.Option("--exhibit", help="Exhibit id (registered in place if new).")],
    rules: Annotated[list[Path] | None, typer.Option("--rules", help="YARA file or folder; repeat; replaces the "
                                                                     "default packs.")] = None,
    known_good: Annotated[list[Path] | None, typer.Option("--known-good", help="NSRL RDS text or hash list.")] = None,
    known_bad: Annotated[list[Path] | None, typer.Option("--known-bad", help="Hash list of files to flag.")] = None,
    no_yara: Annotated[bool, typer.Option("--no-yara", help="Skip YARA.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", help="Worker processes for the per-file analysis (0: automatic, one per core).")] = 0,
    tz: Annotated[str, typer.Option("--tz", help="Zone of FAT/exFAT/zip local times (e.g. Africa/Tripoli).")] = "UTC",
    verify_image: Annotated[bool, typer.Option(
        "--verify-image", help="Also re-hash the image against its registration and, for E01, the media "
                               "against the MD5 stored in it (reads the whole image once more).")] = False,
    carve: Annotated[bool, typer.Option(
        "--carve", help="Also carve the free space of each NTFS, FAT, exFAT and ext2/3/4 file system, and the "
                        "disk outside its partitions, for pictures, PDFs, office/ZIP files, MP4/3GP, SQLite, "
                        "Opus voice notes, WebP and .tgs stickers (rows flagged `carved`, with their offset and length "
                        "in the image). Off by default: it reads all free space once more (on a big, mostly "
                        "empty disk, most of the image) and adds files with no name or times.")] = False,
    broker: Annotated[str | None, typer.Option(
        "--broker", help="Redis URL (redis://HOST:PORT/N; else DALIL_BROKER): the per-file analysis runs on "
                         "`dalil worker` processes; this command stays the only writer of the case.")] = None,
    password: common.PasswordOpt = None,
    recovery_key: Annotated[str | None, typer.Option(
        "--recovery-key", envvar="DALIL_VOLUME_RECOVERY_KEY", show_default=False,
        help="Recovery key of an encrypted volume: BitLocker's 48-digit recovery password, a FileVault or APFS "
             "recovery key. Prefer the environment variable. Never written to the case.")] = None,
    key_file: Annotated[Path | None, typer.Option(
        "--key-file", show_default=False,
        help="Key file of an encrypted volume: a BitLocker startup key (.BEK), a FileVault "
             "EncryptedRoot.plist.wipekey, a LUKS key file. Its content is never written to the case.")] = None,
    reason: common.ReasonOpt = None,
    case_dir: common.CaseOpt = None,
) -> None:
    """Walk volumes and file systems (or a phone backup's files); hashes, type, EXIF/GPS, YARA, entropy, hash sets per file."""
    from ..image import isolate  # the parse engine (pytsk3, yara, magic) is imported by its child alone
    from ..image.options import ParseOptions

    url = broker or os.environ.get("DALIL_BROKER") or None
    if url is not None:
        from ..distributed.app import broker_url

        url = broker_url(url)
    options = ParseOptions(exhibit=exhibit, rules=list(rules or []), no_yara=no_yara,
                                  known_good=list(known_good or []), known_bad=list(known_bad or []),
                                  jobs=jobs, tz=tz, reason=reason, verify_image=verify_image, password=password,
                                  recovery_key=recovery_key, key_file=key_file, carve=carve,
                                  broker=url)
    case = common.open_case(case_dir)
    with common.progress_items(None, f"parsing {exhibit}") as advance:
        result = isolate.run(case, image, options, progress=advance)  # a libtsk crash ends the child, not this
    s = result.stats
    listed: dict[int, int] = {}  # views only listed (APFS snapshots): one line per volume, rows in `dalil volumes`
    for part in result.partitions:
        if part["status"] == "listed":
            listed[part["partition"]] = listed.get(part["partition"], 0) + 1
            continue
        if part["partition"] == -1:  # a virtual disk's container layer (triage.image.virtual)
            common.say(f"container {part['scheme']}: {part['status']} ({part['message']})")
            continue
        view = f" [{part['snapshot']}]" if part.get("snapshot") else ""
        common.say(f"partition {part['partition']}{view}: {part['fs_type'] or '-'} {part['status']}, {part['files']} entries"
                   + (f" ({part['message']})" if part["message"] else ""))
    for partition, count in listed.items():
        common.say(f"partition {partition}: {count} snapshot(s) listed, their files not read (`dalil volumes`)")
    common.say(f"exhibit {exhibit}: {s.files} entries ({s.deleted} deleted), {s.with_content} with content, "
               f"{s.bytes:,} bytes read, {s.yara_hits} with YARA hits, {s.gps} with GPS")
    for area in result.carving or []:
        where = f"partition {area['partition']}" if area["kind"] == "unallocated" else "outside the partitions"
        if area["status"] == "not-carved":
            common.say(f"carving {where}: not carved ({area['message']})")
            continue
        kinds = ", ".join(f"{n} {ext}" for ext, n in area["carved"].items()) or "nothing"
        common.say(f"carving {where}: {area['bytes_scanned']:,} bytes of free space scanned in {area['runs']} "
                   f"run(s), carved {kinds}" + (f" ({area['message']})" if area["message"] else ""))
    found = (result.artifacts or {}).get("counts") or {}
    if found:
        common.say("phone records: " + ", ".join(f"{n} {kind}" for kind, n in sorted(found.items()))
                   + (f" ({result.artifacts['recovered']} recovered from deleted space)"
                      if result.artifacts and result.artifacts.get("recovered") else "")
                   + " (dalil messages, calls, contacts, records, artifacts)")
    for where in result.crashes:
        common.warn(f"the file-system library crashed reading {where}: recorded, parsed again without reading it")
    checked = result.verification
    if checked is not None and checked["ok"]:
        common.say("image verified: " + ", ".join(
            text for key, text in (("files_match", "file hashes match the registration"),
                                   ("ewf_media_match", "media MD5 matches the one stored in the E01"))
            if checked.get(key)) + (f" ({checked['note']})" if checked.get("note") else ""))
    elif checked is not None and checked["ok"] is None:
        common.say(f"image not verified: {checked.get('note')}")
    if result.warnings:
        shown = case.store.query("SELECT location, message FROM warnings WHERE run_id = ? ORDER BY id LIMIT ?",
                                 (result.run_id, SHOWN_WARNINGS))
        for row in shown:
            common.warn(f"{row['location']}: {row['message']}")
        more = result.warnings - len(shown)
        common.warn(f"{result.warnings} warning(s) recorded in the case" + (f" ({more} more than shown here)" if more else "")
                    + ": the report lists them all")


def register(app: typer.Typer) -> None:
    app.command("parse")(parse)
