"""Capture component: writes every HTTP exchange to the WARC and hashes every payload.

`ExchangeRecorder` is a downloader middleware at priority 950, after cookies, proxy and headers
have been applied to the request (so the record shows what was sent) and before redirects and
`HttpCompressionMiddleware` (590) touch the response (so the body is the one the server sent,
content encoding kept). Each response's payload is hashed (SHA-256) as it arrives, written to
WORKDIR/payloads/<sha256> and listed in WORKDIR/exchanges.jsonl; its record ids go into
`request.meta["dalil_exchange"]` for the spider's items.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from urllib.parse import urljoin

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.crawler import Crawler
from scrapy.http import Headers, Response

from .bridge import TOKEN_HEADER
from .warc import WarcSink

_SECRET_HEADERS = {b"proxy-authorization"}
_DROPPED_RESPONSE_HEADERS = {b"transfer-encoding"}


def _pairs(headers: Any, skip: set[bytes]) -> list[tuple[str, str]]:
    out = []
    for name, values in headers.items():
        if name.lower() in skip:
            continue
        for value in values:
            out.append((name.decode("latin-1"), value.decode("latin-1")))
    return out


def _header(headers: Headers, name: bytes) -> str:
    """A response header's last value as text, "" when absent.

    Headers.get returns None rather than the default for a header present with no value; that case
    is read as absent ("") instead of failing on None.decode.
    """
    return (headers.get(name) or b"").decode("latin-1")


class ExchangeRecorder:
    """Request + response records for every exchange, payload SHA-256 at capture."""

    def __init__(self, workdir: Path, sink: WarcSink, proxy: str | None = None,
                 bridge_token: str | None = None) -> None:
        self.workdir = workdir
        self.sink = sink
        self.proxy = proxy  # scheme://host:port without credentials
        self.bridge_token = bridge_token
        self.payloads = workdir / "payloads"
        self.payloads.mkdir(exist_ok=True)
        self.log = open(workdir / "exchanges.jsonl", "a", encoding="utf-8")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ExchangeRecorder":
        workdir = Path(crawler.settings["DALIL_WORKDIR"])
        sink = WarcSink(workdir / "collection.warc.gz")
        recorder = cls(workdir, sink, crawler.settings.get("DALIL_PROXY_PUBLIC"),
                       crawler.settings.get("DALIL_BRIDGE_TOKEN"))
        crawler.signals.connect(recorder.closed, signal=signals.spider_closed)
        return recorder

    def closed(self) -> None:
        self.log.close()
        self.sink.close()

    def process_request(self, request: Request) -> None:
        request.meta["dalil_requested_at"] = datetime.now(timezone.utc).isoformat()
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if self.bridge_token and response.headers.get(TOKEN_HEADER) == self.bridge_token.encode():
            # the SOCKS bridge could not open a connection: not a server response, a failure
            raise IgnoreRequest(f"proxy {self.proxy}: {response.body.decode('utf-8', 'replace')[:300]}")
        received = datetime.now(timezone.utc)
        requested = datetime.fromisoformat(request.meta.get("dalil_requested_at", received.isoformat()))
        body = response.body
        sha256 = hashlib.sha256(body).hexdigest()
        target = self.payloads / sha256
        if not target.exists():
            tmp = target.with_suffix(".part")
            tmp.write_bytes(body)
            os.replace(tmp, target)
        req_headers = _pairs(request.headers, _SECRET_HEADERS)
        if not any(n.lower() == "host" for n, _ in req_headers):
            from urllib.parse import urlsplit

            req_headers.insert(0, ("Host", urlsplit(request.url).netloc))
        # through a proxy the peer Twisted saw is the proxy (or the bridge): never claimed as the server's
        ip = str(response.ip_address) if response.ip_address is not None and not self.proxy else None
        record_id, request_id = self.sink.exchange(
            response.url, request.method, req_headers, request.body or b"", response.status,
            response.protocol or "HTTP/1.1", _pairs(response.headers, _DROPPED_RESPONSE_HEADERS), body, ip,
            requested, received, proxy=self.proxy)
        leaf = None
        if response.certificate is not None:
            try:
                leaf = hashlib.sha256(response.certificate.dump()).hexdigest()
            except Exception:  # noqa: BLE001 - the leaf is a cross-check only
                leaf = None
        location = _header(response.headers, b"Location") or None
        exchange: dict[str, Any] = {
            "url": response.url, "method": request.method, "status": response.status, "sha256": sha256,
            "size": len(body), "content_type": _header(response.headers, b"Content-Type"),
            "content_encoding": _header(response.headers, b"Content-Encoding") or None,
            "warc_record_id": record_id, "request_record_id": request_id, "ip": ip, "proxy": self.proxy,
            "requested_at": requested.isoformat(), "received_at": received.isoformat(),
            "tls_leaf_sha256": leaf, "redirected_from": list(request.meta.get("redirect_urls", [])) or None,
            "location": location,
        }
        self.log.write(json.dumps(exchange, ensure_ascii=False) + "\n")
        self.log.flush()
        request.meta["dalil_exchange"] = exchange
        if 300 <= response.status < 400 and location:
            redirect_to = urljoin(response.url, location)
            chain = [*request.meta.get("redirect_urls", []), request.url]
            if chain.count(redirect_to) >= 1 and len(chain) > 1:
                raise IgnoreRequest(f"redirect loop: {' -> '.join(chain[-4:])} -> {redirect_to}")
        return response


class ProxyMiddleware:
    """Sends every request through --proxy (HttpProxyMiddleware at 750 then applies it)."""

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ProxyMiddleware":
        return cls(crawler.settings["DALIL_PROXY"])

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("proxy", self.proxy)
        return None
