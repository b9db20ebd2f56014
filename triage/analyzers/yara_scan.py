"""YARA matches with rule, namespace, tags, meta and matched string offsets.

Files held in memory (small ones) are scanned at once; larger ones window by window (with an overlap
so a string across a boundary is still seen; two windows at a time, in two threads), offsets given
from the start of the file.

The run's rules also carry the text-indicators pre-filter (its own namespace, compiled in by
`dalil parse`): one scan of a small file serves both, and the pre-filter's hits are handed on in
`Blob.found` instead of being reported as matches.
"""

from __future__ import annotations

from typing import Any

import yara

from . import Analyzer, Blob, beside
from .text_indicators import PREFILTER_HITS, PREFILTER_NAMESPACE, hits_of

WINDOW = 32 * 1024 * 1024
OVERLAP = 64 * 1024
MAX_OFFSETS = 20


def _matches(rules: Any, data: bytes, base: int, externals: dict[str, str], timeout: int,
             prefilter: list[tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """The matches of `rules` in `data`; pre-filter hits go to `prefilter` (when given), never to the result."""
    out = []
    for m in rules.match(data=data, externals=externals, timeout=timeout):
        if m.namespace == PREFILTER_NAMESPACE:
            if prefilter is not None:
                prefilter.extend(hits_of([m]))
            continue
        strings = []
        for s in m.strings:
            for inst in s.instances[:MAX_OFFSETS]:
                strings.append({"identifier": s.identifier, "offset": base + inst.offset,
                                "length": inst.matched_length})
        out.append({"rule": m.rule, "namespace": m.namespace, "tags": list(m.tags),
                    "severity": m.meta.get("severity"), "description": m.meta.get("description"),
                    "strings": strings})
    return out


class YaraScan(Analyzer):
    NAME = "yara"
    VERSION = "1.1"
    ORDER = 60

    def analyse(self, blob: Blob) -> dict[str, Any]:
        rules = self.settings.rules
        if rules is None:
            return {}
        ext = blob.ext
        externals = {"filename": blob.name, "filepath": blob.locator, "extension": f".{ext}" if ext else "",
                     "filetype": blob.found.get("mime") or ""}
        timeout = self.settings.yara_timeout
        if blob.data is not None or blob.size <= len(blob.head):
            prefilter: list[tuple[int, int]] = []
            found = _matches(rules, blob.data if blob.data is not None else blob.head, 0, externals, timeout,
                             prefilter)
            if self.settings.prefilter_in_rules:
                return {"yara_matches": found, PREFILTER_HITS: prefilter}
        else:
            found, seen = [], set()
            assert blob.reader is not None
            starts = list(range(0, blob.size, WINDOW))
            for at in range(0, len(starts), 2):  # two windows at a time: the second in the other thread
                pair = [(o, blob.reader(o, min(WINDOW + OVERLAP, blob.size - o))) for o in starts[at:at + 2]]
                other = beside().submit(_matches, rules, pair[1][1], pair[1][0], externals, timeout) \
                    if len(pair) == 2 else None
                hits = _matches(rules, pair[0][1], pair[0][0], externals, timeout)
                if other is not None:
                    hits += other.result()
                for hit in hits:  # in window order, as one window after the other gave them
                    key = (hit["namespace"], hit["rule"])
                    if key in seen:
                        continue
                    seen.add(key)
                    found.append(hit)
        return {"yara_matches": found} if found else {"yara_matches": []}
