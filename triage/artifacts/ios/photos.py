"""Where the phone's photos and videos were taken: `Photos.sqlite` (Core Data, under `Media/PhotoData`).

The asset table is `ZGENERICASSET` up to iOS 13 and `ZASSET` from iOS 14: `ZLATITUDE`/`ZLONGITUDE`
(-180.0 when the asset has no place), `ZDATECREATED` (Cocoa seconds: when it was taken),
`ZDIRECTORY` (`DCIM/100APPLE`) and `ZFILENAME` (the file under `/private/var/mobile/Media/`),
`ZUUID`, `ZKIND` (0 photo, 1 video), `ZTRASHEDSTATE`/`ZTRASHEDDATE` ("Recently Deleted"),
`ZHIDDEN`, `ZFAVORITE`, `ZADDEDDATE`; `ZADDITIONALATTRIBUTES` -> `ZADDITIONALASSETATTRIBUTES`
(`ZORIGINALFILENAME`: the name it was imported or received with). Each asset with a place is an
Item of kind `location` whose `data.path` is the file's path under the mobile user's folder.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import cocoa
from ..records import Item, Record
from ._common import Row, compact, live_and_recovered, source, text

NO_PLACE = -180.0
KINDS: dict[Any, str] = {0: "photo", 1: "video"}


class IOSPhotos(Artifact):
    NAME = "ios.photos"
    VERSION = "1.0"
    APP = "photos"
    DESCRIPTION = "Places where photos and videos were taken (Photos.sqlite)"
    PATTERNS = ("*/PhotoData/Photos.sqlite",)

    def parse(self, ctx: Context) -> Iterator[Record]:
        table = next((t for t in ("ZASSET", "ZGENERICASSET")
                      if ctx.has(t, "Z_PK", "ZLATITUDE", "ZLONGITUDE", "ZDATECREATED", "ZFILENAME")), None)
        if table is None:
            ctx.warn("no ZASSET (iOS 14+) or ZGENERICASSET (iOS 11-13) table with Z_PK, ZLATITUDE, ZLONGITUDE, "
                     "ZDATECREATED and ZFILENAME (unknown schema version)", "ZASSET")
            return
        original: dict[int, Any] = {}
        if ctx.has("ZADDITIONALASSETATTRIBUTES", "Z_PK", "ZORIGINALFILENAME"):
            original = {r["Z_PK"]: r["ZORIGINALFILENAME"]
                        for r in ctx.rows("SELECT Z_PK, ZORIGINALFILENAME FROM ZADDITIONALASSETATTRIBUTES")}
        for row, rec in live_and_recovered(ctx, table, f"SELECT * FROM {table} ORDER BY Z_PK", "Z_PK"):
            item = _location(ctx, table, row, rec, original)
            if item is not None:
                yield item


def _location(ctx: Context, table: str, row: Row, rec: Any, original: dict[int, Any]) -> Item | None:
    lat, lon = row.get("ZLATITUDE"), row.get("ZLONGITUDE")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)) or NO_PLACE in (lat, lon) \
            or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    name = text(row.get("ZFILENAME"))
    folder = text(row.get("ZDIRECTORY"))
    path = f"Media/{folder}/{name}" if folder and name else name
    kind = row.get("ZKIND")
    data = {"path": path, "directory": folder, "uuid": text(row.get("ZUUID")), "kind": KINDS.get(kind, kind),
            "original_name": text(original.get(row.get("ZADDITIONALATTRIBUTES") or -1)),
            "added": cocoa(row.get("ZADDEDDATE")), "modified": cocoa(row.get("ZMODIFICATIONDATE")),
            "trashed": True if row.get("ZTRASHEDSTATE") else None, "trashed_at": cocoa(row.get("ZTRASHEDDATE")),
            "hidden": True if row.get("ZHIDDEN") else None, "favorite": True if row.get("ZFAVORITE") else None}
    return Item(kind="location", app="photos", source=source(ctx, table, row["Z_PK"], rec),
                time=cocoa(row.get("ZDATECREATED")), title=name, value=path, location=(float(lat), float(lon)),
                recovered=rec is not None, data=compact(data))
