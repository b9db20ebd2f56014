#!/usr/bin/env python3
"""triage.artifacts.recover over the whole SQLite Forensic Corpus v2.0 (Nemetz, Schmitt & Freiling;
CC0), scored against its answer keys; prints recall and precision per category and overall, and
the time per database.

Answer keys: ../shared/testdata/phone/sqlite_deleted/nemetz/nemetz_expected.json (the XML keys as
JSON). 09-01's key lists no deleted rows although its .sql deletes 1,148 (see the corpus README):
its expected deleted rows are taken from the .sql instead.

Matching. A recovered row is a true positive when it matches a deleted row of the key (same table
name, each key row used once) on every column it recovered:
* a complete row (partial=False) must equal the key row on all columns;
* a partial row (partial=True) has None where a value was lost; it must equal the key row on every
  non-None column (it has at least one: recover never returns a row with nothing in it). A partial
  row that disagrees anywhere is a false positive.
Integers compare as decimal text, reals numerically (relative 1e-9), text exactly.
"full" counts true positives that are complete rows. Recall = matched key rows / key rows.

Dropped tables. The keys count the rows a table held when it was dropped (0A, 0B) as alive, not
deleted, although they are gone from the database. A returned row that matches such a row (same
table name, same matching rule) is counted in "dropT", neither true nor false positive:
precision = TP / (returned - dropT). The last line gives precision with them counted as false
positives as well. "present" is a rough ceiling: key rows whose text
values (first 16 bytes each) still occur somewhere in the .db file (rows without text count as
present); categories 17 and 18 wipe the deleted content, so little is present there.

Usage: .venv/bin/python benchmarks/sqlite_recovery_nemetz.py [--corpus DIR] [--verbose] [--only 0C]
Not a test: prints figures measured here.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.artifacts.recover import RecoveredRow, RecoveryError, recover  # noqa: E402

SHARED = Path(os.environ.get("DALIL_TESTDATA") or ROOT.parent / "shared" / "testdata")
NEMETZ = SHARED / "phone" / "sqlite_deleted" / "nemetz"


def same(ours: Any, key: str) -> bool:
    if isinstance(ours, bool) or ours is None:
        return False
    if isinstance(ours, int):
        if str(ours) == key.strip():
            return True
        try:
            return float(key) == ours
        except ValueError:
            return False
    if isinstance(ours, float):
        try:
            k = float(key)
        except ValueError:
            return False
        return abs(k - ours) <= 1e-9 * max(1.0, abs(k))
    if isinstance(ours, bytes):
        return ours.decode("utf-8", "replace") == key
    return str(ours) == key


def row_matches(row: RecoveredRow, key: dict[str, str]) -> bool:
    if set(row.values) != set(key):
        return False
    known = {c: v for c, v in row.values.items() if v is not None}
    if not row.partial and len(known) != len(key):
        return False
    if not known:
        return False
    return all(same(v, key[c]) for c, v in known.items())


def dropped_alive_rows(xml: Path) -> dict[str, list[dict[str, str]]]:
    """Rows the key lists as alive in a table it marks deleted (read leniently: some keys are not
    well-formed XML, see the corpus README)."""
    text = xml.read_text("utf-8", "replace")
    out: dict[str, list[dict[str, str]]] = {}
    for el in re.findall(r"<element>(.*?)</element>", text, re.S):
        if "<deleted>True</deleted>" not in el.split("</meta>")[0]:
            continue
        name = html.unescape(re.search(r"<name>(.*?)</name>", el, re.S).group(1))  # type: ignore[union-attr]
        for row in re.findall(r"<row>(.*?)</row>", el, re.S):
            cols = re.findall(r"<column>\s*<name>(.*?)</name>\s*<content>(.*?)</content>", row, re.S)
            out.setdefault(name, []).append({html.unescape(c): html.unescape(v) for c, v in cols})
    return out


def sql_deleted_rows_0901(sql_path: Path, columns: list[str]) -> list[dict[str, str]]:
    """09-01: rows of the INSERT with 21406 < id < 22555 (the DELETE at the end of its .sql)."""
    rows = []
    for m in re.finditer(r"\((\d+), '([^']*)', '([^']*)', '([^']*)'\)", sql_path.read_text("utf-8")):
        if 21406 < int(m.group(1)) < 22555:
            rows.append(dict(zip(columns, m.groups())))
    return rows


def present(key: dict[str, str], data: bytes, encoding: str) -> bool:
    for v in key.values():
        if v and not re.fullmatch(r"-?[0-9.]+", v):
            if v[:16].encode(encoding) not in data:
                return False
    return True


def score(rows: list[RecoveredRow], expected: dict[str, list[dict[str, str]]]) -> tuple[int, int, int]:
    """(true positives, complete true positives, key rows matched)."""
    used: dict[str, set[int]] = defaultdict(set)
    tp = full = 0
    # complete rows first, so a partial row cannot take a key row a complete one matches
    for row in sorted(rows, key=lambda r: r.partial):
        for i, key in enumerate(expected.get(row.table, [])):
            if i not in used[row.table] and row_matches(row, key):
                used[row.table].add(i)
                tp += 1
                full += not row.partial
                break
    return tp, full, sum(len(s) for s in used.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=NEMETZ)
    ap.add_argument("--verbose", action="store_true", help="one line per database, and every false positive")
    ap.add_argument("--only", default="", help="categories to run, comma separated (e.g. 0C,0D)")
    args = ap.parse_args()
    keyfile = args.corpus / "nemetz_expected.json"
    if not keyfile.is_file():
        print(f"corpus not found: {keyfile}", file=sys.stderr)
        return 2
    keys = json.loads(keyfile.read_text("utf-8"))
    base = args.corpus / "sqlite_forensic_corpus_v2.0"
    only = {c for c in args.only.split(",") if c}
    cats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    times: list[tuple[float, str]] = []
    for name, entry in sorted(keys.items()):
        if "/" not in name:
            continue
        cat = name.split("/")[0]
        if only and cat not in only:
            continue
        db = base / entry["db"]
        expected: dict[str, list[dict[str, str]]] = {}
        for el in entry["elements"]:
            if el.get("type") == "table" and el.get("deleted_rows"):
                expected.setdefault(el["name"], []).extend(el["deleted_rows"])
        if name == "09/09-01":
            cols = next(el["column_names"] for el in entry["elements"] if el.get("type") == "table")
            expected = {"users": sql_deleted_rows_0901(base / entry["sql"], cols)}
        data = db.read_bytes()
        enc = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}.get(int.from_bytes(data[56:60], "big"), "utf-8")
        t0 = time.perf_counter()
        error = ""
        try:
            rows = recover(db)
        except RecoveryError as exc:
            rows, error = [], f"RecoveryError: {exc}"
        except Exception as exc:  # a crash is a result here: report it, go on
            rows, error = [], f"CRASH {type(exc).__name__}: {exc}"
        dt = time.perf_counter() - t0
        times.append((dt, name))
        tp, full, matched = score(rows, expected)
        alive = dropped_alive_rows(base / entry["xml"])
        dropt = sum(1 for r in rows if not any(row_matches(r, k) for k in expected.get(r.table, []))
                    and any(row_matches(r, k) for k in alive.get(r.table, [])))
        n_key = sum(len(v) for v in expected.values())
        n_present = sum(present(k, data, enc) for v in expected.values() for k in v)
        c = cats[cat]
        c["dbs"] += 1
        c["key"] += n_key
        c["present"] += n_present
        c["returned"] += len(rows)
        c["tp"] += tp
        c["full"] += full
        c["matched"] += matched
        c["dropt"] += dropt
        c["partial"] += sum(r.partial for r in rows)
        c["errors"] += bool(error)
        c["seconds"] += dt
        c["max_seconds"] = max(c["max_seconds"], dt)
        if args.verbose:
            print(f"{name}: key {n_key} present {n_present} returned {len(rows)} tp {tp} (full {full}) "
                  f"dropT {dropt} {dt * 1000:.0f} ms {error}")
            for r in rows:
                if not any(row_matches(r, k) for k in expected.get(r.table, [])):
                    kind = "dropT" if any(row_matches(r, k) for k in alive.get(r.table, [])) else "FP"
                    print(f"    {kind} {r.table} rowid={r.rowid} partial={r.partial} {r.where}: {r.values}")
    head = (f"{'cat':<4} {'DBs':>4} {'key':>5} {'present':>7} {'returned':>8} {'TP':>5} {'full':>5} {'dropT':>5} "
            f"{'FP':>5} {'recall':>7} {'precision':>9} {'ms/DB':>7} {'max ms':>7} {'errors':>6}")
    print(head)
    print("-" * len(head))
    total: dict[str, float] = defaultdict(float)
    for cat in sorted(cats):
        c = cats[cat]
        for k, v in c.items():
            total[k] = max(total[k], v) if k == "max_seconds" else total[k] + v
        print(_line(cat, c))
    print("-" * len(head))
    print(_line("all", total))
    strict = total["tp"] / total["returned"] if total["returned"] else 0.0
    print(f"precision with dropT counted as false positives: {strict:.3f}")
    slow = sorted(times, reverse=True)[:3]
    print(f"time: {sum(t for t, _ in times):.2f} s for {len(times)} DBs; slowest: "
          + ", ".join(f"{n} {t * 1000:.0f} ms" for t, n in slow))
    return 0


def _line(cat: str, c: dict[str, float]) -> str:
    recall = f"{c['matched'] / c['key']:.3f}" if c["key"] else "-"
    judged = c["returned"] - c["dropt"]
    precision = f"{c['tp'] / judged:.3f}" if judged else "-"
    fp = judged - c["tp"]
    ms = 1000 * c["seconds"] / c["dbs"] if c["dbs"] else 0.0
    return (f"{cat:<4} {int(c['dbs']):>4} {int(c['key']):>5} {int(c['present']):>7} {int(c['returned']):>8} "
            f"{int(c['tp']):>5} {int(c['full']):>5} {int(c['dropt']):>5} {int(fp):>5} {recall:>7} {precision:>9} "
            f"{ms:>7.1f} "
            f"{1000 * c['max_seconds']:>7.1f} {int(c['errors']):>6}")


if __name__ == "__main__":
    sys.exit(main())
