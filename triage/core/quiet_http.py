"""A threading HTTP server for Dalil's own local services (the demo's TSA and ad site) that does
not print a traceback when a client hangs up mid-answer: a browser closing a page, or an HTTP
client timing out, is normal traffic. Any other error is still printed."""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)
