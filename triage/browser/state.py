"""The case as the pages read it: one read-only connection per worker thread (SQLite mode=ro), and
a read-write case opened only for a write (a tag) and closed after it."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from triage.core.case import Case

from .config import ServeConfig


class CaseAccess:
    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._local = threading.local()

    def read(self) -> Case:
        """This thread's read-only view of the case."""
        case = getattr(self._local, "case", None)
        if case is None:
            case = Case(self.config.case_root, read_only=True)
            self._local.case = case
        return case

    @contextmanager
    def write(self) -> Iterator[Case]:
        """A read-write case for one write (refused before this under --read-only)."""
        if self.config.read_only:
            raise PermissionError("read-only server")
        case = Case.open(self.config.case_root)
        try:
            yield case
        finally:
            case.close()
