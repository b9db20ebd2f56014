"""A local MBTiles file (SQLite, `tiles` table in TMS row order) read for `dalil serve --tiles`."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from triage.core.errors import UsageError

MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


class MBTiles:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        try:
            conn = self._conn()
            conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1").fetchall()
            row = conn.execute("SELECT MAX(zoom_level) FROM tiles").fetchone()
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"--tiles {path}: not an MBTiles file ({exc})") from exc
        self.max_zoom = int(row[0] or 0)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            self._local.conn = conn
        return conn

    def tile(self, z: int, x: int, y: int) -> tuple[bytes, str] | None:
        """The tile at z/x/y (XYZ, as Leaflet asks) with its media type, or None."""
        row = self._conn().execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                                   "AND tile_row = ?", (z, x, (1 << z) - 1 - y)).fetchone()
        if row is None:
            return None
        data = bytes(row[0])
        mime = next((m for magic, m in MAGIC.items() if data.startswith(magic)), None)
        return (data, mime) if mime else None
