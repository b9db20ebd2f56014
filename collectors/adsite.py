"""A small local classified-ads site (Arabic and French ads) for the demo, tests and benchmark.

`AdSite(ads=20, latency=0.0).start()` serves on 127.0.0.1 on a free port in a thread:
`/` lists the ads (paginated 50 a page), `/ad/<n>.html` is one ad with an image `/img/<n>.png`
and a link to the seller's profile. Numbers are written in several forms (Arabic-Indic digits,
`00` prefix, wa.me links, local forms). Content is generated from `n`, so it is reproducible.
"""

from __future__ import annotations

import html
import socket
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

from triage.core.quiet_http import QuietHTTPServer

PER_PAGE = 50
# The booking number on the demo's listing page, in Arabic-Indic digits: the demo phone extraction
# (triage/demo_data) holds it as "+218 91 234 5678", so `dalil links` shows a link in `make demo`.
DEMO_CONTACT = "٠٩١٢٣٤٥٦٧٨"
_AR = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_ROUTES = [("زوارة", "لامبيدوزا"), ("صبراتة", "صقلية"), ("طبرق", "كريت"), ("Sfax", "Lampedusa"),
           ("Nador", "Almería"), ("Zarzis", "Sicile")]


def png(n: int, size: int = 24) -> bytes:
    """A tiny valid PNG whose colour depends on n."""
    raw = b"".join(b"\x00" + bytes(((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def phone(n: int) -> str:
    """The E.164 number of ad n (a Libyan mobile)."""
    return f"+21891{n:07d}"


def ad_html(n: int) -> str:
    src, dst = _ROUTES[n % len(_ROUTES)]
    local = f"091{n:07d}"
    price = 2000 + 100 * (n % 20)
    if n % 2 == 0:
        body = (f"<h1>رحلة مضمونة من {html.escape(src)} إلى {html.escape(dst)}</h1>"
                f"<p class='desc'>السعر {str(price).translate(_AR)} يورو للشخص. اتصل على "
                f"<span class='phone'>{local.translate(_AR)}</span> أو واتساب "
                f"<a href='https://wa.me/21891{n:07d}'>واتساب</a></p>")
    else:
        body = (f"<h1>Traversée garantie {html.escape(src)} → {html.escape(dst)}</h1>"
                f"<p class='desc'>Prix {price} € par personne. Appelez le "
                f"<span class='phone'>00218 91 {n:07d}</span>, Telegram @passeur_{n}</p>")
    return (f"<!doctype html><html lang='ar'><head><meta charset='utf-8'><title>إعلان {n} / Annonce {n}</title>"
            f"</head><body dir='{'rtl' if n % 2 == 0 else 'ltr'}'>{body}<img src='/img/{n}.png' alt='photo'>"
            f"<p>Vendeur: <a class='seller' href='/user/{n % 7}.html'>user{n % 7}</a></p>"
            f"<p><a href='/'>retour</a></p></body></html>")


def index_html(page: int, ads: int, contact: str | None = None) -> str:
    first = page * PER_PAGE
    items = "".join(f"<li><a class='ad' href='/ad/{n}.html'>إعلان {n}</a></li>"
                    for n in range(first, min(first + PER_PAGE, ads)))
    nxt = f"<a class='next' href='/?page={page + 1}'>التالي</a>" if first + PER_PAGE < ads else ""
    footer = f"<p class='contact'>للحجز والاستفسار: {html.escape(contact)}</p>" if contact else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>سوق الإعلانات</title></head>"
            f"<body><h1>إعلانات</h1><ul>{items}</ul>{nxt}{footer}</body></html>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def setup(self) -> None:
        super().setup()
        # one small write for headers, another for the body: without this, Nagle + delayed ACK
        # add 40 ms to every keep-alive response on loopback
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.server.latency:
            time.sleep(self.server.latency)
        client = self.client_address[0]
        self.server.seen.append((client, self.path, "Sec-Fetch-Mode" in self.headers))
        if self.server.only_from and client != self.server.only_from:
            body = b"direct access refused"
            self.send_response(403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        path, _, query = self.path.partition("?")
        ads = self.server.ads
        status, ctype, body = 404, "text/html; charset=utf-8", b"<html><body>not found</body></html>"
        if path == "/":
            page = int(query.split("=")[1]) if query.startswith("page=") and query[5:].isdigit() else 0
            status, body = 200, index_html(page, ads, self.server.contact).encode()
        elif path.startswith("/ad/") and path.endswith(".html") and path[4:-5].isdigit() and int(path[4:-5]) < ads:
            n = int(path[4:-5])
            if n in self.server.gone:
                status = 410
            else:
                ad_page = ad_html(n)
                if n in self.server.edits:
                    ad_page = ad_page.replace("</body>", f"<p class='edit'>{html.escape(self.server.edits[n])}</p></body>")
                status, body = 200, ad_page.encode()
        elif path.startswith("/img/") and path.endswith(".png") and path[5:-4].isdigit():
            status, ctype, body = 200, "image/png", png(int(path[5:-4]))
        elif path.startswith("/user/"):
            status, body = 200, b"<html><head><title>profile</title></head><body>profile</body></html>"
        elif path == "/robots.txt":
            status, ctype, body = 200, "text/plain", b"User-agent: *\nDisallow: /private/\n"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(QuietHTTPServer):  # a browser closing a page while its image loads: no traceback
    ads: int
    latency: float
    gone: set[int]
    edits: dict[int, str]
    only_from: str | None
    seen: list[tuple[str, str, bool]]
    contact: str | None


class AdSite:
    """The site in a background thread; `url` once started; `stop()` shuts it down."""

    def __init__(self, ads: int = 20, latency: float = 0.0, only_from: str | None = None,
                 contact: str | None = None) -> None:
        """`only_from`: answer 403 to any other client address (tests of proxies); every request is
        listed in `seen` as (client address, path, sent by a browser: has Sec-Fetch-Mode).
        `contact`: a booking number shown at the foot of the listing pages."""
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.contact = contact
        self.server.only_from = only_from
        self.server.seen = []
        self.server.ads = ads
        self.server.latency = latency
        self.server.gone = set()
        self.server.edits = {}
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def remove(self, n: int) -> None:
        """Ad n disappears (410 Gone)."""
        self.server.gone.add(n)

    def edit(self, n: int, text: str) -> None:
        """Ad n gains a paragraph of `text`."""
        self.server.edits[n] = text

    def start(self) -> "AdSite":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "AdSite":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """`python -m collectors.adsite [--ads N] [--latency S]`: serve until interrupted, URL on stdout."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve the local ad site on 127.0.0.1.")
    parser.add_argument("--ads", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    site = AdSite(args.ads, args.latency)
    print(site.url, flush=True)
    try:
        site.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.server.server_close()


if __name__ == "__main__":
    main()
