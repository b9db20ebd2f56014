"""`dalil files`: the parsed file listing, filtered, as a table, JSON lines or CSV."""

from __future__ import annotations

from typing import Annotated

import typer

from ..image import query, schema  # noqa: F401  (schema registers the tables)
from . import common

ExhibitOpt = Annotated[str | None, typer.Option("--exhibit", help="Only this exhibit.")]
DeletedOpt = Annotated[bool, typer.Option(
    "--deleted", help="Only deleted files, orphans included (files found with no name pointing to them).")]
MimeOpt = Annotated[str | None, typer.Option("--mime", help="MIME type prefix, e.g. image/ or image/jpeg.")]
YaraOpt = Annotated[str | None, typer.Option("--yara", help="Only files matching this YARA rule name.")]
GpsOpt = Annotated[bool, typer.Option("--has-gps", help="Only files with GPS coordinates.")]
CarvedOpt = Annotated[bool, typer.Option(
    "--carved", help="Only files carved from unallocated space (dalil parse --carve), with their offset and length.")]


def files(
    exhibit: ExhibitOpt = None, deleted: DeletedOpt = False, mime: MimeOpt = None, yara: YaraOpt = None,
    has_gps: GpsOpt = False, carved: CarvedOpt = False,
    fmt: Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")] = common.ListFormat.table,
    case_dir: common.CaseOpt = None,
) -> None:
    """One row per file (and per NTFS stream) found by dalil parse."""
    case = common.open_case(case_dir)
    filters = query.Filters(exhibit, deleted, mime, yara, has_gps, carved)
    rows = [query.public(r) for r in query.select(case, filters)]
    for note in query.unknown_filters(case, filters):
        common.info(f"note: {note}")
    columns = query.TABLE_COLUMNS if fmt == common.ListFormat.table else query.LIST_COLUMNS
    common.emit(rows, fmt, columns, title="Files")


def register(app: typer.Typer) -> None:
    app.command("files")(files)
