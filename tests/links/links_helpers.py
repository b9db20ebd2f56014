"""Helpers of the links tests: a local web site serving given pages, an Android SMS database, photos."""

from __future__ import annotations

import io
import json
import socket
import sqlite3
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

SMS_DIR = "data/data/com.android.providers.telephony/databases"
SMS_SCHEMA = ("CREATE TABLE sms (_id INTEGER PRIMARY KEY,thread_id INTEGER,address TEXT,person INTEGER,date INTEGER,"
              "date_sent INTEGER DEFAULT 0,protocol INTEGER,read INTEGER DEFAULT 0,status INTEGER DEFAULT -1,"
              "type INTEGER,reply_path_present INTEGER,subject TEXT,body TEXT,service_center TEXT,"
              "locked INTEGER DEFAULT 0,error_code INTEGER DEFAULT 0,seen INTEGER DEFAULT 0)")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pages: dict[str, tuple[str, bytes]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:  # noqa: N802
        ctype, body = self.server.pages.get(self.path.split("?")[0], ("text/html", b"not found"))
        status = 200 if self.path.split("?")[0] in self.server.pages else 404
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve(pages: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    """A web site on 127.0.0.1 serving `pages` ({path: (content type, body)}); yields its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.pages = pages
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def sms_db(folder: Path, rows: list[tuple[int, str, int, str]]) -> Path:
    """An Android mmssms.db with SMS rows (id, address as written, type 1 in / 2 out, body)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mmssms.db"
    db = sqlite3.connect(path)
    db.execute(SMS_SCHEMA)
    db.executemany("INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?, 1, ?, ?, ?, ?)",
                   [(i, address, 1_780_000_000_000 + i * 60_000, kind, body) for i, address, kind, body in rows])
    db.commit()
    db.close()
    return path


def recompress(jpeg: bytes, scale: float = 0.5, quality: int = 60) -> bytes:
    """The photo as a web site would re-serve it: re-sized and re-compressed, metadata dropped."""
    from PIL import Image

    img = Image.open(io.BytesIO(jpeg)).convert("RGB")
    img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def jsonl(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
