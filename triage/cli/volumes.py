"""`dalil volumes`: every volume or container layer `dalil parse` saw, with what became of it."""

from __future__ import annotations

from typing import Annotated

import typer

from ..image import schema, volumes as layers  # noqa: F401  (schema registers the tables)
from . import common


def volumes(
    exhibit: Annotated[str | None, typer.Option("--exhibit", help="Only this exhibit.")] = None,
    fmt: Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")] = common.ListFormat.table,
    case_dir: common.CaseOpt = None,
) -> None:
    """One row per volume or layer (partition, LVM volume, shadow copy, encrypted volume, …):
    where it is, its scheme and file system, whether it is encrypted, and its status."""
    case = common.open_case(case_dir)
    rows = layers.select(case, exhibit)
    columns = layers.TABLE_COLUMNS if fmt == common.ListFormat.table else layers.COLUMNS + layers.EXTRA
    common.emit(rows, fmt, columns, title="Volumes")


def register(app: typer.Typer) -> None:
    app.command("volumes")(volumes)
