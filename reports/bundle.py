"""`dalil bundle`: the court bundle — a signed, optionally time-stamped BagIt bag in a zip.

Layout of the zip (`<name>/` is the bag):
  bagit.txt, bag-info.txt, README.txt, manifest-sha256.txt, manifest-sha512.txt,
  tagmanifest-sha256.txt (+ .sig: raw Ed25519 signature; + .tsr: RFC 3161 TimeStampResp), tagmanifest-sha512.txt,
  tsa-chain.pem (with --tsa)
  data/report/…                 report.html, report.pdf, files.csv, captures.csv, indicators.csv, case.jsonld
  data/links/…                  the link chart: links.graphml, links.gexf, links-nodes.csv, links-edges.csv
  data/files/<exhibit>/…         files of interest (or every file with --include all) + data/files/index.csv
  data/captures/<exhibit>/…      captured pages, WARC/WACZ, screenshots + data/captures/index.csv
  data/evidence/                 evidence.json, acquisitions.json
  data/custody/custody.jsonl     the full custody ledger; data/custody/keys/<fingerprint>.pem
  data/viewer/index.html          the portable case: a static offline viewer (reports/viewer.py)
  data/tool-manifest.json
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage import TOOL_NAME, __version__
from triage.core.case import LEDGER_NAME, Case
from triage.core.clock import rfc3339
from triage.core.errors import DalilError, UsageError
from triage.core.ledger import subject
from triage.core.textsafe import csv_cell, csv_writer

from .bag import SIGNATURE, SIGNED, TIMESTAMP, TSA_CHAIN, BagWriter, payload_listing_digest
from .data import CaseData, load, table_columns
from .readme import readme_text
from .redact import redact_lines
from .report import build_report, check_exhibits
from .tools import tool_manifest
from .viewer import add_viewer

INCLUDES = ("report", "files", "captures", "all")
DEFAULT_INCLUDE = ("report", "files", "captures")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, limit: int = 80) -> str:
    """A file name made only of letters, digits and . _ - (a suspect's file name never escapes)."""
    name = _SAFE.sub("_", text).strip("._") or "file"
    return name[:limit]


def parse_include(values: list[str] | None) -> set[str]:
    wanted: set[str] = set()
    for value in values or [",".join(DEFAULT_INCLUDE)]:
        wanted |= {v.strip().lower() for v in value.split(",") if v.strip()}
    bad = wanted - set(INCLUDES)
    if bad:
        raise UsageError(f"unknown --include {', '.join(sorted(bad))}: choose from {', '.join(INCLUDES)}")
    if "all" in wanted:
        wanted |= set(DEFAULT_INCLUDE)
    return wanted


@dataclass
class Payload:
    """What went into the bag and what was left out, for the ledger and bag-info."""

    included: dict[str, int] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)

    def add(self, what: str, n: int = 1) -> None:
        self.included[what] = self.included.get(what, 0) + n


def _copy_object(case: Case, sha256: str | None, dest: Path) -> bool:
    if not sha256 or not case.objects.has(sha256):
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(case.objects.path_for(sha256), dest)
    return True


def _case_file(case: Case, rel: str | None) -> Path | None:
    """A file named by a row (`warc`, `wacz`): an object hash or a path inside the case directory."""
    if not rel:
        return None
    text = str(rel)
    if re.fullmatch(r"(sha256:)?[0-9a-f]{64}", text):
        sha = text.removeprefix("sha256:")
        return case.objects.path_for(sha) if case.objects.has(sha) else None
    path = (case.root / text).resolve()
    if case.root not in path.parents or not path.is_file():
        return None
    return path


def _files(case: Case, data: CaseData, stage: Path, everything: bool, payload: Payload, reason: str | None) -> None:
    """Files of interest (or all): from the object store when stored there, else read back from the
    exhibit by the device path's exporter (which checks each copy against the listed SHA-256)."""
    rows = data.files if everything else [r for r in data.files if data.of_interest(r)]
    rows = sorted(rows, key=lambda r: (not data.file_tags(r), r.get("exhibit") or "", r.get("path") or ""))
    index = []
    from_image: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        sha = row.get("sha256")
        bag_path = f"data/files/{safe_name(row.get('exhibit') or '')}/{(sha or 'nohash')[:16]}-{safe_name(row.get('name') or row.get('path') or '')}"
        entry = {"exhibit": row.get("exhibit"), "path": row.get("path"), "sha256": sha,
                 "why": "; ".join(data.of_interest(row)) or "all files", "bag_path": ""}
        if _copy_object(case, sha, stage / bag_path):
            payload.add("files")
            entry["bag_path"] = bag_path
        elif sha and row.get("size"):
            from_image.setdefault(row.get("exhibit") or "", []).append(row)
            entry["bag_path"] = f"(read back from the exhibit: see data/files/index-{row.get('exhibit')}.csv)"
        else:
            payload.left_out.append(f"{row.get('exhibit')}:{row.get('path')} (no content recorded)")
        index.append(entry)
    for exhibit, wanted in from_image.items():
        try:
            from triage.image.export import export as export_from_image
        except ImportError:
            payload.left_out.append(f"{len(wanted)} file(s) of {exhibit}: content not in the case store "
                                    "and no exporter installed")
            continue
        try:
            result = export_from_image(case, wanted, exhibit, stage / "data/files",
                                       {"bundle": "files of interest" if not everything else "all"}, reason)
            payload.add("files", result.count)
            if result.skipped:
                payload.left_out.append(f"{result.skipped} file(s) of {exhibit} could not be read back from the exhibit")
        except DalilError as exc:
            payload.left_out.append(f"files of {exhibit} not exported: {exc}")
    if index:
        _write_index(stage / "data/files/index.csv", index)


def _collections(case: Case, data: CaseData, stage: Path, payload: Payload, reason: str | None) -> None:
    """Per web collection: the capture-time hash list and its RFC 3161 stamp (when the table exists);
    per web exhibit: a WACZ."""
    if not table_columns(case, "collections") or not data.exhibits:
        return
    marks = ",".join("?" * len(data.exhibits))
    for found in case.store.query(f"SELECT * FROM collections WHERE exhibit IN ({marks}) ORDER BY id", data.exhibits):
        row = dict(found)
        base = f"data/captures/{safe_name(row['exhibit'])}/collection-{row['id']}"
        if _copy_object(case, row.get("hashlist_sha256"), stage / f"{base}-hashlist.txt"):
            payload.add("capture hash lists")
        if _copy_object(case, row.get("tsr_sha256"), stage / f"{base}-hashlist.txt.tsr"):
            payload.add("capture time-stamps")
    web = [r["exhibit"] for r in case.store.query(
        f"SELECT DISTINCT exhibit FROM collections WHERE exhibit IN ({marks}) ORDER BY exhibit", data.exhibits)]
    for exhibit in web:  # a WACZ per web exhibit, replayable in ReplayWeb.page (its making is in the ledger)
        try:
            from collectors import wacz
        except ImportError:
            payload.left_out.append(f"WACZ of {exhibit} (no WACZ packager installed)")
            continue
        dest = stage / f"data/captures/{safe_name(exhibit)}/{safe_name(exhibit)}.wacz"
        try:
            wacz.build(case, exhibit, dest, reason)
            payload.add("WACZ")
        except (DalilError, OSError, ValueError) as exc:
            payload.left_out.append(f"WACZ of {exhibit}: {exc}")


def _captures(case: Case, data: CaseData, stage: Path, payload: Payload) -> None:
    index = []
    for cap in data.captures_sorted():
        base = f"data/captures/{safe_name(cap.get('exhibit') or '')}"
        entry = {"exhibit": cap.get("exhibit"), "url": cap.get("url"), "captured_at": cap.get("captured_at"),
                 "sha256": cap.get("sha256"), "tagged": ";".join(t["label"] for t in cap["tag_list"])}
        if _copy_object(case, cap.get("sha256"), stage / f"{base}/{cap.get('sha256')}.body"):
            payload.add("captured pages")
            entry["body"] = f"{base}/{cap.get('sha256')}.body"
        shot = cap.get("screenshot_sha256")
        if shot and _copy_object(case, shot, stage / f"{base}/{shot}.png"):
            payload.add("screenshots")
            entry["screenshot"] = f"{base}/{shot}.png"
        raw = cap.get("details")
        details: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for key in ("warc", "wacz"):
            ref = cap.get(key) or details.get(key)
            src = _case_file(case, ref)
            if src is not None:
                name = safe_name(Path(str(ref)).name)
                if re.fullmatch(r"[0-9a-f]{64}", name):
                    name += ".warc.gz" if key == "warc" else ".wacz"
                dest = stage / f"{base}/{key}/{name}"
                if not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dest)
                    payload.add(key.upper())
                entry[key] = dest.relative_to(stage).as_posix()
            elif ref:
                payload.left_out.append(f"{key} {ref} of {cap.get('url')} not found in the case")
        index.append(entry)
    if index:
        _write_index(stage / "data/captures/index.csv", index)


def _link_graph(case: Case, stage: Path, exhibits: list[str] | None) -> int:
    """The link chart of the selected exhibits (entities in two or more of them), for Gephi."""
    if not table_columns(case, "entities"):
        return 0
    from triage.links import graph, query

    built = graph.build(case, query.LinkFilter(min_exhibits=2, only=exhibits))
    folder = stage / "data/links"
    folder.mkdir(parents=True, exist_ok=True)
    written = [*graph.write(built, "graphml", folder / "links.graphml"), *graph.write(built, "gexf", folder / "links.gexf"),
               *graph.write(built, "csv", folder / "links.csv")]
    return len(written)


def _write_index(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(cols)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in cols])


def _json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def build_bundle(case: Case, out: Path, exhibits: list[str] | None, include: set[str], tsa: str | None,
                 reason: str | None, lang: str = "en") -> dict[str, Any]:
    """Assemble, sign, stamp and zip the bag; record `bundled` in the ledger. Returns a summary."""
    if out.suffix.lower() != ".zip":
        raise UsageError(f"--out must name a .zip file: {out}")
    if out.exists():
        raise UsageError(f"{out} exists already: choose another name (a bundle is never overwritten)")
    if not out.parent.is_dir():
        raise UsageError(f"directory does not exist: {out.parent}")
    exhibits = check_exhibits(case, exhibits)
    examiner = case.ensure_examiner_registered()
    bag_name = safe_name(out.stem)
    tmp = Path(tempfile.mkdtemp(prefix=".dalil-bundle-", dir=out.parent))
    try:
        stage = tmp / bag_name
        (stage / "data").mkdir(parents=True)
        with case.locked():
            data = load(case, exhibits)
            payload = Payload()
            if "report" in include:
                written = build_report(case, stage / "data/report", lang, None, exhibits, data=data)
                payload.add("report files", len(written))
                payload.add("link graph files", _link_graph(case, stage, exhibits))
            else:
                payload.left_out.append("report (not in --include)")
            if "files" in include:
                _files(case, data, stage, "all" in include, payload, reason)
                if "all" not in include:
                    payload.left_out.append("files not tagged, not YARA hits, not known-bad (use --include all)")
            else:
                payload.left_out.append("files (not in --include)")
            if "captures" in include:
                _captures(case, data, stage, payload)
                _collections(case, data, stage, payload, reason)
            else:
                payload.left_out.append("captures (not in --include)")
            add_viewer(case, data, stage, payload)  # the portable case (data/viewer/), from what is staged
            _json(stage / "data/evidence/evidence.json", data.evidence)
            _json(stage / "data/evidence/acquisitions.json", data.acquisitions)
            _json(stage / "data/tool-manifest.json", tool_manifest(data.runs))
            all_exhibits = [r["exhibit"] for r in case.store.query("SELECT exhibit FROM evidence ORDER BY exhibit")]
            others = [e for e in all_exhibits if e not in data.exhibits]
            if others:
                payload.left_out.append(f"exhibits not selected: {', '.join(others)}")
            keys_dir = stage / "data/custody/keys"
            keys_dir.mkdir(parents=True)
            from .keys import pem_of

            for row in data.examiners:
                (keys_dir / f"{row['fingerprint'].removeprefix('sha256:')}.pem").write_bytes(pem_of(row["public_key"]))
            writer = BagWriter(stage)
            pre = writer.digest_files(writer.payload())["sha256"]
            listing = payload_listing_digest(pre)
            entry = case.record("bundled", subject(None, None, case=case.case_id), reason=reason, details={
                "bundle": out.name, "exhibits": data.exhibits, "include": sorted(include),
                "included": payload.included, "left_out": payload.left_out, "payload_listing": listing,
                "payload_files": len(pre), "signing_key": examiner.fingerprint, "tsa": tsa,
                "ledger": "entries about unselected exhibits withheld" if others else "complete",
            })
            ledger_bytes, withheld = redact_lines((case.root / LEDGER_NAME).read_bytes().splitlines(keepends=True),
                                                  None if not others else data.exhibits)
            (stage / "data/custody/custody.jsonl").write_bytes(ledger_bytes)
            try:
                bag_info = {
                    "Source-Organization": data.meta.get("organisation") or "-",
                    "Contact-Name": examiner.name,
                    "External-Identifier": data.meta.get("case_id", ""),
                    "External-Description": data.meta.get("title", ""),
                    "Bagging-Date": rfc3339()[:10],
                    "Bag-Software-Agent": f"{TOOL_NAME} {__version__}",
                    "Dalil-Exhibits": ", ".join(data.exhibits) or "-",
                    "Dalil-Included": "; ".join(f"{k}: {v}" for k, v in payload.included.items()) or "-",
                    "Dalil-Left-Out": "; ".join(payload.left_out) or "-",
                    "Dalil-Signing-Key": examiner.fingerprint,
                    "Dalil-Ledger-Head": f"{entry['seq']} {entry['hash']}",
                    "Dalil-Ledger": (f"{withheld} entries about unselected exhibits withheld (seq, prev and hash kept)"
                                     if withheld else "complete"),
                    "Dalil-Timestamp": TIMESTAMP if tsa else "none",
                }
                BagWriter(stage).write(bag_info, readme_text(examiner.fingerprint, bool(tsa)))
                signed = (stage / SIGNED).read_bytes()
                (stage / SIGNATURE).write_bytes(examiner.private_key.sign(signed))
                stamp = None
                if tsa:
                    from triage.core.timestamp import describe, request_timestamp

                    tsr = request_timestamp(signed, tsa)
                    (stage / TIMESTAMP).write_bytes(tsr)
                    (stage / TSA_CHAIN).write_bytes(tsa_chain_pem(tsr))
                    stamp = describe(tsr)
                partial = out.with_name(out.name + ".partial")
                _zip(stage, bag_name, partial)
                os.replace(partial, out)
                return {"bundle": str(out), "entry": entry["seq"], "included": payload.included,
                        "left_out": payload.left_out, "fingerprint": examiner.fingerprint, "timestamp": stamp}
            except BaseException as exc:
                out.with_name(out.name + ".partial").unlink(missing_ok=True)
                case.record("bundle-abandoned", subject(None, None, case=case.case_id), reason=reason, details={
                    "bundle": out.name, "after_entry": entry["seq"], "error": str(exc) or type(exc).__name__})
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def tsa_chain_pem(tsr: bytes) -> bytes:
    """The certificates the TSA put in its token, as PEM (for `openssl ts -verify -untrusted`)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from rfc3161_client import decode_timestamp_response

    parsed = decode_timestamp_response(tsr)
    out = b""
    for der in parsed.signed_data.certificates:
        out += x509.load_der_x509_certificate(bytes(der)).public_bytes(Encoding.PEM)
    return out


def _zip(stage: Path, bag_name: str, dest: Path) -> None:
    """Zip the bag under one top directory; already-compressed payload is stored, text deflated."""
    with zipfile.ZipFile(dest, "w", allowZip64=True) as zf:
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            rel = path.relative_to(stage).as_posix()
            compress = zipfile.ZIP_DEFLATED if path.suffix in (".txt", ".csv", ".json", ".jsonl", ".jsonld", ".html", ".pem") \
                and path.stat().st_size < 64 * 1024 * 1024 else zipfile.ZIP_STORED
            zf.write(path, f"{bag_name}/{rel}", compress_type=compress)
        zf.fp.flush() if zf.fp else None
    with open(dest, "rb+") as fh:
        os.fsync(fh.fileno())
