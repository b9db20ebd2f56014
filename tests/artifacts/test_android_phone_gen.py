"""benchmarks/phone_gen.py writes an extraction dalil parses back to exactly what was generated."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from android_fixtures import jsonl

GEN = Path(__file__).resolve().parents[2] / "benchmarks" / "phone_gen.py"


def test_generated_extraction_parses_to_its_counts(cli: Any, case_dir: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("phone_gen", GEN)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    ext = tmp_path / "ext"
    counts = gen.generate(ext, sms=300, whatsapp=400, calls=120, seed=7)
    assert counts == gen.generate(tmp_path / "again", sms=300, whatsapp=400, calls=120, seed=7)  # deterministic
    cli("parse", ext, "--exhibit", "GEN", "--case", case_dir, "--no-yara")
    runs = {r["parser"]: r["counts"] for r in jsonl(cli("artifacts", "--case", case_dir, "--format", "jsonl"))}
    assert runs == {"android.sms": {"messages": 300}, "android.calllog": {"calls": 120},
                    "android.whatsapp": {"messages": 400, "calls": 4},
                    "android.whatsapp.contacts": {"contacts": counts["wa_contacts"]}}
    messages = jsonl(cli("messages", "--case", case_dir, "--format", "jsonl", "--app", "whatsapp"))
    with_files = [a for m in messages for a in m["attachments"] if a["sha256"]]
    assert len(with_files) == counts["whatsapp_media_files"] > 0
    assert sum(m["location"] is not None for m in messages) == counts["whatsapp_locations"]
    assert all(m["sender"] is None or m["sender"].startswith(("+", "lid:")) for m in messages)
    calls = jsonl(cli("calls", "--case", case_dir, "--format", "jsonl", "--app", "phone"))
    assert sum(c["number"] is not None and c["number"].startswith("+") for c in calls) + \
        sum(c["number"] is None for c in calls) == 120                   # national and Arabic-Indic forms read
