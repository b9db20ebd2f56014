"""`dalil image SOURCE --exhibit ID`: acquire a drive or image file into the case as a raw image."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from ..core.case import acquire_state_path
from ..core.errors import IntegrityError
from ..image import acquisition_schema  # noqa: F401  (Case.open migrates the acquisitions table)
from . import common


def image(
    source: Annotated[Path, typer.Argument(help="Block device or image file to acquire. Opened read-only, never mounted.")],
    exhibit: Annotated[str, typer.Option("--exhibit", help="Exhibit id for the image, e.g. EXH-001.")],
    split_size: Annotated[str | None, typer.Option(
        "--split-size", help="Split the image into segments .001, .002… of this size (650MB, 2GiB, 4G).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Re-read source and image afterwards and compare hashes.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help=(
        "Continue an interrupted acquisition of this exhibit (what was copied is first checked "
        "against the source)."))] = False,
    restart: Annotated[bool, typer.Option("--restart", help=(
        "Delete the partial copy of an interrupted acquisition of this exhibit (recorded in the ledger) "
        "and start again."))] = False,
    tsa: Annotated[str | None, typer.Option(
        "--tsa", help="RFC 3161 time-stamp authority URL: time-stamps the hashes as soon as they exist.")] = None,
    reason: common.ReasonOpt = None,
    case_dir: common.CaseOpt = None,
) -> None:
    """Image SOURCE into CASE/images/ with MD5, SHA-1 and SHA-256 computed while copying."""
    from ..image.acquire import Request, acquire, parse_size  # loaded only when used

    req = Request(source=source, exhibit=exhibit, split_size=parse_size(split_size) if split_size is not None else None,
                  verify=verify, resume=resume, restart=restart, tsa_url=tsa, reason=reason)
    case = common.open_case(case_dir)
    got: list[int] = []

    def stop(signum: int, _frame: object) -> None:  # SIGTERM stops the copy as Ctrl-C does
        got.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        out = acquire(case, req, progress=common.progress_bytes)
    except KeyboardInterrupt:
        if case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (exhibit,)):
            common.error(f"interrupted once {exhibit} was recorded: the acquisition is complete (dalil evidence list)")
        elif acquire_state_path(case.root, exhibit).exists():
            common.error(f"interrupted: what was copied is kept in images/; run the same command with --resume "
                         f"to continue the acquisition of {exhibit}")
        else:
            common.error(f"interrupted before anything was copied: nothing is kept for {exhibit}")
        raise typer.Exit(128 + (got[0] if got else signal.SIGINT)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    rec = out.record
    common.say(f"exhibit {exhibit} acquired: {rec['size']} bytes from {rec['source']['path']}")
    for algo in ("md5", "sha1", "sha256"):
        common.say(f"  {algo:<7} {rec['hashes'][algo]}")
    for seg in rec["image"]["segments"]:
        common.say(f"  image   {seg['path']} ({seg['size']} bytes)")
    common.say(f"  speed   {rec['speed_mb_s']} MB/s over {rec['duration_s']} s")
    bad = rec["errors"]
    if bad["bad_sectors"]:
        common.warn(f"{bad['bad_sectors']} unreadable sector(s) in {len(bad['bad_ranges'])} range(s) zero-filled: "
                    + ", ".join(f"{r['first_sector']}-{r['last_sector']}" for r in bad["bad_ranges"][:10])
                    + (" …" if len(bad["bad_ranges"]) > 10 else ""))
    if rec["verify"] is not None:
        common.say(f"  verify  {'source and image match' if rec['verify']['match'] else 'MISMATCH'}")
    if rec["timestamp"] and rec["timestamp"].get("tsr"):
        common.say(f"  tsa     {rec['timestamp']['tsr']} ({rec['timestamp']['url']})")
    common.say(f"  record  acquisition {out.acquisition_id}, sha256:{out.record_sha256}")
    for text in out.warnings:
        common.warn(text)
    if rec["verify"] is not None and not rec["verify"]["match"]:
        raise IntegrityError(f"verification failed for {exhibit}: source and image hashes differ "
                             f"(recorded in acquisition {out.acquisition_id})")


def register(app: typer.Typer) -> None:
    app.command("image")(image)
