"""`dalil repository push|search|cases`: the lab repository of entities across cases."""

from __future__ import annotations

from typing import Annotated

import typer

from ..core.clock import rfc3339
from ..core.ledger import subject
from ..links import entities
from ..links.repository import open_repository
from . import common

repository_app = typer.Typer(help="The lab repository: entities of every case (values, kinds, case ids, exhibits, "
                             "times; never content). SQLite in the user's data directory, or PostgreSQL with "
                             "DALIL_REPOSITORY=postgresql://…", no_args_is_help=True)
SEARCH_COLUMNS = ["case", "kind", "value", "exhibit", "source", "count", "first_seen", "last_seen", "distance"]


@repository_app.command("push")
def push(reason: common.ReasonOpt = None, case_dir: common.CaseOpt = None) -> None:
    """Send this case's entities to the repository (replacing what it held for the case); recorded in the ledger."""
    from ..links import across, index

    case = common.open_case(case_dir)
    for stale in index.stale(case):
        common.warn(f"exhibit {stale} is not in the entity index: run dalil links --rebuild first, or it is not pushed")
    repo = open_repository()
    try:
        with case.locked():
            case.ensure_examiner_registered()
            with case.store.transaction() as conn:
                rows = across.push_rows(case)
                counts = repo.push(case.case_id, rows, rfc3339())
                kinds: dict[str, int] = {}
                for row in rows:
                    kinds[row[0]] = kinds.get(row[0], 0) + 1
                case.record("repository-pushed", subject(None, None, case=case.case_id), reason=reason, conn=conn,
                            details={"repository": repo.location, **counts, "by_kind": dict(sorted(kinds.items())),
                                     "what": "kind, value, exhibit, source, count, first and last time; no content"})
    finally:
        repo.close()
    common.say(f"pushed case {case.case_id} to {repo.location}: {counts['entities']} entit(y/ies) in "
               f"{counts['places']} (exhibit, source) place(s)")


@repository_app.command("search")
def search(
    value: Annotated[str, typer.Argument(help="A number in any written form, a handle, e-mail, IBAN, wallet, domain, "
                                              "sha256:… or phash:… of an image.")],
    region: Annotated[str | None, typer.Option("--region", help="Region of local numbers (default: the case's, "
                                               "else LY).")] = None,
    fmt: Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")] = common.ListFormat.table,
    case_dir: common.CaseOpt = None,
) -> None:
    """Every case of the repository that holds this entity."""
    if region is None:
        try:
            region = common.open_case(case_dir).region
        except Exception:  # noqa: BLE001 - no case here: the default region
            region = "LY"
    wanted = [(k, v) for k, v, _ in entities.classify(value, region)]
    repo = open_repository()
    try:
        found = repo.find(wanted)
    finally:
        repo.close()
    rows = [{"case": r["case_id"], **{k: r[k] for k in SEARCH_COLUMNS[1:8]}, "distance": r.get("distance")}
            for r in found]
    common.emit(rows, fmt, SEARCH_COLUMNS, title=f"In the lab repository ({repo.location})")
    if not rows:
        common.info(f"{value!r} is in no case of {repo.location}"
                    + ("" if wanted else " (not a number, handle, address, IBAN, wallet or image hash)"))


@repository_app.command("cases")
def cases(fmt: Annotated[common.ListFormat, typer.Option("--format", help="table, jsonl or csv.")]
          = common.ListFormat.table) -> None:
    """The cases pushed to the repository."""
    repo = open_repository()
    try:
        rows = repo.cases()
    finally:
        repo.close()
    common.emit(rows, fmt, ["case", "pushed_at", "entities", "places"], title=f"Cases in {repo.location}")


def register(app: typer.Typer) -> None:
    app.add_typer(repository_app, name="repository")
