"""`dalil export --exhibit ID --out DIR`: copy selected files out of an exhibit, hash-checked, with an index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..image import query, schema  # noqa: F401  (schema registers the tables)
from . import common
from .files import CarvedOpt, DeletedOpt, GpsOpt, MimeOpt, YaraOpt


def export(
    exhibit: Annotated[str, typer.Option("--exhibit", help="Exhibit to export from.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (outside the case and the evidence; nothing"
                                                    " is overwritten: each export gets a new folder in it).")],
    deleted: DeletedOpt = False, mime: MimeOpt = None, yara: YaraOpt = None, has_gps: GpsOpt = False,
    carved: CarvedOpt = False,
    password: common.PasswordOpt = None,
    reason: common.ReasonOpt = None,
    case_dir: common.CaseOpt = None,
) -> None:
    """Copy the selected files (no filter: every file with content, deleted ones included)."""
    from ..image import export as engine  # loaded only when used

    case = common.open_case(case_dir)
    rows = query.select(case, query.Filters(exhibit, deleted, mime, yara, has_gps, carved))
    filters = {"deleted": deleted, "mime": mime, "yara": yara, "has_gps": has_gps, "carved": carved}
    if not any(r["size"] for r in rows):
        common.warn(f"no file of {exhibit} with content matches the filters ({_describe(filters)}):"
                    " nothing to export" if any(filters.values()) else f"{exhibit} has no file with content")
    with common.progress_items(len(rows), f"exporting {exhibit}") as advance:
        result = engine.export(case, rows, exhibit, out, filters, reason, progress=lambda n: advance(n),
                               password=password)
    if not result.was_empty:
        common.info(f"note: {out} was not empty; this export is in {result.base}/ (nothing was overwritten)")
    common.say(f"exported {result.count} file(s), {result.bytes:,} bytes to {out / result.base}"
               + (f"; {result.skipped} skipped" if result.skipped else "")
               + (f"; {result.failed} failed" if result.failed else "")
               + (f"; {result.mismatches} hash mismatch(es)" if result.mismatches else "")
               + (" (see the index)" if result.skipped or result.failed or result.mismatches else "")
               + (f"; {result.flattened} deep folder(s) flattened" if result.flattened else ""))
    result.raise_for_failures()


def _describe(filters: dict[str, Any]) -> str:
    flags = {"deleted": "--deleted", "mime": "--mime", "yara": "--yara", "has_gps": "--has-gps", "carved": "--carved"}
    return " ".join(flags[k] if v is True else f"{flags[k]} {v}" for k, v in filters.items() if v)


def register(app: typer.Typer) -> None:
    app.command("export")(export)
