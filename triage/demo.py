"""The demo: a case made from bundled data, every stage run through the real `dalil` CLI.

Later stages live beside the code they show (`triage.image.demo`, `collectors.demo`,
`reports.demo`): each module has `run(ctx)` and is run in that order when present.
"""

from __future__ import annotations

import importlib
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .core.errors import DalilError
from .core.localtsa import LocalTSA
from .core.localtsa import start as start_tsa

STAGES = ["triage.image.demo", "collectors.demo", "triage.links.demo", "reports.demo", "triage.browser.demo"]
EXAMINER = "Demo Examiner"


@dataclass
class DemoContext:
    """What a demo stage needs: where things go and how to call dalil."""

    out: Path
    case: Path
    env: dict[str, str] = field(default_factory=dict)
    results: list[str] = field(default_factory=list)
    tsa: LocalTSA | None = None  # a local RFC 3161 TSA (openssl ts) for the demo's time-stamps

    def dalil(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `dalil ARGS` (in this Python) as a user would, echoing command and output."""
        print(f"\n$ dalil {shlex.join(args)}", flush=True)
        proc = subprocess.run([sys.executable, "-m", "triage.cli.main", *args], env=self.env,
                              text=True, capture_output=True)
        if proc.stdout:
            print(proc.stdout.rstrip(), flush=True)
        if proc.stderr:
            print(proc.stderr.rstrip(), file=sys.stderr, flush=True)
        if check and proc.returncode != 0:
            raise DalilError(f"demo step failed (exit {proc.returncode}): dalil {shlex.join(args)}")
        return proc


def demo_file(name: str) -> Path:
    """A file shipped in triage/demo_data."""
    return Path(str(resources.files("triage") / "demo_data" / name))


def run_demo(out: Path) -> None:
    out = Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(out / "config")  # the demo examiner's key stays in the demo folder
    env["DALIL_EXAMINER"] = EXAMINER
    env.pop("DALIL_KEY_PASSPHRASE", None)
    ctx = DemoContext(out=out, case=out / "case", env=env)
    print(f"Dalil demo: everything goes to {out}")
    (out / "tsa").mkdir()
    ctx.tsa = start_tsa(out / "tsa", name="Dalil Demo")
    try:
        _run_stages(ctx)
    finally:
        ctx.tsa.stop()


def _run_stages(ctx: DemoContext) -> None:
    ctx.dalil("examiner", "init", "--name", EXAMINER)
    ctx.dalil("case", "init", str(ctx.case), "--case-id", "DEMO-2026-001",
              "--title", "Demo: smuggling network advertising crossings", "--examiner", EXAMINER,
              "--organisation", "Demo Cybercrime Unit")
    from .artifacts.demo import build_extraction

    extraction = build_extraction(ctx.out)  # the bundled text files and the phone's databases
    ctx.dalil("evidence", "add", str(extraction), "--exhibit", "EXH-001", "--case", str(ctx.case),
              "--description", "Logical extraction of a seized phone (demo)", "--reason", "Demo warrant 001")
    ctx.dalil("evidence", "list", "--case", str(ctx.case))
    for name in STAGES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        module.run(ctx)
    ctx.dalil("log", "--case", str(ctx.case))
    ctx.dalil("verify", str(ctx.case))
    print("\nDemo finished. Results:")
    print(f"  case directory   {ctx.case}")
    print(f"  custody ledger   {ctx.case / 'custody.jsonl'}")
    for line in ctx.results:
        print(f"  {line}")
