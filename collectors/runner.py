"""Parent side of a collection: run the child process, then import its results into the case.

The WARC becomes an evidence object (the exhibit's file on its first collection), every payload,
screenshot and certificate chain a content-addressed object, the list of payload hashes an object
(time-stamped with --tsa), and one `captured` ledger entry closes the collection.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from triage.core import evidence
from triage.core.case import Case, check_exhibit_id
from triage.core.clock import rfc3339
from triage.core.errors import DalilError, Unsupported, UsageError
from triage.core.ledger import subject
from triage.core.store import dumps
from triage.links import index as links_index

from . import schema  # noqa: F401 - registers the tables
from .after import _read_jsonl
from .job import Job
from .run import WARC_NAME


@dataclass
class Collected:
    collection: int
    exhibit: str
    warc: str
    warc_sha256: str
    pages: int
    posts: int
    resources: int
    failures: int
    warnings: list[str]
    hashlist_sha256: str
    tsr_sha256: str | None


def check_exhibit(case: Case, exhibit: str) -> None:
    check_exhibit_id(exhibit)
    rows = case.store.query("SELECT kind FROM evidence WHERE exhibit = ?", (exhibit,))
    if rows and rows[0]["kind"] != "web":
        raise UsageError(f"exhibit {exhibit!r} is a {rows[0]['kind']} exhibit, not a web collection")


def _iso(text: str | None) -> str:
    from datetime import datetime

    if not text:
        return rfc3339()
    return rfc3339(datetime.fromisoformat(text))


def run_child(job: Job, workdir: Path, progress: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """Crawl in a child process (a fresh Twisted reactor each time); returns its result.json."""
    job.save(workdir)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with open(workdir / "child.log", "wb") as log:
        child = subprocess.Popen([sys.executable, "-m", "collectors.run", str(workdir)], stdout=log,
                                 stderr=subprocess.STDOUT, env=env, cwd=workdir)
        seen = 0
        try:
            while child.poll() is None:
                time.sleep(0.3)
                if progress is not None:
                    items = workdir / "exchanges.jsonl"
                    count = sum(1 for _ in open(items, "rb")) if items.exists() else 0
                    if count > seen:
                        progress(count - seen)
                        seen = count
        except BaseException:
            child.terminate()
            child.wait(10)
            raise
    result_path = workdir / "result.json"
    if not result_path.exists():
        tail = (workdir / "child.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        raise DalilError(f"collection process ended with code {child.returncode} without a result"
                         f"{': ' + tail[0] if tail else ''}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    if result.get("status") != "done":
        raise DalilError(f"collection failed: {result.get('error', 'unknown error')}")
    return result


def collect(case: Case, job: Job, tsa: str | None = None, reason: str | None = None,
            progress: Callable[[int], Any] | None = None, tsa_timeout: float = 30) -> Collected:
    """Run one collection into `case` under exhibit `job.exhibit`."""
    check_exhibit(case, job.exhibit)
    job.operator = job.operator or case.examiner().name
    job.case_id = case.case_id
    started = rfc3339()
    workdir = Path(tempfile.mkdtemp(prefix="dalil-collect-"))
    try:
        try:
            if job.proxy:
                from .proxy import parse_proxy, preflight, with_env_credentials

                job.proxy = with_env_credentials(job.proxy)
                preflight(parse_proxy(job.proxy or ""), min(job.timeout, 30.0))
            result = run_child(job, workdir, progress)
        except DalilError as exc:
            record_failure(case, job, started, str(exc), reason)
            raise
        return _import(case, job, workdir, result, started, tsa, reason, tsa_timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def record_failure(case: Case, job: Job, started: str, error: str, reason: str | None) -> None:
    """A collection that captured nothing (dead proxy, crashed crawl): a failed run, a warning and a
    `capture-failed` ledger entry, so the attempt is on the record."""
    with case.locked():
        case.ensure_examiner_registered()
        with case.store.transaction() as conn:
            cur = conn.execute("INSERT INTO runs (kind, exhibit, started, ended, status, details) VALUES (?,?,?,?,?,?)",
                               ("collect", job.exhibit, started, rfc3339(), "failed",
                                dumps({"urls": job.urls, "error": error})))
            case.store.add_warning("collect", f"collection failed: {error}", exhibit=job.exhibit, run_id=cur.lastrowid)
            case.record("capture-failed", subject(job.exhibit, None), details={
                "urls": job.urls, "error": error, "settings": job.settings_record(), "started": started,
            }, reason=reason, conn=conn)


def _store_objects(case: Case, workdir: Path, exhibit: str) -> list[tuple[str, int, str, str]]:
    """Payloads and screenshots into objects/ (four at a time: each is fsync'd); returns their
    `objects` rows, inserted by the caller in the same transaction as the captures."""
    from concurrent.futures import ThreadPoolExecutor

    todo = [(path, folder[:-1]) for folder in ("payloads", "screenshots") if (workdir / folder).is_dir()
            for path in sorted((workdir / folder).iterdir()) if not path.name.endswith(".part")]

    def put(entry: tuple[Path, str]) -> tuple[str, int, str, str]:
        digests, _ = case.objects.put_file(entry[0])
        if digests.sha256 != entry[0].name and entry[1] != "tls":
            raise DalilError(f"{entry[1]} {entry[0].name} changed between capture and storage "
                             f"(now sha256 {digests.sha256})")
        return digests.sha256, digests.size, rfc3339(), f"collect {exhibit} {entry[1]}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(put, todo))


def _hashlist(job: Job, exchanges: list[dict[str, Any]], result: dict[str, Any]) -> bytes:
    lines = [f"# dalil collection of exhibit {job.exhibit} (case {job.case_id})",
             "# sha256 size kind url warc-record-id"]
    for ex in exchanges:
        lines.append(f"{ex['sha256']} {ex['size']} payload {ex['url']} {ex['warc_record_id']}")
    for url, shot in (result.get("screenshots") or {}).get("shots", {}).items():
        lines.append(f"{shot['sha256']} {shot['size']} screenshot {url} {shot['warc_record_id']}")
    for chain in result.get("tls") or []:
        lines.append(f"{chain['sha256']} - tls-chain https://{chain['host']}:{chain['port']}/ {chain['warc_record_id']}")
    return ("\n".join(lines) + "\n").encode()


def _timestamp(data: bytes, url: str, timeout: float) -> bytes:
    try:
        from triage.core.timestamp import request_timestamp
    except ImportError as exc:
        raise Unsupported("--tsa: RFC 3161 support is not available in this build") from exc
    return request_timestamp(data, url, timeout=timeout)


def _import(case: Case, job: Job, workdir: Path, result: dict[str, Any], started: str, tsa: str | None,
            reason: str | None, tsa_timeout: float) -> Collected:
    items = _read_jsonl(workdir / "items.jsonl")
    exchanges = _read_jsonl(workdir / "exchanges.jsonl")
    warnings: list[dict[str, str]] = list(result.get("warnings") or [])
    for item in items:
        if item.get("kind") == "failure":
            warnings.append({"location": item.get("url") or "collect", "message": item.get("error") or "failed"})
        elif item.get("warning"):
            warnings.append({"location": item["url"], "message": item["warning"]})
    if result.get("limit_hit"):
        warnings.append({"location": "collect", "message": f"--max-pages {job.max_pages} reached: further pages "
                         "were not requested"})
    hashlist = _hashlist(job, exchanges, result)
    tsr = None
    if tsa:
        try:
            tsr = _timestamp(hashlist, tsa, tsa_timeout)
        except DalilError as exc:
            warnings.append({"location": "tsa", "message": f"time-stamp not obtained from {tsa}: {exc}"})
        except Exception as exc:  # noqa: BLE001 - the capture is kept; the gap is disclosed
            warnings.append({"location": "tsa", "message": f"time-stamp not obtained from {tsa}: {exc}"})
    shots = (result.get("screenshots") or {}).get("shots", {})
    with case.locked():
        check_exhibit(case, job.exhibit)
        case.ensure_examiner_registered()
        warc_file = workdir / WARC_NAME
        exists = bool(case.store.query("SELECT 1 FROM evidence WHERE exhibit = ?", (job.exhibit,)))
        if exists:
            warc_sha = case.put_object(warc_file, origin=f"collect {job.exhibit} warc").sha256
        else:
            row = evidence.add(case, warc_file, job.exhibit, description=f"web capture: {' '.join(job.urls)[:500]}",
                               kind="web", reason=reason, details={"urls": job.urls, "spider": job.spider})
            warc_sha = row.sha256
        warc_rel = case.objects.relpath(warc_sha)
        stored = _store_objects(case, workdir, job.exhibit)
        log_sha = None
        if (workdir / "scrapy.log").is_file():
            log_sha = case.put_object(workdir / "scrapy.log", origin=f"collect {job.exhibit} crawl log").sha256
        hashlist_sha = case.put_object(hashlist, origin=f"collect {job.exhibit} hash list").sha256
        tsr_sha = case.put_object(tsr, origin=f"collect {job.exhibit} RFC 3161 time-stamp").sha256 if tsr else None
        ended = rfc3339()
        pages = sum(1 for i in items if i.get("kind") == "page")
        posts = sum(1 for i in items if i.get("kind") == "post")
        failures = sum(1 for i in items if i.get("kind") == "failure")
        with case.store.transaction() as conn:
            cur = conn.execute("INSERT INTO runs (kind, exhibit, started, ended, status, details) VALUES (?,?,?,?,?,?)",
                               ("collect", job.exhibit, started, ended, "done", dumps({"urls": job.urls})))
            run_id = cur.lastrowid
            conn.executemany("INSERT OR IGNORE INTO objects VALUES (?, ?, ?, ?)", stored)
            cur = conn.execute(
                "INSERT INTO collections (exhibit, run_id, started, ended, status, spider, urls, settings, warc,"
                " warc_sha256, hashlist_sha256, tsr_sha256, pages, posts, resources, failures, details)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (job.exhibit, run_id, started, ended, "done", job.spider, dumps(job.urls), dumps(job.settings_record()),
                 warc_rel, warc_sha, hashlist_sha, tsr_sha, pages, posts, len(exchanges), failures,
                 dumps({"spider": result.get("spider"), "tls": result.get("tls") or [], "tsa": tsa,
                        "browser": (result.get("screenshots") or {}).get("browser"),
                        "finish_reason": result.get("finish_reason"), "crawl_log_sha256": log_sha,
                        "stats": result.get("stats"), "child_started": result.get("started"),
                        "child_ended": result.get("ended")})))
            collection = cur.lastrowid
            assert collection is not None
            for ex in exchanges:
                conn.execute(
                    "INSERT INTO capture_resources (collection, exhibit, url, received_at, status, sha256, size,"
                    " content_type, content_encoding, warc_record_id, request_record_id, ip)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (collection, job.exhibit, ex["url"], _iso(ex["received_at"]), ex["status"], ex["sha256"],
                     ex["size"], ex.get("content_type"), ex.get("content_encoding"), ex["warc_record_id"],
                     ex.get("request_record_id"), ex.get("ip")))
            for item in items:
                _insert_capture(conn, collection, job, warc_rel, item, shots)
            for w in warnings:
                case.store.add_warning(w["location"], w["message"], exhibit=job.exhibit, run_id=run_id)
            links = links_index.index_in_transaction(case, conn, job.exhibit, run_id)
            case.record("captured", subject(job.exhibit, warc_sha), details={
                "collection": collection, "urls": job.urls, "spider": result.get("spider"),
                "warc": warc_rel, "warc_sha256": warc_sha, "hashlist_sha256": hashlist_sha,
                "tsr_sha256": tsr_sha, "tsa": tsa, "crawl_log_sha256": log_sha, "pages": pages, "posts": posts, "resources": len(exchanges),
                "failures": failures, "warnings": len(warnings), "screenshots": len(shots),
                "browser": (result.get("screenshots") or {}).get("browser"),
                "settings": job.settings_record(), "started": started, "ended": ended, "links": links,
            }, reason=reason, conn=conn)
    return Collected(collection, job.exhibit, warc_rel, warc_sha, pages, posts, len(exchanges), failures,
                     [f"{w['location']}: {w['message']}" for w in warnings], hashlist_sha, tsr_sha)


def _insert_capture(conn: Any, collection: int, job: Job, warc_rel: str, item: dict[str, Any],
                    shots: dict[str, Any]) -> None:
    kind = item.get("kind")
    if kind == "failure":
        if item.get("role") != "page":
            return
        kind = "page"
    if kind not in ("page", "post"):
        return
    ex = item.get("exchange") or {}
    shot = shots.get(item.get("url", "")) if item.get("kind") == "page" or kind == "post" else None
    skip = {"kind", "url", "status", "title", "text", "indicators", "exchange", "post_id", "channel", "role_"}
    details = {k: v for k, v in item.items() if k not in skip}
    details.update({"ip": ex.get("ip"), "content_type": ex.get("content_type"),
                    "content_encoding": ex.get("content_encoding"), "redirected_from": ex.get("redirected_from"),
                    "size": ex.get("size"), "request_record_id": ex.get("request_record_id"),
                    "screenshot": {k: v for k, v in shot.items() if k != "sha256"} if shot else None})
    conn.execute(
        "INSERT INTO captures (collection, exhibit, url, captured_at, status, sha256, warc, warc_record_id,"
        " screenshot_sha256, title, text, indicators, post_id, kind, channel, details)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (collection, job.exhibit, item.get("url") or "", _iso(ex.get("received_at")), ex.get("status"),
         ex.get("sha256"), warc_rel, ex.get("warc_record_id"), shot["sha256"] if shot else None,
         item.get("title") if kind == "page" else None, item.get("text") or "",
         dumps(item.get("indicators") or {}), item.get("post_id"), kind, item.get("channel"), dumps(details)))
