"""Installed apps: the package manager's `packages.xml` (text XML, or Android Binary XML from Android 12)
and `packages.list`.

One `app` per `<package>`: the package name in `value`, the installer (`com.android.vending`, an app
store, a browser, … or none for preinstalled and side-loaded apps) in `title`. Times are hex
milliseconds: `it` first install (written per package up to Android 13; from Android 14 it is kept
per user, as `first-install-time` in `users/<id>/package-restrictions.xml`, read from there and given
by user in `data.first_install_by_user`), `ut` last update, `ft` the APK's modification time; the
record's time is the first install, else the last update (`data.time_is` says which).
`data` keeps the version code, code path, UID, installer, initiator and originator, the system and
updated-system flags and the install-time permissions granted. `packages.list` (name, UID,
debuggable, data folder, SELinux info, GIDs, version code) is read for the apps a readable
`packages.xml` beside it does not list, so each app is one record.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from typing import Any, Iterator

from .. import Artifact
from ..context import ArtifactFile, Context
from ..normalise import unix_ms
from ..records import Item, Record
from . import abx

FLAG_SYSTEM, FLAG_DEBUGGABLE, FLAG_UPDATED_SYSTEM_APP = 1, 2, 1 << 7
XML_PATTERN = "*/system/packages.xml"
RESTRICTIONS_PATTERN = "*/system/users/*/package-restrictions.xml"


def _hex_ms(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return unix_ms(int(value, 16))
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def read_packages_xml(data: bytes) -> tuple[ET.Element, str | None]:
    root, note = abx.load(data)
    if root.tag != "packages":
        raise abx.BadXml(f"root element is {root.tag!r}, not 'packages' (unknown layout)")
    return root, note


class AndroidPackages(Artifact):
    NAME = "android.packages"
    VERSION = "1.0"
    APP = "android"
    DESCRIPTION = "Installed apps from packages.xml (text or ABX) and packages.list"
    PATTERNS = (XML_PATTERN, "*/system/packages.list")
    ALSO = (RESTRICTIONS_PATTERN,)
    FORMAT = "bytes"

    def parse(self, ctx: Context) -> Iterator[Record]:
        if ctx.file.path.endswith(".list"):
            yield from self._list(ctx)
            return
        try:
            root, note = read_packages_xml(ctx.file.read_bytes())
        except abx.BadXml as exc:
            ctx.warn(f"not read: {exc}", "packages")
            return
        if note:
            ctx.warn(note, "packages")
        updated = {e.get("name") for e in root.findall("updated-package")}
        per_user = self._first_installs(ctx)
        for index, element in enumerate(root.findall("package"), 1):
            name = element.get("name")
            if name:
                users = {user: times[name] for user, times in per_user.items() if times.get(name)}
                yield self._package(ctx, element, index, name in updated, users)

    @staticmethod
    def _first_installs(ctx: Context) -> dict[str, dict[str, str]]:
        """{user id: {package: first install time}} from the package-restrictions.xml files of the
        same system folder (Android 14+ keeps the first install time there, per user)."""
        folder = posixpath.dirname(ctx.file.path) + "/users/"
        out: dict[str, dict[str, str]] = {}
        for other in ctx.find(RESTRICTIONS_PATTERN):
            if not other.path.startswith(folder) or other.deleted != ctx.file.deleted:
                continue
            user = other.path[len(folder):].split("/", 1)[0]
            try:
                root, _ = abx.load(other.read_bytes())
            except abx.BadXml as exc:
                ctx.warn(f"{other.path} not read: {exc}", "package-restrictions")
                continue
            times = {e.get("name") or "": _hex_ms(e.get("first-install-time")) for e in root.findall("pkg")}
            out[user] = {name: when for name, when in times.items() if when}
        return out

    def _package(self, ctx: Context, e: ET.Element, index: int, has_factory_version: bool,
                 by_user: dict[str, str]) -> Item:
        flags = _int(e.get("publicFlags")) if e.get("publicFlags") is not None else _int(e.get("flags"))
        first, update = _hex_ms(e.get("it")), _hex_ms(e.get("ut"))
        if first is None and by_user:
            first = by_user.get("0") or min(by_user.values())
        modified = _hex_ms(e.get("ft")) or (unix_ms(_int(e.get("ts"))) if e.get("ts") else None)
        data: dict[str, Any] = {
            "version_code": _int(e.get("version")), "code_path": e.get("codePath"),
            "uid": _int(e.get("userId") or e.get("sharedUserId")), "first_install": first, "last_update": update,
            "apk_modified": modified, "time_is": "first_install" if first else "last_update" if update else None,
        }
        if by_user:
            data["first_install_by_user"] = by_user
        if e.get("sharedUserId"):
            data["shared_uid"] = True
        for attr, key in (("installer", "installer"), ("installInitiator", "install_initiator"),
                          ("installOriginator", "install_originator"), ("updateOwner", "update_owner"),
                          ("targetSdkVersion", "target_sdk"), ("realName", "real_name")):
            if e.get(attr):
                data[key] = _int(e.get(attr)) if key == "target_sdk" else e.get(attr)
        if flags is not None:
            data["system"] = bool(flags & FLAG_SYSTEM)
            data["updated_system"] = bool(flags & FLAG_UPDATED_SYSTEM_APP) or has_factory_version
            if flags & FLAG_DEBUGGABLE:
                data["debuggable"] = True
        granted = [p.get("name") for p in e.findall("perms/item") if p.get("granted", "true") == "true"]
        if granted:
            data["permissions"] = granted
        return Item(kind="app", app="android", source=ctx.source("package", index), time=first or update,
                    title=e.get("installer"), value=e.get("name"), data=data)

    def _list(self, ctx: Context) -> Iterator[Item]:
        known = self._listed_in_xml(ctx)
        for number, line in enumerate(ctx.file.read_bytes().decode("utf-8", "replace").splitlines(), 1):
            fields = line.split()
            if len(fields) < 4:
                if line.strip():
                    ctx.warn(f"line {number} does not have the name, uid, debuggable, data-folder layout",
                             "packages.list")
                continue
            if fields[0] in known:
                continue
            data: dict[str, Any] = {"uid": _int(fields[1]), "debuggable": fields[2] == "1", "data_dir": fields[3]}
            if len(fields) > 4:
                data["seinfo"] = fields[4]
            if len(fields) > 5 and fields[5] != "none":
                data["gids"] = [_int(g) for g in fields[5].split(",")]
            if len(fields) > 7:
                data["version_code"] = _int(fields[7])
            data["from"] = "packages.list"
            yield Item(kind="app", app="android", source=ctx.source(None, number), value=fields[0], data=data)

    @staticmethod
    def _listed_in_xml(ctx: Context) -> set[str]:
        """Packages a readable packages.xml in the same folder lists (they are recorded from it)."""
        folder = posixpath.dirname(ctx.file.path)
        beside: list[ArtifactFile] = [f for f in ctx.find(XML_PATTERN) if posixpath.dirname(f.path) == folder
                                      and f.deleted == ctx.file.deleted]
        for other in beside:
            try:
                root, _ = read_packages_xml(other.read_bytes())
            except abx.BadXml:
                continue
            return {e.get("name") or "" for e in root.findall("package")}
        return set()
