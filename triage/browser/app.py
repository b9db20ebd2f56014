"""The Starlette application of `dalil serve`: the page modules' routes, the shipped static files,
and the guard (token, Host, CSRF, read-only, security headers) around all of it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from triage.core.errors import DalilError, NotFound

from .config import ServeConfig
from .render import Renderer
from .security import Guard
from .state import CaseAccess

STATIC = Path(__file__).parent / "static"
PAGES = ["overview", "search", "files", "comms", "captures", "timeline", "geo", "links", "tags"]


@dataclass
class Ctx:
    """What a page module's routes need."""

    config: ServeConfig
    render: Renderer
    access: CaseAccess


def create_app(config: ServeConfig) -> Guard:
    # the tables of every component are registered before any case is opened
    import collectors.schema  # noqa: F401
    import reports.schema  # noqa: F401
    import triage.artifacts.schema  # noqa: F401
    import triage.image.schema  # noqa: F401

    ctx = Ctx(config, Renderer(config), CaseAccess(config))
    routes: list[BaseRoute] = []
    for name in PAGES:
        routes += importlib.import_module(f"{__package__}.pages.{name}").routes(ctx)
    routes.append(Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"))

    async def not_found(request: Request, exc: Exception) -> Response:
        return ctx.render.page(request, "error.html", status=404, message=str(exc))

    async def failed(request: Request, exc: Exception) -> Response:
        return ctx.render.page(request, "error.html", status=400, message=str(exc))

    async def refused(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(f"403 Forbidden: {exc}\n", status_code=403)

    app = Starlette(routes=routes, exception_handlers={NotFound: not_found, DalilError: failed,
                                                       PermissionError: refused})
    return Guard(app, config)
