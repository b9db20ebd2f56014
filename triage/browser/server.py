"""Running the application with uvicorn: bind, print the start URL (it carries the token), open it."""

from __future__ import annotations

import socket
import webbrowser
from typing import Callable

from triage.core.errors import UsageError

from .app import create_app
from .config import ServeConfig

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_port(config: ServeConfig) -> None:
    """Fail with one clear line when the address cannot be bound (before printing any URL)."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((config.host, config.port))
        except OSError as exc:
            raise UsageError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from exc


def serve(config: ServeConfig, say: Callable[[str], None], open_browser: bool = False) -> None:
    import uvicorn

    check_port(config)
    app = create_app(config)
    say(f"Dalil case browser for {config.case_root}")
    say(f"open: {config.start_url()}")
    if config.host not in LOOPBACK:
        say(f"warning: listening on {config.host}, not only on this machine's loopback address")
    if config.read_only:
        say("read-only: tags and notes cannot be written")
    if open_browser:
        webbrowser.open(config.start_url())
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", access_log=False,
                server_header=False, proxy_headers=False)
