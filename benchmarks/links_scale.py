"""Benchmark: the entity index at 10 million occurrences, and the `dalil links` queries on it.

A case gets EXHIBITS exhibits of OCCURRENCES/EXHIBITS occurrences each, written through the same
`index.write_exhibit` that `dalil parse`, `dalil collect` and `dalil links --rebuild` use (one
transaction per exhibit, as there): phone numbers (a pool shared between exhibits, the rest each
exhibit's own), handles, e-mail addresses, domains, wallets and images (pHashes, some re-used with
a few bits changed, so look-alike groups form across exhibits). Then the queries are timed: the
strongest links, the full listing, one exhibit and one kind, one entity in another written form,
the link chart; and `dalil links` as a user runs it (a new process). Separately, the extraction
from stored phone records is timed on real `messages` rows (numbers in Arabic-Indic digits, wa.me
links, text), through the same query layer the index uses.

    python benchmarks/links_scale.py [--occurrences 10000000] [--exhibits 20] [--messages 200000] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AR = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def timed(label: str, fn: Callable[[], Any], results: list[tuple[str, float, str]], note: Callable[[Any], str]) -> Any:
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    results.append((label, elapsed, note(value)))
    print(f"  {label:58s} {elapsed:8.2f} s  {note(value)}", flush=True)
    return value


def occurrences(exhibit: int, n: int, shared: int, rnd: random.Random, images: list[int]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    day = f"2026-{1 + exhibit % 12:02d}-{1 + exhibit % 28:02d}"
    for i in range(n):
        roll = rnd.random()
        ref = f"/data/data/com.whatsapp/databases/msgstore.db messages:{i // 3}"
        source = "message" if i % 3 else "contact"
        if roll < 0.70:
            number = rnd.randrange(shared) if rnd.random() < 0.3 else shared + exhibit * 10_000_000 + rnd.randrange(150_000)
            value, kind = f"+2189{number:08d}", "phone"
        elif roll < 0.85:
            kind, value = "handle", f"@user_{rnd.randrange(shared) if rnd.random() < 0.2 else exhibit * 1_000_000 + rnd.randrange(40_000)}"
        elif roll < 0.90:
            kind, value = "email", f"p{rnd.randrange(shared * 4)}@mail.ly"
        elif roll < 0.95:
            kind, value, source, ref = "domain", f"site{rnd.randrange(20_000)}.ly", "capture", f"https://x/{i} <urn:uuid:{i}>"
        elif roll < 0.99:
            kind, value = "wallet", f"T{rnd.randrange(shared):033d}"
        else:
            base = images[rnd.randrange(len(images))]
            ph = base ^ (1 << rnd.randrange(64)) ^ (1 << rnd.randrange(64)) if rnd.random() < 0.5 else base
            hexed = f"{ph:016x}"
            out.append(("image", "phash:" + hexed, "file", f"/sdcard/DCIM/{i}.jpg", f"{day}T10:00:00Z", "image", None,
                        json.dumps({"sha256": f"{i:064x}", "phash": hexed})))
            continue
        out.append((kind, value, source, ref, f"{day}T{i % 24:02d}:00:00Z", "sender" if source == "message" else "contact",
                    None, None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--occurrences", type=int, default=10_000_000)
    parser.add_argument("--exhibits", type=int, default=20)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dalil-links-bench-", dir=args.workdir))
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    os.environ["DALIL_EXAMINER"] = "Bench Examiner"
    from triage.core.case import Case
    from triage.links import index, query
    from triage.links import graph as link_graph

    case = Case.init(work / "case", "BENCH-001", "links at scale", "Bench Examiner")
    case.store.migrate()
    rnd = random.Random(14)
    images = [rnd.getrandbits(64) for _ in range(max(1, args.occurrences // 200))]
    per = args.occurrences // args.exhibits
    results: list[tuple[str, float, str]] = []
    print(f"{args.occurrences:,} occurrences in {args.exhibits} exhibits ({per:,} each), case in {work}")
    with case.store.transaction() as conn:
        for e in range(args.exhibits):
            conn.execute("INSERT INTO evidence (exhibit, kind, path, source_path, in_place, size, md5, sha1, sha256, added_at,"
                         " examiner) VALUES (?, 'image', '-', '-', 1, 0, '', '', '', '2026-01-01T00:00:00Z', 'bench')",
                         (f"EXH-{e:03d}",))
    build = 0.0
    for e in range(args.exhibits):
        found = occurrences(e, per, 20_000, rnd, images)
        start = time.perf_counter()
        with case.store.transaction() as conn:
            index.write_exhibit(conn, f"EXH-{e:03d}", found)
        build += time.perf_counter() - start
        print(f"  indexed EXH-{e:03d}: {len(found):,} occurrences, {build:7.1f} s so far", flush=True)
    total = case.store.query("SELECT COUNT(*) AS n FROM occurrences")[0]["n"]
    entities = case.store.query("SELECT COUNT(*) AS n FROM entities")[0]["n"]
    linking = case.store.query("SELECT COUNT(*) AS n FROM entities WHERE exhibits >= 2")[0]["n"]
    results.append(("build (write_exhibit, all exhibits)", build, f"{total:,} occurrences, {entities:,} entities"))
    print(f"  {'build (write_exhibit, all exhibits)':58s} {build:8.2f} s  {total / build:,.0f} occurrences/s; "
          f"{entities:,} entities, {linking:,} in two or more exhibits")
    size = (work / "case" / "case.db").stat().st_size + sum(p.stat().st_size for p in (work / "case").glob("case.db-*"))
    print(f"  case.db: {size / 1e9:.2f} GB")

    print("queries (in-process, warm cache):")
    timed("links: 100 strongest, 20 places each", lambda: query.links(case, query.LinkFilter(limit=100, max_occurrences=20)),
          results, lambda r: f"{len(r)} rows, top in {len(r[0]['exhibits'])} exhibits")
    timed("links: every entity in 2+ exhibits, without places", lambda: query.selection(case, query.LinkFilter()),
          results, lambda r: f"{len(r):,} rows")
    timed("links: every entity in 2+ exhibits, all places", lambda: query.links(case, query.LinkFilter()),
          results, lambda r: f"{len(r):,} rows, {sum(len(x['occurrences']) for x in r):,} places")
    one = f"EXH-{min(7, args.exhibits - 1):03d}"
    timed(f"links --exhibit {one} --kind phone --limit 100", lambda: query.links(
        case, query.LinkFilter(exhibit=one, kind="phone", limit=100, max_occurrences=20)), results, lambda r: f"{len(r)} rows")
    timed("links --entity '٠٩٠٠٠٠٠٠١٢' (Arabic-Indic, local form)", lambda: query.entity(case, "0900000012".translate(AR)),
          results, lambda r: f"{len(r):,} occurrences")
    timed("links --entity sha256:… (an image by its content hash)", lambda: query.entity(case, "sha256:" + f"{99:064x}"),
          results, lambda r: f"{len(r):,} occurrences")
    timed("links --graph (GraphML, entities in 2+ exhibits, limit 2000)", lambda: link_graph.graphml(
        link_graph.build(case, query.LinkFilter(limit=2000))), results, lambda r: f"{len(r) / 1e6:.1f} MB")
    case.close()
    env = dict(os.environ)
    for label, extra in (("dalil links --limit 100 --max-occurrences 20 --format jsonl", ["--limit", "100", "--max-occurrences", "20"]),
                         ("dalil links --entity 0900000012 --format jsonl", ["--entity", "0900000012"])):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "triage.cli.main", "links", *extra, "--format", "jsonl", "--case",
                               str(work / "case")], capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - start
        assert proc.returncode == 0, proc.stderr
        print(f"  {label:58s} {elapsed:8.2f} s  {len(proc.stdout.splitlines())} lines (new process, cold start)")

    if args.messages:
        extraction(work, args.messages)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept: {work}")


def extraction(work: Path, n: int) -> None:
    """The index of one phone holding `n` SMS/chat messages, from the stored records (real extraction):
    senders in E.164 as the parsers store them; in the text, numbers in Arabic-Indic digits, wa.me
    and t.me links, wallets (40% of messages), plain words (60%)."""
    from triage.core.case import Case
    from triage.links import index

    case = Case.open(work / "case")
    rnd = random.Random(7)
    rows = []
    for i in range(n):
        other = f"09{1 + i % 4}{rnd.randrange(10_000_000):07d}"
        roll = rnd.random()
        text = ("القارب جاهز يوم الجمعة" if roll < 0.6 else f"اتصل على {other.translate(AR)}" if roll < 0.8
                else f"wa.me/218{other[1:]} or t.me/boat_{i % 500}" if roll < 0.95 else f"USDT TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
        rows.append(("PH-REAL", "bench", "sms", f"2026-03-01T{i % 24:02d}:00:00Z", 0, "/data/mmssms.db", 0, "sms", i,
                     None, None, f"sms:{i % 2000}", None, "incoming", "+218" + other[1:], None, "[]", text, "[]"))
    with case.store.transaction() as conn:
        conn.execute("INSERT INTO evidence (exhibit, kind, path, source_path, in_place, size, md5, sha1, sha256, added_at,"
                     " examiner) VALUES ('PH-REAL', 'image', '-', '-', 1, 0, '', '', '', '2026-01-01T00:00:00Z', 'bench')")
        conn.executemany("INSERT INTO messages (exhibit, parser, app, time, recovered, source_path, source_partition,"
                         " source_table, source_row, source_where, extra, thread, thread_name, direction, sender,"
                         " sender_name, recipients, text, attachments) VALUES (" + ",".join("?" * 19) + ")", rows)
    start = time.perf_counter()
    with case.store.transaction() as conn:
        counts = index.index_exhibit(case, conn, "PH-REAL")
    elapsed = time.perf_counter() - start
    print(f"extraction from stored records: {n:,} messages indexed in {elapsed:.2f} s ({n / elapsed:,.0f} messages/s), "
          f"{counts['occurrences']:,} occurrences of {counts['entities']:,} entities")
    case.close()


if __name__ == "__main__":
    main()
