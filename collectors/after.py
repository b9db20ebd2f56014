"""After the crawl, still in the child: TLS certificate chains and screenshots, into the WARC.

- TLS: Scrapy only exposes the leaf certificate, so each https host is contacted once more with
  pyOpenSSL and the whole chain it presents is kept (PEM, as a WARC resource record). With
  `--proxy` that connection is a tunnel through the proxy (SOCKS5 or HTTP CONNECT), never direct.
- Screenshots: headless Chromium (Playwright driving /usr/bin/chromium) loads every captured HTML
  page again and takes a full-page PNG in the UTC time zone; the browser's own traffic is not in
  the WARC (it is a second visit) and each screenshot says so. Without Chromium, capture goes on
  and the missing screenshots are one recorded warning.
"""

from __future__ import annotations

import hashlib
import json
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .job import Job, redact_proxy
from .proxy import ProxySpec, open_tunnel, parse_proxy
from .warc import WarcSink

if TYPE_CHECKING:  # Playwright is imported lazily: its absence is a recorded warning, not an error
    from playwright.sync_api import ViewportSize

VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def after_crawl(job: Job, workdir: Path, result: dict[str, Any], browser_proxy: str | None = None) -> None:
    """`browser_proxy`: the proxy Chromium uses (the SOCKS bridge, or --proxy itself)."""
    sink = WarcSink(workdir / "collection.warc.gz")
    try:
        result["tls"] = tls_chains(job, workdir, sink, result["warnings"])
        result["screenshots"] = screenshots(job, workdir, sink, result["warnings"], browser_proxy)
    finally:
        sink.close()


def tls_chains(job: Job, workdir: Path, sink: WarcSink, warnings: list[dict[str, str]]) -> list[dict[str, Any]]:
    hosts: dict[tuple[str, int], str | None] = {}
    for ex in _read_jsonl(workdir / "exchanges.jsonl"):
        parts = urlsplit(ex["url"])
        if parts.scheme == "https" and parts.hostname:
            hosts.setdefault((parts.hostname, parts.port or 443), ex.get("tls_leaf_sha256"))
    spec = parse_proxy(job.proxy) if job.proxy else None
    if hosts and spec is not None and spec.scheme == "https":
        warnings.append({"location": "tls", "message": "certificate chains not fetched: tunnels through an "
                         "https:// proxy are not supported here, and a direct handshake would bypass --proxy "
                         "(Scrapy's leaf certificate hash is kept per exchange)"})
        return []
    out = []
    (workdir / "tls").mkdir(exist_ok=True)
    for (host, port), leaf in sorted(hosts.items()):
        try:
            pems = _peer_chain(host, port, job.timeout, spec)
        except Exception as exc:  # noqa: BLE001 - a gap to disclose, not a failure of the capture
            warnings.append({"location": f"tls {host}:{port}", "message": f"certificate chain not fetched: {exc}"})
            continue
        pem = "".join(pems).encode()
        sha = hashlib.sha256(pem).hexdigest()
        (workdir / "payloads").mkdir(exist_ok=True)
        (workdir / "payloads" / sha).write_bytes(pem)
        fetched = datetime.now(timezone.utc).isoformat()
        record = sink.resource(f"https://{host}:{port}/", pem, "application/x-pem-file",
                               extra={"WARC-Dalil-Kind": "tls-certificate-chain"})
        first_der_sha = _der_sha(pems[0]) if pems else None
        out.append({"host": host, "port": port, "sha256": sha, "certificates": len(pems), "fetched_at": fetched,
                    "via": spec.public() if spec else "direct",
                    "warc_record_id": record, "leaf_matches_crawl": (first_der_sha == leaf) if leaf else None})
    return out


def _peer_chain(host: str, port: int, timeout: float, proxy: ProxySpec | None = None) -> list[str]:
    from cryptography.hazmat.primitives.serialization import Encoding
    from OpenSSL import SSL

    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_verify(SSL.VERIFY_NONE, lambda *args: True)
    raw = open_tunnel(proxy, host, port, timeout) if proxy else socket.create_connection((host, port), timeout=timeout)
    with raw as sock:
        conn = SSL.Connection(ctx, sock)
        conn.set_tlsext_host_name(host.encode("idna"))
        conn.set_connect_state()
        sock.setblocking(True)
        conn.do_handshake()
        chain = conn.get_peer_cert_chain(as_cryptography=True) or []
        conn.shutdown()
    return [c.public_bytes(Encoding.PEM).decode() for c in chain]


def _playwright_proxy(url: str) -> dict[str, str]:
    """Playwright's proxy option: the server without credentials, which go separately. Loopback is
    proxied too (Playwright adds `<-loopback>` to Chromium's bypass list)."""
    spec = parse_proxy(url)
    out = {"server": spec.public()}
    if spec.username is not None:
        out.update(username=spec.username, password=spec.password or "")
    return out


def _der_sha(pem: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return hashlib.sha256(x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)).hexdigest()


def screenshots(job: Job, workdir: Path, sink: WarcSink, warnings: list[dict[str, str]],
                browser_proxy: str | None = None) -> dict[str, Any]:
    """Full-page PNGs of the captured HTML pages; returns {"browser": …, "shots": {url: {...}}}."""
    pages = []
    for item in _read_jsonl(workdir / "items.jsonl"):
        ex = item.get("exchange") or {}
        if item.get("kind") == "page" and "html" in (ex.get("content_type") or "").lower() and item["url"] not in pages:
            pages.append(item["url"])
    if not job.screenshot or not pages:
        return {"shots": {}}
    if not Path(job.chromium).exists():
        warnings.append({"location": "screenshot", "message": f"no screenshots: Chromium not found at {job.chromium} "
                         f"({len(pages)} page(s) captured without one)"})
        return {"shots": {}}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        warnings.append({"location": "screenshot", "message": f"no screenshots: Playwright unavailable ({exc})"})
        return {"shots": {}}
    shots: dict[str, Any] = {}
    (workdir / "screenshots").mkdir(exist_ok=True)
    try:
        with sync_playwright() as pw:
            launch: dict[str, Any] = {"executable_path": job.chromium, "args": CHROMIUM_ARGS, "headless": True}
            if browser_proxy:
                launch["proxy"] = _playwright_proxy(browser_proxy)
            browser = pw.chromium.launch(**launch)
            version = browser.version
            context = browser.new_context(viewport=VIEWPORT, timezone_id="UTC", user_agent=job.user_agent,
                                          ignore_https_errors=True)
            page = context.new_page()
            for url in pages:
                try:
                    page.goto(url, timeout=job.timeout * 1000, wait_until="load")
                    taken = datetime.now(timezone.utc).isoformat()
                    png = page.screenshot(full_page=True, timeout=job.timeout * 1000)
                except Exception as exc:  # noqa: BLE001 - one page's failure is a warning
                    warnings.append({"location": f"screenshot {url}", "message": f"screenshot failed: {str(exc).splitlines()[0]}"})
                    continue
                sha = hashlib.sha256(png).hexdigest()
                (workdir / "screenshots" / sha).write_bytes(png)
                info = {"browser": f"Chromium {version}", "headless": "headless (Playwright, new headless mode)",
                        "viewport": dict(VIEWPORT), "timezone": "UTC", "taken_at": taken, "full_page": True,
                        "note": "second visit by the browser; its traffic is not in the WARC",
                        "proxy": redact_proxy(job.proxy)}
                record = sink.resource(f"urn:screenshot:{url}", png, "image/png",
                                       extra={"WARC-Dalil-Screenshot-Of": url})
                shots[url] = {"sha256": sha, "size": len(png), "warc_record_id": record, **info}
            browser.close()
    except Exception as exc:  # noqa: BLE001 - the browser failing must not lose the capture
        warnings.append({"location": "screenshot", "message": f"browser failed: {str(exc).splitlines()[0]}"})
        return {"shots": shots}
    return {"browser": f"Chromium {version}", "shots": shots}
