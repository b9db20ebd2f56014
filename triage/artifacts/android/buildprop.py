"""Device facts from `build.prop` (`/system`, `/system/system` on system-as-root, `/vendor`, `/product`, `/odm`).

One `device` record per property that identifies the phone or its software: model, manufacturer,
brand, device and product names, build fingerprint (or the thumbprint Android 9 writes instead),
Android version, SDK level, security patch, build id, display id, incremental, type, tags and build
date. `title` is the fact (`model`, `security_patch`, …), `value` the property's value, `data` the
property name and the partition it speaks for (`ro.product.vendor.model` → vendor); the build date
(`ro.*build.date.utc`, Unix seconds) is also the record's time. `import` lines and comments are
skipped; the source row is the line number.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from .. import Artifact
from ..context import Context
from ..normalise import unix
from ..records import Item, Record

_PARTS = r"(?:(system|vendor|odm|product|system_ext|bootimage|vendor_dlkm|odm_dlkm)\.)?"
_PRODUCT = re.compile(rf"^ro\.product\.{_PARTS}(model|manufacturer|brand|device|name)$")
_BUILD = re.compile(rf"^ro\.{_PARTS}build\.(fingerprint|thumbprint|id|display\.id|date\.utc|type|tags|"
                    r"version\.release|version\.release_or_codename|version\.sdk|version\.security_patch|"
                    r"security_patch|version\.incremental)$")
LABELS = {"name": "product", "display.id": "build_display", "date.utc": "build_date", "id": "build_id",
          "type": "build_type", "tags": "build_tags", "version.release": "android_version",
          "version.release_or_codename": "android_version", "version.sdk": "sdk",
          "version.security_patch": "security_patch", "security_patch": "security_patch",
          "version.incremental": "build_incremental"}
OTHER = {"ro.serialno": "serial", "ro.boot.serialno": "serial", "ro.board.platform": "platform",
         "ro.csc.sales_code": "sales_code", "ro.csc.country_code": "country_code"}


def fact(key: str) -> tuple[str, str | None] | None:
    """(fact, partition) a property names, or None when it is not one this parser keeps."""
    match = _PRODUCT.match(key) or _BUILD.match(key)
    if match:
        return LABELS.get(match[2], match[2]), match[1]
    if key in OTHER:
        return OTHER[key], None
    return None


class AndroidBuildProp(Artifact):
    NAME = "android.build_prop"
    VERSION = "1.0"
    APP = "android"
    DESCRIPTION = "Device model, manufacturer, build fingerprint, Android version and security patch (build.prop)"
    PATTERNS = ("*/system/build.prop", "*/vendor/build.prop", "*/product/build.prop", "*/odm/build.prop",
                "*/system_ext/build.prop")
    FORMAT = "bytes"

    def parse(self, ctx: Context) -> Iterator[Record]:
        text = ctx.file.read_bytes().decode("utf-8", "replace")
        found = 0
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line or line.startswith("import "):
                continue
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip()
            known = fact(key)
            if known is None or not value:
                continue
            label, partition = known
            found += 1
            data: dict[str, Any] = {"property": key}
            if partition:
                data["partition"] = partition
            when = unix(value) if label == "build_date" else None
            yield Item(kind="device", app="android", source=ctx.source(None, number), time=when, title=label,
                       value=value, data=data)
        if not found:
            ctx.warn("no ro.product.* or ro.build.* property found (not a build.prop?)")
