"""`dalil case init|show`: create and summarise a case directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..core.case import Case
from . import common

case_app = typer.Typer(help="Create and summarise cases.", no_args_is_help=True)


@case_app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="New (or empty) case directory.")],
    case_id: Annotated[str, typer.Option("--case-id", help="Case number, e.g. LY-CYB-2026-014.")],
    title: Annotated[str, typer.Option("--title", help="Short case title.")],
    examiner: Annotated[str, typer.Option("--examiner", help="Lead examiner's name (key created if absent).")],
    organisation: Annotated[str | None, typer.Option("--organisation", help="Unit or laboratory.")] = None,
    region: Annotated[str, typer.Option("--region", help="Default phone region (ISO code) for indicators.")] = "LY",
    reason: common.ReasonOpt = None,
) -> None:
    """Create a case: case.db, custody.jsonl, objects/ and images/."""
    case = Case.init(directory, case_id, title, examiner, organisation, region, reason)
    common.say(f"case {case_id} created in {case.root}")
    common.say(f"examiner {case.examiner().name} key {case.examiner().fingerprint}")


@case_app.command("show")
def show(
    case_dir: common.CaseOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Summarise the case: ids, examiners, evidence, ledger head, counts."""
    case = common.open_case(case_dir)
    meta = case.meta()
    counts = {}
    for table in ("evidence", "objects", "warnings", "runs"):
        counts[table] = case.store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
    for table in ("files", "captures"):
        try:
            counts[table] = case.store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
        except Exception:
            pass
    examiners = [dict(r) for r in case.store.query("SELECT name, fingerprint, first_seen FROM examiners")]
    summary = {
        "case_id": meta.get("case_id"), "title": meta.get("title"), "organisation": meta.get("organisation") or None,
        "lead_examiner": meta.get("lead_examiner"), "created": meta.get("created"), "region": meta.get("region"),
        "directory": str(case.root), "ledger_head": {"seq": int(meta.get("head_seq", 0)), "hash": meta.get("head_hash")},
        "schema": case.store.versions(), "counts": counts, "examiners": examiners,
    }
    if fmt == "json":
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))  # data: JSON escapes what it must
        return
    rows = [{"field": k, "value": v} for k, v in summary.items()]
    common.emit(rows, "table", ["field", "value"], title=f"Case {meta.get('case_id')}")


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
