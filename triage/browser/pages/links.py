"""Links: entities shared between exhibits, with their occurrences (through `links_adapter`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..links_adapter import shared_entities


def routes(ctx: Any) -> list[Route]:
    def page(request: Request) -> Response:
        entities = shared_entities(ctx.access.read())
        return ctx.render.page(request, "links.html", nav="links", entities=entities)

    return [Route("/links", page)]
