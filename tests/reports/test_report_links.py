"""Links in the report (escaped, strongest first, with their places), in CASE/UCO (relationships that
case_validate accepts) and in the court bundle (the link chart, `dalil verify` still passing)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

HOSTILE_FILE = "<img src=x onerror=alert(1)>.txt"
HOSTILE_NAME = "Abu <script>alert(2)</script> \u202eexe.txt"


@pytest.fixture
def linked(cli: Any, case_dir: Path, tmp_path: Path) -> Path:
    for exhibit, name, note in (("PH-A", HOSTILE_FILE, "call +218 91 234 5678 or boss@boats.ly"),
                                ("PH-B", "note.txt", "الرقم ٠٩١٢٣٤٥٦٧٨ و boss@boats.ly"),
                                ("PH-C", "other.txt", "nothing shared: 0923456789")):
        folder = tmp_path / exhibit / "sdcard"
        folder.mkdir(parents=True)
        (folder / name).write_text(note, encoding="utf-8")
        cli("parse", folder.parent, "--exhibit", exhibit, "--case", case_dir, "--no-yara")
    db = sqlite3.connect(case_dir / "case.db")
    db.execute("INSERT INTO contacts (exhibit, parser, app, time, source_path, source_table, source_row, name, phones,"
               " emails, handles) VALUES ('PH-B', 'test.contacts', 'contacts', '2026-03-01T10:00:00Z',"
               " '/data/contacts2.db', 'raw_contacts', 4, ?, '[\"+218912345678\"]', '[]', '[]')", (HOSTILE_NAME,))
    db.commit()
    db.close()
    cli("links", "--rebuild", "--case", case_dir)
    return case_dir


def test_report_section_and_case_uco(cli: Any, linked: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    cli("report", "--out", out, "--format", "html,case", "--case", linked)
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="links"'):html.index('id="captures"')]
    assert section.index("+218912345678") < section.index("boss@boats.ly")  # three places before two
    assert "0923456789" not in section and "+218923456789" not in section  # in one exhibit only
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in section and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt; [U+202E]exe.txt" in section and "\u202e" not in html
    assert "PH-B</bdi> · contact · " in section

    graph = json.loads((out / "case.jsonld").read_text(encoding="utf-8"))["@graph"]
    by_id = {n["@id"]: n for n in graph}
    rels = [n for n in graph if n["@type"] == "uco-observable:ObservableRelationship"]
    assert len(rels) == 5  # the number in two files and a contact, the address in two files
    targets = {by_id[r["uco-core:target"]["@id"]]["@type"] for r in rels}
    assert targets == {"uco-observable:File", "uco-observable:Contact"}
    sources = {by_id[r["uco-core:source"][0]["@id"]]["@type"] for r in rels}
    assert sources == {"uco-observable:PhoneAccount", "uco-observable:EmailAddress"}
    assert {r.get("uco-core:startTime", {}).get("@value") for r in rels if "contact" in r["uco-core:description"]} == {
        "2026-03-01T10:00:00Z"}
    exe = shutil.which("case_validate") or str(Path(sys.executable).parent / "case_validate")
    if not Path(exe).exists():
        pytest.skip("needs case-utils (case_validate)")
    proc = subprocess.run([exe, "--built-version", "case-1.5.0", str(out / "case.jsonld")], capture_output=True, text=True)
    assert proc.returncode == 0 and "Conforms: True" in proc.stdout, proc.stdout[-3000:]


def test_bundle_carries_the_graph(cli: Any, linked: Path, tmp_path: Path) -> None:
    out = tmp_path / "court.zip"
    cli("bundle", "--out", out, "--reason", "disclosure", "--case", linked)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "u")
    for name in ("links.graphml", "links.gexf", "links-nodes.csv", "links-edges.csv"):
        assert f"court/data/links/{name}" in names
    g = nx.read_graphml(tmp_path / "u/court/data/links/links.graphml")
    assert {"phone:+218912345678", "email:boss@boats.ly", "exhibit:PH-A", "exhibit:PH-B"} <= set(g.nodes)
    assert "exhibit:PH-C" not in g.nodes
    assert "court/data/links/links.graphml" in (tmp_path / "u/court/manifest-sha256.txt").read_text().replace(
        "data/links", "court/data/links")
    assert "RESULT: all checks passed" in cli("verify", out).stdout

    selected = tmp_path / "only-a.zip"  # a bundle for PH-A alone: nothing links within it, and PH-B stays out
    cli("bundle", "--out", selected, "--exhibit", "PH-A", "--case", linked)
    with zipfile.ZipFile(selected) as zf:
        chart = zf.read("only-a/data/links/links.graphml").decode()
        report = zf.read("only-a/data/report/report.html").decode()
    assert "PH-B" not in chart and "<node " not in chart
    section = report[report.index('id="links"'):report.index('id="captures"')]
    assert "PH-B" not in section and "+218912345678" not in section
