"""`dalil demo --out DIR`: the main job end to end on bundled demo data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the demo case and results go (replaced).")] = Path("demo-output"),
) -> None:
    """Create a demo case, register demo evidence, and run every stage on it."""
    from ..demo import run_demo  # here, not at start-up: it loads http.server (~30 ms for every command)

    run_demo(out)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
