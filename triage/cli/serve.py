"""`dalil serve`: the case browser on 127.0.0.1 (token in the start URL; see triage/browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..core.errors import UsageError
from . import common


def serve(
    case_dir: common.CaseOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (keep 127.0.0.1 unless you must).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8765,
    read_only: Annotated[bool, typer.Option("--read-only", help="Refuse every write (no tags, no notes).")] = False,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the start URL in the default browser.")] = False,
    tiles: Annotated[Path | None, typer.Option("--tiles", help="A local MBTiles file for the map's background.",
                                               show_default=False)] = None,
) -> None:
    """Browse the case in a web browser: search, files, chats, captures, timeline, map, tags."""
    from ..browser.config import ServeConfig
    from ..browser.server import serve as run
    from ..browser.tiles import MBTiles

    if tiles is not None:
        if not tiles.is_file():
            raise UsageError(f"--tiles: no such file: {tiles}")
        MBTiles(tiles)  # checked before the server starts
    import collectors.schema  # noqa: F401  (every table registered: the migrations below see them)
    import reports.schema  # noqa: F401
    from ..artifacts import schema as _phone  # noqa: F401
    from ..core.case import Case, find_case
    from ..image import schema as _files  # noqa: F401

    # the browser's indexes are added by the migrations of an ordinary open; --read-only writes nothing
    case = Case(find_case(case_dir), read_only=True) if read_only else common.open_case(case_dir)
    try:
        examiner = "" if read_only else case.ensure_examiner_registered().name  # the key is unlocked now
    finally:
        case.close()
    config = ServeConfig(case_root=case.root, host=host, port=port, read_only=read_only, tiles=tiles,
                         examiner=examiner)
    run(config, common.say, open_browser)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
