"""Overview: exhibits, acquisitions, parses, collections, warnings and gaps, and the ledger's state."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reports.data import CaseData, rows
from triage.core.case import LEDGER_NAME, Case
from triage.core.ledger import check_lines, read_lines

from .common import int_param

MAX_WARNINGS = 200


def ledger_status(case: Case) -> dict[str, Any]:
    """The ledger's chain and signatures checked, and its head against case.db (objects are not
    re-hashed here: `dalil verify` does that)."""
    check = check_lines(read_lines(case.root / LEDGER_NAME))
    seq, head, _ = case.ledger.head()
    if not check.ok:
        return {"ok": False, "entries": check.entries, "message": str(check.problem)}
    if check.entries != seq or check.last_hash != head:
        return {"ok": False, "entries": check.entries,
                "message": f"ledger has {check.entries} entries, case.db records head entry {seq}"}
    return {"ok": True, "entries": check.entries, "message": f"{check.entries} entries linked and signed; "
            f"head entry {seq} matches case.db"}


def summary(case: Case, warnings_offset: int = 0) -> dict[str, Any]:
    light = CaseData(meta=case.meta(), examiners=rows(case, "examiners"), evidence=rows(case, "evidence", None, "exhibit"),
                     acquisitions=rows(case, "acquisitions", None, "started"), files=[], captures=[], tags=[],
                     runs=rows(case, "runs", None, "started"), warnings=[], ledger=[],
                     collections=rows(case, "collections", None, "id"),
                     partitions=rows(case, "partitions", None, "exhibit, partition"))
    counts = {}
    for table in ("files", "captures", "messages", "calls", "contacts", "phone_items", "tags"):
        found = case.store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        counts[table] = case.store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] if found else 0
    total_warnings = case.store.query("SELECT COUNT(*) AS n FROM warnings")[0]["n"]
    warnings = [dict(r) for r in case.store.query("SELECT * FROM warnings ORDER BY id LIMIT ? OFFSET ?",
                                                  (MAX_WARNINGS, warnings_offset))]
    return {"data": light, "counts": counts, "gaps": light.gaps(), "warnings": warnings,
            "total_warnings": total_warnings, "warnings_offset": warnings_offset, "max_warnings": MAX_WARNINGS,
            "parses": [r for r in light.runs if r.get("kind") == "parse"],
            "other_runs": [r for r in light.runs if r.get("kind") != "parse"]}


def routes(ctx: Any) -> list[Route]:
    def overview(request: Request) -> Response:
        case = ctx.access.read()
        return ctx.render.page(request, "overview.html", nav="overview", ledger=ledger_status(case),
                               **summary(case, int_param(request, "warnings_from")))

    return [Route("/", overview)]
