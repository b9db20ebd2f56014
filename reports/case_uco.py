"""CASE/UCO JSON-LD (CASE 1.5.0): investigative actions, files with hashes, URLs, captured pages,
provenance records with exhibit numbers. Checked with `case_validate --built-version case-1.5.0`."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from triage import TOOL_NAME, __version__

from .data import CaseData

CONTEXT = {
    "kb": "http://example.org/kb/",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-location": "https://ontology.unifiedcyberontology.org/uco/location/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "uco-vocabulary": "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
HASHES = (("md5", "MD5"), ("sha1", "SHA1"), ("sha256", "SHA256"))
ACTION_NAMES = {"evidence-registered": "acquisition", "acquired": "acquisition", "parsed": "parsing",
                "captured": "capture", "exported": "export", "bundled": "bundling", "reported": "reporting",
                "tagged": "tagging", "verified": "verification"}


class Graph:
    """Builds the @graph with stable UUID-based IRIs (uuid5 of case id and a natural key)."""

    def __init__(self, case_id: str) -> None:
        self.ns = uuid.uuid5(uuid.NAMESPACE_URL, f"dalil:{case_id}")
        self.nodes: dict[str, dict[str, Any]] = {}

    def iri(self, kind: str, key: str) -> str:
        return f"kb:{kind}-{uuid.uuid5(self.ns, f'{kind}:{key}')}"

    def add(self, node: dict[str, Any]) -> str:
        self.nodes.setdefault(node["@id"], node)
        return node["@id"]


def _dt(value: Any) -> dict[str, str]:
    return {"@type": "xsd:dateTime", "@value": str(value)}


def _hashes(row: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for col, method in HASHES:
        value = row.get(col)
        if value:
            out.append({"@id": f"kb:hash-{uuid.uuid5(uuid.NAMESPACE_OID, f'{method}:{value}')}", "@type": "uco-types:Hash",
                        "uco-types:hashMethod": method,
                        "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": str(value).upper()}})
    return out


def _file_node(g: Graph, key: str, name: str | None, path: str | None, size: Any, row: dict[str, Any]) -> str:
    iri = g.iri("file", key)
    facet: dict[str, Any] = {"@id": g.iri("file-facet", key), "@type": "uco-observable:FileFacet"}
    if name:
        facet["uco-observable:fileName"] = name
    if path:
        facet["uco-observable:filePath"] = path
    if isinstance(size, int):
        facet["uco-observable:sizeInBytes"] = {"@type": "xsd:integer", "@value": str(size)}
    facets = [facet]
    hashes = _hashes(row)
    if hashes:
        facets.append({"@id": g.iri("content-facet", key), "@type": "uco-observable:ContentDataFacet",
                       "uco-observable:hash": hashes})
    exif = row.get("exif")
    if isinstance(exif, dict) and exif:
        facets.append({"@id": g.iri("exif-facet", key), "@type": "uco-observable:EXIFFacet",
                       "uco-observable:exifData": {
                           "@id": g.iri("exif-dict", key), "@type": "uco-types:ControlledDictionary",
                           "uco-types:entry": [{"@id": g.iri("exif-entry", f"{key}:{k}"),
                                                "@type": "uco-types:ControlledDictionaryEntry",
                                                "uco-types:key": str(k), "uco-types:value": str(v)}
                                               for k, v in sorted(exif.items())]}})
    return g.add({"@id": iri, "@type": "uco-observable:File", "uco-core:hasFacet": facets})


def _url_node(g: Graph, url: str) -> str:
    return g.add({"@id": g.iri("url", url), "@type": "uco-observable:URL", "uco-core:hasFacet": [
        {"@id": g.iri("url-facet", url), "@type": "uco-observable:URLFacet", "uco-observable:fullValue": url}]})


def _provenance(g: Graph, exhibit: str, objects: list[str], key: str) -> str:
    node: dict[str, Any] = {"@id": g.iri("provenance", f"{exhibit}:{key}"), "@type": "case-investigation:ProvenanceRecord",
                            "case-investigation:exhibitNumber": exhibit}
    if objects:
        node["uco-core:object"] = [{"@id": o} for o in objects]
    return g.add(node)


def _instruments(g: Graph, details: dict[str, Any]) -> list[str]:
    """The analysers, rule files and spider a run recorded using, as tools with version (and SHA-256)."""
    found: list[tuple[str, str, str | None]] = []
    for item in details.get("analysers") or []:
        if isinstance(item, dict) and item.get("name"):
            found.append((f"analyser {item['name']}", str(item.get("version") or ""), item.get("sha256")))
    for item in details.get("rules") or []:
        if isinstance(item, dict) and (item.get("name") or item.get("path")):
            found.append((f"rules {Path(str(item.get('name') or item.get('path'))).name}",
                          str(item.get("version") or ""), item.get("sha256")))
    spider = details.get("spider")
    if isinstance(spider, dict) and spider.get("name"):
        found.append((f"spider {spider['name']}", str(spider.get("version") or ""), spider.get("sha256")))
    out = []
    for name, version, sha in found:
        node: dict[str, Any] = {"@id": g.iri("tool", f"{name}:{version}:{sha}"), "@type": "uco-tool:Tool",
                                "uco-core:name": name}
        if version:
            node["uco-tool:version"] = version
        if sha:
            node["uco-core:description"] = f"SHA-256 {sha}"
        out.append(g.add(node))
    return out


def _made_files(g: Graph, kind: str, details: dict[str, Any]) -> list[str]:
    """Files a report, export or bundle wrote, with their hashes when the entry records them."""
    out = []
    files = details.get("files")
    if kind == "reporting" and isinstance(files, dict):
        for name, digest in sorted(files.items()):
            out.append(_file_node(g, f"report:{digest}", name, None, None, {"sha256": str(digest).removeprefix("sha256:")}))
    elif kind == "bundling" and details.get("bundle"):
        out.append(_file_node(g, f"bundle:{details['bundle']}:{details.get('payload_listing')}", str(details["bundle"]),
                              None, None, {}))
    return out


def build(data: CaseData) -> dict[str, Any]:
    """The JSON-LD document for `data`."""
    case_id = data.meta.get("case_id", "")
    g = Graph(case_id)
    tool = g.add({"@id": g.iri("tool", f"{TOOL_NAME}-{__version__}"), "@type": "uco-tool:Tool",
                  "uco-core:name": TOOL_NAME, "uco-tool:version": __version__})
    people = {e["fingerprint"]: g.add({"@id": g.iri("person", e["fingerprint"]), "@type": "uco-identity:Person",
                                        "uco-core:name": e["name"]}) for e in data.examiners}
    by_name = {e["name"]: people[e["fingerprint"]] for e in data.examiners}

    exhibit_obj: dict[str, str] = {}
    for ev in data.evidence:
        exhibit_obj[ev["exhibit"]] = _file_node(g, f"evidence:{ev['exhibit']}", Path(ev.get("source_path") or ev.get("path") or "").name or None,
                                                ev.get("source_path") or ev.get("path"), ev.get("size"), ev)
    files_by_exhibit: dict[str, list[str]] = {}
    for row in data.files:
        key = f"f:{row.get('exhibit')}:{row.get('partition')}:{row.get('path')}:{row.get('inode')}"
        files_by_exhibit.setdefault(row.get("exhibit") or "", []).append(
            _file_node(g, key, row.get("name"), row.get("path"), row.get("size"), row))
    captures_by_exhibit: dict[str, list[str]] = {}
    for cap in data.captures:
        url = cap.get("url") or ""
        results = [_url_node(g, url)] if url else []
        key = f"c:{url}:{cap.get('captured_at')}"
        results.append(_file_node(g, key, None, None, None, {"sha256": cap.get("sha256")}))
        if cap.get("screenshot_sha256"):
            results.append(_file_node(g, f"shot:{cap['screenshot_sha256']}", "screenshot.png", None, None,
                                      {"sha256": cap["screenshot_sha256"]}))
        if cap.get("warc"):
            results.append(_file_node(g, f"warc:{cap['warc']}", Path(str(cap["warc"])).name, None, None, {}))
        captures_by_exhibit.setdefault(cap.get("exhibit") or "", []).extend(results)

    for owner, record_node in _phone_records(g, data):
        files_by_exhibit.setdefault(owner, []).append(record_node)
    _link_relationships(g, data, exhibit_obj)

    runs = {r.get("id"): r for r in data.runs}
    actions: list[str] = []
    for entry in data.ledger:
        kind = ACTION_NAMES.get(entry.get("action", ""))
        if not kind:
            continue
        exhibit = (entry.get("subject") or {}).get("exhibit")
        raw = entry.get("details")
        details: dict[str, Any] = raw if isinstance(raw, dict) else {}
        run = runs.get(details.get("run_id")) or {}
        node: dict[str, Any] = {
            "@id": g.iri("action", str(entry.get("hash"))), "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": kind, "uco-core:description": f"custody entry {entry.get('seq')}: {entry.get('action')}",
            "uco-action:startTime": _dt(details.get("started") or run.get("started") or entry["time"]),
            "uco-action:endTime": _dt(details.get("ended") or run.get("ended") or entry["time"]),
            "uco-action:instrument": [{"@id": i} for i in [tool, *_instruments(g, details)]],
        }
        made = _made_files(g, kind, details)
        if made and not exhibit:
            node["uco-action:result"] = [{"@id": f} for f in made]
        performer = by_name.get(entry.get("examiner", ""))
        if performer:
            node["uco-action:performer"] = {"@id": performer}
        if exhibit and exhibit in exhibit_obj:
            node["uco-action:object"] = [{"@id": exhibit_obj[exhibit]}]
            produced = {"acquisition": [exhibit_obj[exhibit]], "parsing": files_by_exhibit.get(exhibit, []),
                        "capture": captures_by_exhibit.get(exhibit, [])}.get(kind, [exhibit_obj[exhibit]])
            node["uco-action:result"] = [{"@id": _provenance(g, exhibit, produced, f"{kind}:{entry.get('seq')}")}]
        actions.append(g.add(node))
    for ev in data.evidence:  # every exhibit has a provenance record with everything derived from it
        _provenance(g, ev["exhibit"], [exhibit_obj[ev["exhibit"]], *files_by_exhibit.get(ev["exhibit"], []),
                                       *captures_by_exhibit.get(ev["exhibit"], [])], "all")
    g.add({"@id": g.iri("investigation", case_id), "@type": "case-investigation:Investigation",
           "uco-core:name": case_id, "uco-core:description": data.meta.get("title", ""),
           **({"uco-core:object": [{"@id": a} for a in actions]} if actions else {})})
    return {"@context": CONTEXT, "@graph": list(g.nodes.values())}


def _account(g: Graph, value: str) -> str:
    """A phone number as a PhoneAccount; any other address (handle, lid:, group:, e-mail) as an account object."""
    if value.startswith("+") and value[1:].isdigit():
        return g.add({"@id": g.iri("phone", value), "@type": "uco-observable:PhoneAccount",
                      "uco-core:hasFacet": [{"@id": g.iri("phone-facet", value), "@type": "uco-observable:PhoneAccountFacet",
                                             "uco-observable:phoneNumber": value}]})
    return g.add({"@id": g.iri("account", value), "@type": "uco-observable:DigitalAccount", "uco-core:name": value})


def _application(g: Graph, app: str) -> str:
    return g.add({"@id": g.iri("app", app), "@type": "uco-observable:Application", "uco-core:name": app})


def _phone_records(g: Graph, data: CaseData) -> list[tuple[str, str]]:
    """Message, Call and Contact objects of the phone records, each with the file it was read from."""
    out: list[tuple[str, str]] = []
    for m in data.messages:
        facet: dict[str, Any] = {"@id": g.iri("message-facet", str(m["id"])), "@type": "uco-observable:MessageFacet",
                                 "uco-observable:application": {"@id": _application(g, m["app"])},
                                 "uco-observable:messageType": m["app"]}
        if m.get("text") is not None:
            facet["uco-observable:messageText"] = m["text"]
        if m.get("time"):
            facet["uco-observable:sentTime"] = _dt(m["time"])
        if m.get("sender"):
            facet["uco-observable:from"] = {"@id": _account(g, m["sender"])}
        if m.get("recipients"):
            facet["uco-observable:to"] = [{"@id": _account(g, r)} for r in m["recipients"]]
        if m.get("thread"):
            facet["uco-observable:sessionID"] = m["thread"]
        out.append((m["exhibit"], g.add({"@id": g.iri("message", str(m["id"])), "@type": "uco-observable:Message",
                                         "uco-core:description": _where(m), "uco-core:hasFacet": [facet]})))
    for c in data.calls:
        facet = {"@id": g.iri("call-facet", str(c["id"])), "@type": "uco-observable:CallFacet",
                 "uco-observable:application": {"@id": _application(g, c["app"])},
                 "uco-observable:callType": c.get("direction") or "unknown"}
        if c.get("time"):
            facet["uco-observable:startTime"] = _dt(c["time"])
        if c.get("duration") is not None:
            facet["uco-observable:duration"] = {"@type": "xsd:integer", "@value": int(c["duration"])}
        if c.get("number"):
            party = {"@id": _account(g, c["number"])}
            facet["uco-observable:to" if c.get("direction") == "outgoing" else "uco-observable:from"] = (
                [party] if c.get("direction") == "outgoing" else party)
        out.append((c["exhibit"], g.add({"@id": g.iri("call", str(c["id"])), "@type": "uco-observable:Call",
                                         "uco-core:description": _where(c), "uco-core:hasFacet": [facet]})))
    for c in data.contacts:
        facet = {"@id": g.iri("contact-facet", str(c["id"])), "@type": "uco-observable:ContactFacet",
                 "uco-observable:sourceApplication": {"@id": _application(g, c["app"])}}
        if c.get("name"):
            facet["uco-observable:displayName"] = c["name"]
        phones = [g.add({"@id": g.iri("contact-phone", f"{c['id']}:{p}"), "@type": "uco-observable:ContactPhone",
                         "uco-observable:contactPhoneNumber": {"@id": _account(g, p)}}) for p in c.get("phones") or []]
        if phones:
            facet["uco-observable:contactPhone"] = [{"@id": p} for p in phones]
        out.append((c["exhibit"], g.add({"@id": g.iri("contact", str(c["id"])), "@type": "uco-observable:Contact",
                                         "uco-core:description": _where(c), "uco-core:hasFacet": [facet]})))
    return out


def _entity_node(g: Graph, kind: str, value: str) -> str:
    """The observable an entity of the links index is: phone and other accounts, e-mail address,
    domain, bank account (IBAN), wallet, camera, image (a group of look-alike pictures)."""
    if kind in ("phone", "handle"):
        return _account(g, value)
    key = f"{kind}:{value}"
    facet_id = g.iri("entity-facet", key)
    if kind == "email":
        node = {"@type": "uco-observable:EmailAddress", "uco-core:hasFacet": [
            {"@id": facet_id, "@type": "uco-observable:EmailAddressFacet", "uco-observable:addressValue": value}]}
    elif kind == "domain":
        node = {"@type": "uco-observable:DomainName", "uco-core:hasFacet": [
            {"@id": facet_id, "@type": "uco-observable:DomainNameFacet", "uco-observable:value": value}]}
    elif kind in ("iban", "wallet"):
        node = {"@type": "uco-observable:Account" if kind == "iban" else "uco-observable:DigitalAccount",
                "uco-core:name": f"{'IBAN' if kind == 'iban' else 'wallet'} {value}", "uco-core:hasFacet": [
                    {"@id": facet_id, "@type": "uco-observable:AccountFacet", "uco-observable:accountIdentifier": value}]}
    elif kind == "device":
        node = {"@type": "uco-observable:Device", "uco-core:name": value, "uco-core:hasFacet": [
            {"@id": facet_id, "@type": "uco-observable:DeviceFacet", "uco-observable:serialNumber": value.rsplit(":", 1)[-1]}]}
    else:
        node = {"@type": "uco-observable:ObservableObject", "uco-core:name": f"{kind} {value}",
                "uco-core:description": "images within the perceptual-hash threshold of one another" if kind == "image" else kind}
    return g.add({"@id": g.iri("entity", key), **node})


def _link_relationships(g: Graph, data: CaseData, exhibit_obj: dict[str, str]) -> None:
    """Each linking entity Contained_Within each place it was seen: the file, the captured URL, the
    message, call or contact (else the exhibit), with the time of that occurrence."""
    from triage.links.sources import file_ref, message_ref, record_ref

    files = {(r.get("exhibit"), file_ref(r.get("path") or "", r.get("partition"))): r for r in data.files}
    records = {("message", m["exhibit"], message_ref(m)): g.iri("message", str(m["id"])) for m in data.messages}
    records.update({("call", c["exhibit"], record_ref(c)): g.iri("call", str(c["id"])) for c in data.calls})
    records.update({("contact", c["exhibit"], record_ref(c)): g.iri("contact", str(c["id"])) for c in data.contacts})
    for link in data.links:
        entity = _entity_node(g, link["kind"], link["value"])
        for occ in link["occurrences"]:
            exhibit, source, ref = occ["exhibit"], occ["source"], occ["ref"]
            place: str | None = None
            if source == "file" and (exhibit, ref) in files:
                row = files[(exhibit, ref)]
                place = g.iri("file", f"f:{row.get('exhibit')}:{row.get('partition')}:{row.get('path')}:{row.get('inode')}")
            elif source == "capture":
                place = _url_node(g, ref.split(" ", 1)[0])
            else:
                place = records.get((source, exhibit, ref))
            if place is None or place not in g.nodes:
                place = exhibit_obj.get(exhibit)
            if place is None:
                continue
            rel: dict[str, Any] = {
                "@id": g.iri("link", f"{link['kind']}:{link['value']}:{exhibit}:{source}:{ref}"),
                "@type": "uco-observable:ObservableRelationship", "uco-core:source": [{"@id": entity}],
                "uco-core:target": {"@id": place}, "uco-core:kindOfRelationship": "Contained_Within",
                "uco-core:isDirectional": True,
                "uco-core:description": f"{link['kind']} {link['value']} seen in exhibit {exhibit} ({source}) at {ref}"}
            if occ.get("time") and _RFC3339.fullmatch(str(occ["time"])):
                rel["uco-core:startTime"] = _dt(occ["time"])
            g.add(rel)


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


def _where(record: dict[str, Any]) -> str:
    src = record.get("source") or {}
    text = f"read from {src.get('path')} table {src.get('table')} row {src.get('row')}"
    return text + (f" (recovered: {src['where']})" if src.get("where") else "")


def write_case(data: CaseData, out: Path) -> Path:
    path = out / "case.jsonld"
    path.write_text(json.dumps(build(data), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
