#!/usr/bin/env python3
"""dalil parse against the Sleuth Kit pipeline doing the same work, side by side, in one run.

Two workloads, each an ext4 image built with `mke2fs -d` from Debian's own files:
  docs   /usr/share/doc, /usr/lib/python3, /usr/share/common-licenses (about 7,300 files), the shipped packs
  small  many small files: twelve /usr/share and /usr/lib trees (about 18,600 files, 360 MB, 20 KB
         average) and an 18-rule pack: the shipped packs and benchmarks/bench_pack.yar, two of whose
         regexes have no atom (YARA warns "may slow down scanning"), as real packs have
For each, alternating runs of
  dalil:    dalil parse EXHIBIT --rules PACK   (hashes, MIME, EXIF, YARA, entropy, indicators)
  pipeline: tsk_recover -a; hashdeep -c md5,sha1,sha256 -r; file --mime-type on every file; yara -r PACK
then the medians, their ratio, dalil's CPU per file outside YARA, dalil's YARA CPU against the yara
CLI's, and whether both sides found the same: the SHA-256, the MIME type and the YARA rules of every
file tsk_recover wrote. The timed dalil runs are dalil as an investigator runs it; one more run after
them is instrumented (DALIL_PROFILE: each analyser's CPU, read twice a file through a system call,
0.1 s of the docs run; and the peak memory of the process tree, sampled every 0.2 s by this script)
and gives the CPU by part, the YARA CPU and the memory figures.
Then, for docs, listing only: the pytsk3 walk of dalil against `fls -r -p`; and dalil's fixed cost, a
parse of a one-file image, against its docs median.
Not a test: prints figures measured here. Usage: python benchmarks/parse_vs_tsk.py [--runs N]
[--workload docs|small|both] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "rules").glob("*.yar"))  # the shipped packs (smuggling, EICAR): 9 rules
WORKLOADS: dict[str, tuple[list[str], list[Path]]] = {
    "docs": (["/usr/share/doc", "/usr/lib/python3", "/usr/share/common-licenses"], SHIPPED),
    "small": (["/usr/share/doc", "/usr/lib/python3", "/usr/lib/python3.11", "/usr/share/vim", "/usr/share/perl",
               "/usr/share/perl5", "/usr/share/i18n", "/usr/share/fonts", "/usr/share/mime", "/usr/share/zoneinfo",
               "/usr/share/cmake-3.25"], [*SHIPPED, Path(__file__).with_name("bench_pack.yar")]),
}
LISTING = """
import sys, pytsk3
from triage.image.walk import walk_fs
fs = pytsk3.FS_Info(pytsk3.Img_Info(sys.argv[1]))
print(sum(1 for _ in walk_fs(fs, 0, "UTC", lambda a, b: None)))
"""


def _tree_pss_kib(pid: int) -> int:
    """Proportional set size (shared pages split between sharers) of pid and all its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Ran:
    seconds: float
    cpu: float  # user + system of the process and every descendant it waited for
    rss_mib: int = 0
    tree_mib: int = 0


def run(cmd: list[str] | str, env: dict[str, str] | None = None, stdout: Any = subprocess.DEVNULL,
        sample: bool = False) -> Ran:
    """Run cmd; its wall time, CPU time (wait4 counts the processes it waited for: dalil waits for its
    workers, a shell for its pipeline), peak RSS of its largest process and, when `sample`, peak PSS
    of its whole process tree (sampled every 0.2 s)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE, shell=isinstance(cmd, str))
    tree = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG if sample else 0)
        if pid:
            break
        tree = max(tree, _tree_pss_kib(proc.pid))
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {cmd}\n{err[-2000:]}")
    return Ran(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, tree // 1024)


def build_image(work: Path, name: str, sources: list[str]) -> Path:
    stage = work / f"stage-{name}"
    stage.mkdir()
    for src in sources:
        if Path(src).is_dir():
            target = stage / src.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-a", src, str(target)], check=True)
    used = int(subprocess.run(["du", "-sb", str(stage)], capture_output=True, text=True).stdout.split()[0])
    files = sum(len(f) for _, _, f in os.walk(stage))
    image = work / f"{name}.ext4"
    size_mb = used * 3 // 2 // (1 << 20) + 64
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", str(stage), str(image), f"{size_mb}M"], check=True)
    shutil.rmtree(stage)
    print(f"[{name}] image: {image.stat().st_size / 1e6:,.0f} MB ext4 holding {files:,} names, {used / 1e6:,.0f} MB "
          f"({used / max(files, 1) / 1e3:.1f} KB average) from {', '.join(sources)}", flush=True)
    return image


def dalil_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(work / "config"), DALIL_EXAMINER="Bench Examiner",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def dalil(*args: str) -> list[str]:
    return [sys.executable, "-m", "triage.cli.main", *args]


@dataclass
class Side:
    runs: list[Ran] = field(default_factory=list)
    measured: list[Ran] = field(default_factory=list)  # dalil: the instrumented runs (profile, memory)
    yara_cpu: list[float] = field(default_factory=list)
    steps: dict[str, list[Ran]] = field(default_factory=dict)
    files: int = 0
    found: dict[str, tuple[str, str, frozenset[str]]] = field(default_factory=dict)  # path -> sha256, mime, rules
    links: set[str] = field(default_factory=set)  # symbolic links (tsk_recover writes them as files)
    by_run: list[dict[str, float]] = field(default_factory=list)  # CPU seconds by part, one dict a run


def dalil_run(work: Path, image: Path, rules: list[Path], n: int, side: Side, measure: bool = False) -> None:
    """One parse: timed as it is run (into `side.runs`) or, when `measure`, instrumented (into
    `side.measured`, with the CPU by part and the tree's peak memory)."""
    env = dalil_env(work)
    case, profile = work / f"case{n}", work / f"profile{n}"
    profile.mkdir()
    subprocess.run(dalil("case", "init", str(case), "--case-id", f"BENCH-{n}", "--title", "bench",
                         "--examiner", "Bench Examiner"), env=env, check=True, capture_output=True)
    subprocess.run(dalil("evidence", "add", str(image), "--exhibit", "IMG", "--in-place", "--case", str(case)),
                   env=env, check=True, capture_output=True)
    args = [arg for path in rules for arg in ("--rules", str(path))]
    os.sync()  # neither side pays for the other's writes still in the page cache
    parse = dalil("parse", "IMG", "--exhibit", "IMG", *args, "--case", str(case))
    if not measure:
        side.runs.append(run(parse, env))
    else:
        side.measured.append(run(parse, {**env, "DALIL_PROFILE": str(profile)}, sample=True))
        _profile(side, profile)
    with sqlite3.connect(case / "case.db") as db:
        side.files = db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        # what tsk_recover -a writes: allocated non-empty regular files (and links, not compared)
        side.found = {path: (sha, mime, frozenset(m["rule"] for m in json.loads(hits or "[]")))
                      for path, sha, mime, hits in db.execute(
                          "SELECT path, sha256, mime, yara_matches FROM files WHERE deleted = 0 AND type = 'r' "
                          "AND size > 0 AND path NOT LIKE '/$OrphanFiles/%'")}
        side.links = {p for (p,) in db.execute("SELECT path FROM files WHERE type = 'l'")}
    shutil.rmtree(case)
    shutil.rmtree(profile)


def _profile(side: Side, profile: Path) -> None:
    """The instrumented run's CPU by analyser (its workers' DALIL_PROFILE files) and by part."""
    cpu = [json.loads(p.read_text()) for p in profile.glob("cpu-*.json")]
    side.yara_cpu.append(sum(c.get("yara", 0.0) for c in cpu))
    parts: dict[str, float] = {}
    for c in cpu:  # the parent process reports its large files too (without "(process)")
        for key, value in c.items():
            parts[key] = parts.get(key, 0.0) + value
    workers = sum(c.get("(process)", 0.0) for c in cpu)
    analysed = sum(v for c in cpu if "(process)" in c for k, v in c.items() if k[0] != "(")
    side.by_run.append({**{k: v for k, v in parts.items() if k[0] != "("}, "(rest of the workers)": workers - analysed,
                        "(reader and start-up)": side.measured[-1].cpu - workers})


def tsk_run(work: Path, image: Path, rules: list[Path], side: Side) -> None:
    out = work / "recovered"
    shutil.rmtree(out, ignore_errors=True)
    os.sync()
    steps: list[tuple[str, list[str] | str, Path | None]] = [
        ("tsk_recover", ["tsk_recover", "-a", str(image), str(out)], None),
        ("hashdeep", ["hashdeep", "-c", "md5,sha1,sha256", "-r", str(out)], work / "hashdeep.txt"),
        ("file", f"find {out} -type f -print0 | xargs -0 file --mime-type", work / "file.txt"),
        ("yara", ["yara", "-r", *map(str, rules), str(out)], work / "yara.txt"),
    ]
    total = Ran(0.0, 0.0)
    for name, cmd, to in steps:
        with open(to or os.devnull, "wb") as fh:
            took = run(cmd, stdout=fh)
        side.steps.setdefault(name, []).append(took)
        total.seconds += took.seconds
        total.cpu += took.cpu
    side.runs.append(total)
    side.yara_cpu.append(side.steps["yara"][-1].cpu)
    prefix = len(str(out))
    found: dict[str, list[Any]] = {}
    for line in (work / "hashdeep.txt").read_text(errors="surrogateescape").splitlines():
        if line.startswith(("%", "#")):
            continue
        _size, _md5, _sha1, sha, path = line.split(",", 4)
        found.setdefault(path[prefix:], [None, None, set()])[0] = sha
    for line in (work / "file.txt").read_text(errors="surrogateescape").splitlines():
        path, _, mime = line.rpartition(": ")
        found.setdefault(path[prefix:], [None, None, set()])[1] = mime.strip()
    for line in (work / "yara.txt").read_text(errors="surrogateescape").splitlines():
        rule, _, path = line.partition(" ")
        found.setdefault(path[prefix:], [None, None, set()])[2].add(rule)
    side.found = {p: (v[0], v[1], frozenset(v[2])) for p, v in found.items()}
    side.files = len(side.found)


def compare(dalil_side: Side, tsk_side: Side) -> str:
    """How the two sides' results agree, over the regular files tsk_recover wrote."""
    both = [p for p, v in tsk_side.found.items() if v[0] is not None and p in dalil_side.found]
    missing = [p for p, v in tsk_side.found.items()
               if v[0] is not None and p not in dalil_side.found and p not in dalil_side.links]
    links = sum(1 for p in tsk_side.found if p in dalil_side.links)
    diff = {k: [p for p in both if dalil_side.found[p][i] != tsk_side.found[p][i]] for i, k in
            enumerate(("sha256", "mime", "yara rules"))}
    text = (f"same results over {len(both):,} files: " + ", ".join(f"{k} {'identical' if not v else f'{len(v)} DIFFER'}"
                                                                   for k, v in diff.items())
            + f" ({links} symbolic links, which tsk_recover writes as files, not compared)"
            + (f"; {len(missing)} files tsk_recover wrote that dalil did not list" if missing else ""))
    for k, v in diff.items():
        for p in v[:3]:
            text += f"\n    {k} differs: {p}: dalil {dalil_side.found[p]} pipeline {tsk_side.found[p]}"
    return text


def bench(work: Path, name: str, runs: int) -> dict[str, Any]:
    sources, rules = WORKLOADS[name]
    image = build_image(work, name, sources)
    n_rules = sum(1 for p in rules for line in p.read_text().splitlines() if line.lstrip().startswith("rule "))
    print(f"[{name}] rules: {n_rules} in {', '.join(p.name for p in rules)}", flush=True)
    d, t = Side(), Side()
    for n in range(runs):
        dalil_run(work, image, rules, n, d)
        tsk_run(work, image, rules, t)
        print(f"[{name}] run {n + 1}: dalil {d.runs[-1].seconds:6.2f} s ({d.runs[-1].cpu:5.1f} s CPU, peak RSS "
              f"{d.runs[-1].rss_mib} MiB)   pipeline {t.runs[-1].seconds:6.2f} s ({t.runs[-1].cpu:5.1f} s CPU)   "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
    dalil_run(work, image, rules, runs, d, measure=True)
    m = d.measured[-1]
    print(f"[{name}] instrumented dalil run (CPU by part, memory): {m.seconds:.2f} s ({m.cpu:.1f} s CPU, peak RSS "
          f"{m.rss_mib} MiB, all processes {m.tree_mib} MiB PSS)", flush=True)
    med = statistics.median
    dw, tw = med(r.seconds for r in d.runs), med(r.seconds for r in t.runs)
    dcpu, ycpu, tycpu = med(r.cpu for r in d.runs), med(d.yara_cpu), med(t.yara_cpu)
    ratios = sorted(b.seconds / a.seconds for a, b in zip(d.runs, t.runs))
    print(f"[{name}] pipeline steps (medians): " + ", ".join(
        f"{k} {med(r.seconds for r in v):.2f} s ({med(r.cpu for r in v):.2f} s CPU)" for k, v in t.steps.items()))
    print(f"[{name}] per-run ratios: " + ", ".join(f"{r:.2f}x" for r in ratios)
          + " (the machine is shared and noisy)")
    print(f"[{name}] full parse: dalil median {dw:.2f} s, pipeline median {tw:.2f} s, ratio {tw / dw:.2f}x "
          f"(target >= 3x); dalil peak RSS {max(r.rss_mib for r in d.runs + d.measured)} MiB, all its processes "
          f"together {max(r.tree_mib for r in d.measured)} MiB PSS")
    per_file = (dcpu - ycpu) / max(d.files, 1) * 1e3
    print(f"[{name}] dalil CPU: median {dcpu:.2f} s for {d.files:,} listed entries; YARA {ycpu:.2f} s (instrumented "
          f"run); outside YARA {per_file:.3f} ms a file (target <= 0.3)")
    keys = sorted({k for r in d.by_run for k in r}, key=lambda k: (k[0] == "(", -med(r.get(k, 0.0) for r in d.by_run)))
    print(f"[{name}] dalil CPU by part (instrumented run): " + ", ".join(
        f"{k.strip('()')} {med(r.get(k, 0.0) for r in d.by_run):.2f} s" for k in keys)
        + f"; analysers {med(sum(v for k, v in r.items() if k[0] != '(') for r in d.by_run):.2f} s")
    print(f"[{name}] YARA CPU: dalil {ycpu:.2f} s, yara CLI {tycpu:.2f} s, ratio {ycpu / max(tycpu, 1e-9):.2f}x "
          f"(target <= 1.2x)")
    print(f"[{name}] {compare(d, t)}", flush=True)
    return {"workload": name, "dalil_s": [r.seconds for r in d.runs], "pipeline_s": [r.seconds for r in t.runs],
            "ratio": round(tw / dw, 2), "dalil_cpu_s": dcpu, "dalil_yara_cpu_s": ycpu, "cli_yara_cpu_s": tycpu,
            "cpu_ms_per_file_outside_yara": round(per_file, 3), "peak_tree_pss_mib": max(r.tree_mib for r in d.measured),
            "instrumented_s": m.seconds, "instrumented_cpu_s": m.cpu}


def listing_only(work: Path, runs: int) -> None:
    image, env = work / "docs.ext4", dalil_env(work)
    walk, fls = [], []
    listed, lines = "", 0
    for _ in range(runs):
        start = time.perf_counter()
        listed = subprocess.run([sys.executable, "-c", LISTING, str(image)], env=env, check=True,
                                capture_output=True, text=True).stdout.strip()
        walk.append(time.perf_counter() - start)
        start = time.perf_counter()
        lines = subprocess.run(["fls", "-r", "-p", str(image)], check=True, capture_output=True).stdout.count(b"\n")
        fls.append(time.perf_counter() - start)
    print(f"[docs] listing only: dalil walk {statistics.median(walk):.2f} s ({listed} entries), fls -r -p "
          f"{statistics.median(fls):.2f} s ({lines} lines), ratio {statistics.median(fls) / statistics.median(walk):.2f}x")


def fixed_cost(work: Path, runs: int, docs_median: float) -> None:
    """dalil parse of a one-file image with the docs pack: what every parse pays whatever its size (the
    interpreter, imports, rules, the workers' start, the ending), most of it on one core."""
    source = work / "one-file"
    source.mkdir()
    (source / "note.txt").write_text("one file\n")
    image = build_image(work, "one", [str(source)])
    shutil.rmtree(source)
    side = Side()
    for n in range(runs):
        dalil_run(work, image, WORKLOADS["docs"][1], 100 + n, side)
    wall, cpu = statistics.median(r.seconds for r in side.runs), statistics.median(r.cpu for r in side.runs)
    print(f"[docs] fixed cost: dalil on a one-file image {wall:.2f} s ({cpu:.2f} s CPU), median of {runs}: "
          f"{wall / docs_median:.0%} of the docs median, paid before and after the per-file work")
    image.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workload", choices=["docs", "small", "both"], default="both")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    args = parser.parse_args()
    for tool in ("mke2fs", "tsk_recover", "hashdeep", "file", "yara", "fls"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    work = Path(args.keep or tempfile.mkdtemp(prefix="dalil-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = []
        for name in (["docs", "small"] if args.workload == "both" else [args.workload]):
            results.append(bench(work, name, args.runs))
            if name == "docs":
                listing_only(work, args.runs)
                fixed_cost(work, args.runs, statistics.median(results[-1]["dalil_s"]))
            (work / f"{name}.ext4").unlink()
        print(json.dumps(results))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
