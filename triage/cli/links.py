"""`dalil links`: entities that link exhibits (and cases), one entity's occurrences, the link chart."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from ..core.errors import UsageError
from ..core.ledger import subject
from ..links import index, query
from . import common

LISTING = ("table", "jsonl", "csv")
GRAPH = ("graphml", "gexf", "csv")
OCCURRENCE_COLUMNS = ["kind", "value", *query.OCCURRENCE_FIELDS]
SHOWN_PLACES = 4  # per row of the table (jsonl and csv give them all)


def _places(row: dict[str, Any]) -> str:
    occ = row["occurrences"]
    lines = [f"{o['exhibit']} {o['source']} {o['ref']}" + (f" ({o['label']})" if o.get("label") else "")
             for o in occ[:SHOWN_PLACES]]
    if len(occ) > SHOWN_PLACES or row["count"] > len(occ):
        lines.append(f"+{row['count'] - len(lines)} more (--format jsonl)")
    return "; ".join(lines)


def _emit_links(rows: list[dict[str, Any]], fmt: str, title: str, extra: list[str] | None = None) -> None:
    if fmt == "table":
        shown = [{**r, "exhibits": ", ".join(r["exhibits"]), "sources": ", ".join(r["sources"]), "places": _places(r),
                  **({"cases": ", ".join(c["case"] for c in r["cases"])} if "cases" in r else {})} for r in rows]
        common.emit(shown, fmt, ["kind", "value", "exhibits", "count", "sources", *(extra or []), "places"],
                    title=title)
    else:
        common.emit(rows, fmt, query.LINK_FIELDS + (extra or []))


def links(
    exhibit: Annotated[str | None, typer.Option("--exhibit", help="Only entities seen in this exhibit.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="phone, handle, email, iban, wallet, domain, image or "
                                                            "device.")] = None,
    min_exhibits: Annotated[int | None, typer.Option("--min-exhibits", help="Seen in at least this many exhibits "
                                                     "(default 2: links; 1 with --across-cases).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="table, jsonl or csv; with --graph: graphml, gexf or csv "
                                                             "(nodes and edges files).")] = None,
    entity: Annotated[str | None, typer.Option("--entity", help="Every occurrence of one entity, written any way "
                                               "(0912345678, +218 91 234 5678, @handle, t.me/…, an IBAN, sha256:…).")] = None,
    graph: Annotated[bool, typer.Option("--graph", help="Write the link chart (entities, exhibits, contact persons) "
                                                        "to --out.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="File the graph is written to.")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Index every exhibit again (recorded in the ledger).")] = False,
    across_cases: Annotated[bool, typer.Option("--across-cases", help="Entities of this case also seen in other cases "
                                               "of the lab repository ($DALIL_REPOSITORY).")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many entities.")] = None,
    max_occurrences: Annotated[int | None, typer.Option("--max-occurrences", help="At most this many occurrences "
                                                        "listed per entity (all by default).")] = None,
    reason: common.ReasonOpt = None,
    case_dir: common.CaseOpt = None,
) -> None:
    """Entities (numbers, handles, e-mails, IBANs, wallets, domains, images) seen in several exhibits,
    strongest first: in more exhibits, in more kinds of source, identifiers before domains."""
    modes = [name for name, on in (("--entity", entity is not None), ("--graph", graph), ("--rebuild", rebuild),
                                   ("--across-cases", across_cases)) if on]
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} cannot be combined")
    allowed = GRAPH if graph else LISTING
    fmt = fmt or (GRAPH[0] if graph else LISTING[0])
    if fmt not in allowed:
        raise UsageError(f"--format {fmt!r}: choose from {', '.join(allowed)}" + (" with --graph" if graph else ""))
    if graph and out is None:
        raise UsageError("--graph needs --out FILE")
    if out is not None and not graph:
        raise UsageError("--out is for --graph")
    if (limit is not None and limit < 1) or (max_occurrences is not None and max_occurrences < 1):
        raise UsageError("--limit and --max-occurrences must be 1 or more")
    case = common.open_case(case_dir)
    if rebuild:
        _rebuild(case, reason)
        return
    for stale in index.stale(case):
        common.warn(f"exhibit {stale} is not in the entity index (stored before it, or by an older version): "
                    "run dalil links --rebuild")
    f = query.LinkFilter(exhibit, kind, min_exhibits if min_exhibits is not None else (1 if across_cases else 2),
                         limit, max_occurrences)
    if entity is not None:
        rows = query.entity(case, entity)
        if not rows:
            common.info(f"no occurrence of {entity!r} in case {case.case_id}")
        common.emit(rows, fmt, OCCURRENCE_COLUMNS if fmt != "table" else OCCURRENCE_COLUMNS[:7], title="Occurrences")
    elif graph:
        assert out is not None
        _graph(case, f, fmt, out, reason)
    elif across_cases:
        from ..links import across
        from ..links.repository import open_repository

        repo = open_repository()
        try:
            rows = across.across_cases(case, repo, f)
        finally:
            repo.close()
        _emit_links(rows, fmt, f"Entities also seen in other cases ({repo.location})", ["cases"])
        if not rows:
            common.info(f"none of this case's entities is in another case of {repo.location}")
    else:
        rows = query.links(case, f)
        _emit_links(rows, fmt, "Links between exhibits (strongest first)")
        if not rows:
            common.info("no entity is seen in " + (f"{f.min_exhibits} or more exhibits" if f.min_exhibits > 1
                                                   else "any exhibit") + (f" with {exhibit}" if exhibit else ""))


def _rebuild(case: Any, reason: str | None) -> None:
    with case.locked():
        case.ensure_examiner_registered()
        with case.store.transaction() as conn:
            summary = index.rebuild(case, conn)
            case.record("links-rebuilt", subject(None, None, case=case.case_id), details=summary, reason=reason,
                        conn=conn)
    for exhibit, counts in summary["exhibits"].items():
        common.say(f"{exhibit}: {counts['occurrences']} occurrence(s) of {counts['entities']} entit(y/ies)")
    linking = case.store.query("SELECT COUNT(*) AS n FROM entities WHERE exhibits >= 2")[0]["n"]
    common.say(f"entity index rebuilt: {linking} entit(y/ies) seen in two or more exhibits (dalil links)")


def _graph(case: Any, f: query.LinkFilter, fmt: str, out: Path, reason: str | None) -> None:
    from ..links import graph

    if not out.parent.is_dir():
        raise UsageError(f"directory does not exist: {out.parent}")
    built = graph.build(case, f)
    with case.locked():
        written = graph.write(built, fmt, out)
        files = {p.name: "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest() for p in written}
        case.record("links-graph-exported", subject(None, None, case=case.case_id), reason=reason, details={
            "format": fmt, "files": files, "nodes": len(built.nodes), "edges": len(built.edges),
            "filters": {"exhibit": f.exhibit, "kind": f.kind, "min_exhibits": f.min_exhibits, "limit": f.limit}})
    for path in written:
        common.say(f"{path}  ({len(built.nodes)} nodes, {len(built.edges)} edges) {files[path.name]}")


def register(app: typer.Typer) -> None:
    app.command("links")(links)
