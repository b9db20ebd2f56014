"""`dalil demo` end to end, as `make demo` runs it: every stage through the real CLI, then checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    env = dict(os.environ)
    env.pop("DALIL_CASE", None)
    proc = subprocess.run([sys.executable, "-m", "triage.cli.main", "demo", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Demo finished. Results:" in proc.stdout and "Traceback" not in proc.stderr
    case = out / "case"
    # the demo's examiner key lives in the demo folder; the case verifies on its own
    check = subprocess.run([sys.executable, "-m", "triage.cli.main", "verify", str(case), "--no-record"],
                           capture_output=True, text=True, env=dict(env, XDG_CONFIG_HOME=str(out / "config")))
    assert check.returncode == 0, check.stdout + check.stderr
    actions = [json.loads(line)["action"] for line in (case / "custody.jsonl").read_text().splitlines()]
    for action in ("case-opened", "evidence-registered", "acquired", "parsed", "captured", "reported", "bundled",
                   "verified"):
        assert action in actions, (action, actions)
    bundles = list(out.glob("*.zip"))
    assert bundles, sorted(p.name for p in out.iterdir())
    # the bundle was time-stamped by the demo's local TSA and verified against its CA
    assert "PASS  time-stamp" in proc.stdout and "verified against" in proc.stdout
    assert "PASS  key pinned" in proc.stdout
    # the portable viewer is in the bundle, and the demo ends with the command that browses the case
    import zipfile

    with zipfile.ZipFile(out / "court-bundle.zip") as zf:
        assert any(n.endswith("data/viewer/index.html") for n in zf.namelist())
    # the seized phone's chats are in the report, as chats (Arabic right to left), with its calls
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert 'id="communications"' in html and html.count('class="thread"') >= 4
    assert '<div class="body" dir="rtl">الانطلاق من الشاطئ الغربي الساعة ٣ فجراً</div>' in html
    assert "android.calllog" in html and "+393331234567" in html
    deleted = html.index("احذف هذه الرسالة بعد القراءة")        # the SMS deleted before seizure, recovered
    bubble = html.rfind('<div class="msg ', 0, deleted)
    assert html[bubble:html.index(">", bubble)] == '<div class="msg in recovered"'
    tail = proc.stdout.rstrip().splitlines()[-3:]
    assert f"dalil serve --case {case}" in "\n".join(tail) and "http://127.0.0.1:8765/?token=" in tail[-1]
