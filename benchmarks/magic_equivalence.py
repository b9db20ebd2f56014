"""Does the pruned-database engine (triage/analyzers/magicdb.py) type files exactly as libmagic with the
full system database does? Compares both on many files and on the shared magic_expected.json corpus,
prints the counts (and every difference), and the CPU per file of each. Then UTF-8 variants of the
text files among them (a line of Arabic and French added at the end, a letter at the start, a word in
the middle), where libmagic's text tests read the bytes as UTF-8: the engine decides their regex tests
on the bytes, so the variants check that reading.

    python benchmarks/magic_equivalence.py [--files 60000] [--utf8 20000] [--roots /usr/lib /usr/share /usr/bin /etc]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import magic  # noqa: E402

from triage.analyzers import magicdb  # noqa: E402

BYTES_MAX = 7 * 1024 * 1024


def files_under(roots: list[str]) -> list[str]:
    out = []
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    out.append(path)
    return out


def compare(paths: list[str], full: magic.Magic, engine: magicdb.Engine) -> tuple[int, Counter[str], list[str], float, float]:
    seen, kinds, diffs = 0, Counter[str](), []
    t_full = t_engine = 0.0
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read(BYTES_MAX)
        except OSError:
            continue
        if not data:
            continue
        seen += 1
        t0 = time.process_time()
        a = full.from_buffer(data)
        t1 = time.process_time()
        b = engine.mime(data)
        t2 = time.process_time()
        t_full += t1 - t0
        t_engine += t2 - t1
        kinds[a] += 1
        if a != b:
            diffs.append(f"{path}: full {a}, pruned {b}")
    return seen, kinds, diffs, t_full, t_engine


TEXTUAL = ("text/", "application/json", "application/javascript", "application/x-ndjson")


def utf8_variants(data: bytes, rnd: random.Random) -> list[bytes]:
    """`data` (a text file) with non-ASCII UTF-8 added: at the end, at the start, within its first lines."""
    out = [data + "\n# café عربي\n".encode(), "é".encode() + data]
    ends = [i for i in range(min(len(data), 4000)) if data[i] == 0x0A]
    if ends:
        at = rnd.choice(ends)
        out.append(data[:at] + " ليبيا".encode() + data[at:])
        at = rnd.choice(ends)
        out.append(data[:at + 1] + "ü".encode() + data[at + 1:])
    return out


def compare_utf8(paths: list[str], limit: int, full: magic.Magic, engine: magicdb.Engine,
                 seed: int) -> tuple[int, int, Counter[str], list[str]]:
    """The UTF-8 variants of the first `limit` text files (under 300 KB) among `paths`."""
    rnd = random.Random(seed)
    texts, kinds, diffs = 0, Counter[str](), []
    for path in paths:
        if texts >= limit:
            break
        try:
            if os.path.getsize(path) >= 300_000:
                continue
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if not data or not full.from_buffer(data).startswith(TEXTUAL):
            continue
        texts += 1
        for variant in utf8_variants(data, rnd):
            a, b = full.from_buffer(variant), engine.mime(variant)
            kinds[a] += 1
            if a != b:
                diffs.append(f"{path} (UTF-8 variant {variant[:40]!r}): full {a}, pruned {b}")
    return texts, sum(kinds.values()), kinds, diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=60_000)
    ap.add_argument("--roots", nargs="+", default=["/usr/lib", "/usr/share", "/usr/bin", "/etc"])
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--utf8", type=int, default=20_000, help="text files whose UTF-8 variants are compared")
    args = ap.parse_args()
    path = magicdb.compiled_path()
    if path is None:
        print("no single compiled magic database: the engine does not apply here")
        return 2
    engine = magicdb.Engine(path)
    full = magic.Magic(mime=True)
    print(f"libmagic {magic.version()}, database {path}: {len(engine.db.entries)} top-level entries, "
          f"{len(engine.always)} always kept")
    failed = 0
    testdata = Path(os.environ.get("DALIL_TESTDATA", "/work/shared/testdata"))
    truth = testdata / "magic_expected.json"
    if truth.is_file():
        expected = json.loads(truth.read_text())["files"]
        checked = bad = 0
        for rel, info in expected.items():
            p = testdata / rel
            if not p.is_file():
                continue
            data = p.read_bytes()[:BYTES_MAX]
            got = engine.mime(data) if data else "inode/x-empty"
            checked += 1
            if got != info["mime"]:
                bad += 1
                print(f"  corpus {rel}: expected {info['mime']}, pruned {got}")
        print(f"magic_expected.json: {checked} files, {bad} differ")
        failed += bad
    paths = files_under(args.roots)
    random.Random(args.seed).shuffle(paths)
    paths = paths[:args.files]
    seen, kinds, diffs, t_full, t_engine = compare(paths, full, engine)
    for line in diffs:
        print("  " + line)
    print(f"{seen} files from {' '.join(args.roots)}: {len(diffs)} differ; {len(kinds)} MIME types, most common "
          + ", ".join(f"{k} {v}" for k, v in kinds.most_common(8)))
    print(f"CPU per file: full database {t_full / seen * 1e3:.3f} ms, pruned {t_engine / seen * 1e3:.3f} ms "
          f"({t_full / t_engine:.2f}x)")
    failed += len(diffs)
    texts, variants, kinds, diffs = compare_utf8(paths, args.utf8, full, engine, args.seed)
    for line in diffs:
        print("  " + line)
    print(f"UTF-8 variants of {texts} text files: {variants} buffers, {len(diffs)} differ; {len(kinds)} MIME types, "
          "most common " + ", ".join(f"{k} {v}" for k, v in kinds.most_common(8)))
    failed += len(diffs)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
