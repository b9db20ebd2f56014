"""Demo stage (`make demo`): the links between the demo's exhibits. The seized phone (EXH-001) keeps
"+218 91 234 5678" in a note and a chat export, the SD card (EXH-002) has it in an advert, and the
demo ad site (WEB-001) shows it as "٠٩١٢٣٤٥٦٧٨": one number, three exhibits. The case is then
pushed to a lab repository kept in the demo folder and searched there."""

from __future__ import annotations

from typing import Any


def run(ctx: Any) -> None:
    case = str(ctx.case)
    ctx.dalil("links", "--case", case)
    ctx.dalil("links", "--entity", "٠٩١٢٣٤٥٦٧٨", "--case", case)
    graph = ctx.out / "links.graphml"
    ctx.dalil("links", "--graph", "--format", "graphml", "--out", str(graph), "--case", case,
              "--reason", "Demo: link chart for the analyst")
    ctx.env["XDG_DATA_HOME"] = str(ctx.out / "data")  # the demo's lab repository stays in the demo folder
    ctx.dalil("repository", "push", "--case", case, "--reason", "Demo: lab repository")
    ctx.dalil("repository", "search", "00218 91 234 5678")
    ctx.results.append(f"links          dalil links --case {case}  (link chart: {graph}, open it in Gephi)")
