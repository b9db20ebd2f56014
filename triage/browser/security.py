"""Access control and hardening of every response of `dalil serve`.

- A random token (in the start URL) is needed for every request: the first request with
  `?token=` sets an HttpOnly, SameSite=Strict cookie named for the port and redirects to the same
  URL without the token; any other request without the cookie gets 403.
- The Host header must name this server (127.0.0.1, localhost or [::1] with its port), so a page of
  another site whose name was re-bound to 127.0.0.1 (DNS rebinding) gets 403 even with a cookie.
- Writes (POST) need the CSRF token (header X-CSRF-Token or form field `csrf`, compared in constant
  time) and, when the browser sends one, an Origin of this server; `--read-only` refuses every POST.
- Every response has a strict Content-Security-Policy (scripts and styles only from this origin, no
  inline script, no eval, no framing), no referrer, no sniffing; the replay of a captured page gets
  the `sandbox` CSP directive and `default-src 'none'` (no script, no request, an opaque origin).
"""

from __future__ import annotations

import hmac
from typing import Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import ServeConfig

APP_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           "connect-src 'self'; font-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
           "form-action 'self'")
# the served page of a capture, shown in a sandboxed frame of our own pages: nothing runs, nothing loads
REPLAY_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
REPLAY_PREFIX = "/replay/"


def headers_for(path: str) -> dict[str, str]:
    replay = path.startswith(REPLAY_PREFIX)
    return {
        "Content-Security-Policy": REPLAY_CSP if replay else APP_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "SAMEORIGIN" if replay else "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "no-store",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }


def forbidden(why: str) -> Response:
    return PlainTextResponse(f"403 Forbidden: {why}\n", status_code=403)


class Guard:
    """ASGI middleware: token, Host, CSRF and read-only checks, then the security headers."""

    def __init__(self, app: ASGIApp, config: ServeConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self.check(request)
        if response is not None:
            await self._send_with_headers(response, scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""))

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k.lower().encode(), v.encode()) for k, v in extra.items() if k.lower().encode() not in have]
            await send(message)

        await self.app(scope, receive, send_hardened)

    async def _send_with_headers(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        for k, v in headers_for(scope.get("path", "")).items():
            response.headers.setdefault(k, v)
        await response(scope, receive, send)

    def check(self, request: Request) -> Response | None:
        """None when the request may go on, else the response that refuses (or redirects) it."""
        cfg = self.config
        host = request.headers.get("host", "")
        if host not in cfg.allowed_hosts():
            return forbidden("unexpected Host header")
        given = request.query_params.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode(), cfg.token.encode()):
                return forbidden("wrong token")
            rest = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "token"]
            target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(cfg.cookie, cfg.token, httponly=True, samesite="strict", path="/")
            return redirect
        cookie = request.cookies.get(cfg.cookie, "")
        if not hmac.compare_digest(cookie.encode(), cfg.token.encode()):
            return forbidden("open the start URL printed by dalil serve (it carries the access token)")
        if request.method not in ("GET", "HEAD"):
            if request.method != "POST":
                return PlainTextResponse("405 Method Not Allowed\n", status_code=405)
            if cfg.read_only:
                return forbidden("this server was started with --read-only: no writes")
            origin = request.headers.get("origin")
            if origin is not None and origin != cfg.base_url() and origin not in {
                    f"http://{h}" for h in cfg.allowed_hosts()}:
                return forbidden("cross-origin write")
            csrf = request.headers.get("x-csrf-token", "")
            if not hmac.compare_digest(csrf.encode(), cfg.csrf.encode()):
                return forbidden("missing or wrong CSRF token")
        return None


Endpoint = Callable[[Request], Awaitable[Response]]
