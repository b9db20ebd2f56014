"""The link chart: GraphML, GEXF and CSV that Gephi and networkx read, the same bytes for the same case,
and evidence text that cannot break the XML."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

HOSTILE = "Abu <b>\"Sami\"</b> & ]]> '\x1b[31m\u202eexe.txt\x00"


@pytest.fixture
def two_phones(cli: Any, case_dir: Path, tmp_path: Path) -> Path:
    for exhibit, note in (("PH-A", "call +218 91 234 5678 or mail boss@boats.ly, t.me/boat_trips_ly"),
                          ("PH-B", "الرقم ٠٩١٢٣٤٥٦٧٨ والقناة t.me/boat_trips_ly")):
        folder = tmp_path / exhibit / "sdcard"
        folder.mkdir(parents=True)
        (folder / "note.txt").write_text(note, encoding="utf-8")
        cli("parse", folder.parent, "--exhibit", exhibit, "--case", case_dir, "--no-yara")
    db = sqlite3.connect(case_dir / "case.db")
    rows = [("PH-A", "/data/contacts2.db", 7, HOSTILE, ["0912345678"], ["boss@boats.ly"]),
            ("PH-B", "/data/<evil>&\"path\"\x07.db", 3, "Sami (زوارة)", ["+218912345678"], [])]
    for exhibit, path, row, name, phones, emails in rows:
        db.execute("INSERT INTO contacts (exhibit, parser, app, source_path, source_table, source_row, name, phones,"
                   " emails, handles) VALUES (?, 'test.contacts', 'contacts', ?, 'raw_contacts', ?, ?, ?, ?, '[]')",
                   (exhibit, path, row, name, json.dumps(phones), json.dumps(emails)))
    db.commit()
    db.close()
    cli("links", "--rebuild", "--case", case_dir)
    return case_dir


def test_graphml_gexf_csv_read_back(cli: Any, two_phones: Path, tmp_path: Path) -> None:
    cli("links", "--graph", "--format", "graphml", "--out", tmp_path / "g.graphml", "--case", two_phones)
    cli("links", "--graph", "--format", "gexf", "--out", tmp_path / "g.gexf", "--case", two_phones)
    for name in ("g.graphml", "g.gexf"):
        ET.parse(tmp_path / name)  # well-formed XML
    g = nx.read_graphml(tmp_path / "g.graphml")
    assert {"exhibit:PH-A", "exhibit:PH-B", "phone:+218912345678", "handle:@boat_trips_ly"} <= set(g.nodes)
    assert "email:boss@boats.ly" not in g.nodes  # in one exhibit only: not a link (--min-exhibits 1 shows it)
    assert g.edges["exhibit:PH-A", "phone:+218912345678"]["weight"] == 2.0  # the note and the contact
    assert g.edges["phone:+218912345678", "handle:@boat_trips_ly"]["type"] == "co-occurrence"
    people = {n: d for n, d in g.nodes(data=True) if d.get("type") == "person"}
    assert sorted(d["label"] for d in people.values()) == sorted(
        ["Abu <b>\"Sami\"</b> & ]]> '\\u001b[31m\u202eexe.txt\\u0000", "Sami (زوارة)"])  # names kept, never merged
    for person in people:
        assert g.has_edge(person, "phone:+218912345678")
    x = nx.read_gexf(tmp_path / "g.gexf")
    assert set(x.nodes) == set(g.nodes) and x.number_of_edges() == g.number_of_edges()
    assert {d["label"] for _, d in x.nodes(data=True)} == {d["label"] for _, d in g.nodes(data=True)}

    cli("links", "--graph", "--format", "csv", "--out", tmp_path / "g.csv", "--case", two_phones)
    nodes = (tmp_path / "g-nodes.csv").read_text(encoding="utf-8").splitlines()
    edges = (tmp_path / "g-edges.csv").read_text(encoding="utf-8").splitlines()
    assert nodes[0].startswith("Id,Label,type") and edges[0] == "Source,Target,Type,Weight,relation,sources"
    assert len(nodes) - 1 == g.number_of_nodes() and len(edges) - 1 == g.number_of_edges()


def test_same_case_same_bytes(cli: Any, two_phones: Path, tmp_path: Path) -> None:
    outputs = []
    for attempt in range(2):
        if attempt:
            cli("links", "--rebuild", "--case", two_phones)  # a rebuilt index gives the same chart
        got = []
        for fmt, name in (("graphml", "g.graphml"), ("gexf", "g.gexf"), ("csv", "g.csv")):
            out = tmp_path / f"{attempt}-{name}"
            cli("links", "--graph", "--format", fmt, "--out", out, "--min-exhibits", "1", "--case", two_phones)
            got += [p.read_bytes() for p in sorted(tmp_path.glob(f"{attempt}-g*"))]
        outputs.append(got)
    assert outputs[0] == outputs[1]
    ledger = [json.loads(line) for line in (two_phones / "custody.jsonl").read_text().splitlines()]
    exported = [e for e in ledger if e["action"] == "links-graph-exported"]
    assert len(exported) == 6 and all(v.startswith("sha256:") for e in exported for v in e["details"]["files"].values())


def test_format_must_fit_the_mode(cli: Any, two_phones: Path, tmp_path: Path) -> None:
    cli("links", "--graph", "--format", "table", "--out", tmp_path / "x", "--case", two_phones, code=2)
    cli("links", "--format", "gexf", "--case", two_phones, code=2)
    cli("links", "--graph", "--entity", "0912345678", "--out", tmp_path / "x", "--case", two_phones, code=2)
    cli("links", "--out", tmp_path / "x", "--case", two_phones, code=2)


def test_xml_text_escapes_what_xml_cannot_hold() -> None:
    from triage.links.graph import xml_text

    assert xml_text("a<b>&\"c\"'\x00\x1b\ud800\ufffe\t\n") == (
        "a&lt;b&gt;&amp;&quot;c&quot;&apos;\\u0000\\u001b\\ud800\\ufffe&#9;&#10;")
    ET.fromstring(f'<n v="{xml_text(chr(0x202e) + "x" + chr(0xdfff) + chr(0x10FFFF))}"/>')


def test_the_browser_and_viewer_shape(two_phones: Path, case_dir: Path, tmp_path: Path, cli: Any) -> None:
    from triage.core.case import Case
    from triage.links import query

    case = Case.open(two_phones)
    rows = query.shared_entities(case)
    assert rows is not None
    phone = next(r for r in rows if r["kind"] == "phone")
    assert phone["exhibits"] == ["PH-A", "PH-B"]
    hrefs = {(o["source"], o["href"].split("/")[1]) for o in phone["occurrences"]}
    assert hrefs == {("file", "files"), ("contact", "comms")}
    assert all(o["location"] for o in phone["occurrences"])
    assert query.shared_entities(case, ["PH-A"]) == []  # a bundle of one exhibit shows no link to another
    case.close()
    empty = tmp_path / "empty"
    cli("case", "init", empty, "--case-id", "E-1", "--title", "t", "--examiner", "Test Examiner")
    fresh = Case.open(empty)
    assert query.shared_entities(fresh) is None  # nothing indexed yet: the page says so
    fresh.close()
