"""The one place the browser and the portable viewer reach the entity index (`triage/links/`, built
by `dalil links`). Until that index exists in the case, `shared_entities` returns None and the
Links page says so; wiring it is this module only.

Shape the pages expect: a list of entities, each {kind, value, exhibits: [..], occurrences:
[{exhibit, source, location, href (optional)}]}: entities seen in more than one exhibit first."""

from __future__ import annotations

import importlib
from typing import Any

from triage.core.case import Case

INDEX_MODULE = "triage.links.query"   # the links engineer's query module
INDEX_FUNCTION = "shared_entities"    # (case, exhibits) -> list of entities in the shape above, or None if not built


def shared_entities(case: Case, exhibits: list[str] | None = None) -> list[dict[str, Any]] | None:
    """Entities shared between exhibits (of `exhibits` when given: a bundle of selected exhibits)
    with their occurrences, or None when the index is not built."""
    try:
        module = importlib.import_module(INDEX_MODULE)
    except ImportError:
        return None
    fn = getattr(module, INDEX_FUNCTION, None)
    if fn is None:
        return None
    found = fn(case, exhibits)
    return None if found is None else [dict(e) for e in found]
