"""The disk-image demo stage, run as `dalil demo` runs it (real subprocesses of the CLI)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from triage.demo import DemoContext, demo_file
from triage.image import demo


def test_demo_stage(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    ctx = DemoContext(out=tmp_path, case=tmp_path / "case", env=env)
    ctx.dalil("case", "init", str(ctx.case), "--case-id", "DEMO", "--title", "demo", "--examiner", env["DALIL_EXAMINER"])
    ctx.dalil("evidence", "add", str(demo_file("phone_extraction.zip")), "--exhibit", "EXH-001", "--case", str(ctx.case))
    demo.run(ctx)
    with sqlite3.connect(ctx.case / "case.db") as db:
        db.row_factory = sqlite3.Row
        rows = {r["path"]: dict(r) for r in db.execute("SELECT * FROM files WHERE exhibit = 'EXH-002'")}
        assert db.execute("SELECT COUNT(*) FROM files WHERE exhibit = 'EXH-001'").fetchone()[0] > 0
    photo = rows["/DCIM/IMG_0001.JPG"]
    assert (round(photo["gps_lat"], 4), round(photo["gps_lon"], 4)) == demo.ZUWARA
    deleted = [r for r in rows.values() if r["deleted"] and r["path"].endswith("ASSEN~1.TXT") or
               (r["deleted"] and "assengers" in r["path"])]
    assert deleted and deleted[0]["recovered"] == 1
    rules = {m["rule"] for r in rows.values() for m in json.loads(r["yara_matches"] or "[]")}
    assert {"EICAR_Test_File", "Smuggling_Vocabulary_Arabic", "Phone_Numbers_Mediterranean_Route"} <= rules
    index = json.loads((tmp_path / "export-EXH-002" / "index-EXH-002.json").read_text())
    ok = {r["original_path"] for r in index if r["status"] == "ok"}
    assert ok == {"/eicar.com", "/DCIM/IMG_0001.JPG", "/NOTES/advert.txt", "/NOTES/passengers.txt"}
    skipped = [r for r in index if r["status"] != "ok"]  # TSK's virtual $MBR, $FAT1, $FAT2: said why
    assert all(r["status"] == "skipped" and "virtual file" in r["reason"] for r in skipped)
    assert (tmp_path / "timeline-EXH-002.body").read_text().count("\n") == len(rows)
