"""The link chart: entities, exhibits and contact persons as nodes; occurrences and co-occurrences as
weighted edges; written as GraphML, GEXF 1.3 or two CSV files (nodes, edges) for Gephi.

Nodes: `exhibit:<id>`; `<kind>:<value>` for each entity the filters select; `person:<exhibit>:<ref>`
for each contact (its name as label: people are never merged on a name). Edges (undirected):
exhibit–entity ("occurrence", weight = occurrences in that exhibit), entity–entity ("co-occurrence",
weight = places holding both; places holding more than `MAX_PER_PLACE` selected entities, such as a
phone book export, add none), contact–entity ("contact"), exhibit–contact ("holds").

The same case and filters give the same bytes: nodes and edges sorted, no dates of writing. Text
from the evidence is escaped for XML, and characters XML 1.0 cannot carry (controls, lone
surrogates) are written as visible `\\uXXXX` escapes.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from ..core.case import Case
from ..core.textsafe import csv_cell, csv_writer
from .query import LinkFilter, selection

MAX_PER_PLACE = 50
NODE_ATTRS = (("type", "string"), ("kind", "string"), ("exhibits", "int"), ("count", "int"),
              ("first_seen", "string"), ("last_seen", "string"), ("exhibit", "string"), ("description", "string"))
EDGE_ATTRS = (("type", "string"), ("sources", "string"))
_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class Graph:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def edge(self, a: str, b: str, kind: str, weight: int, sources: str = "") -> None:
        a, b = sorted((a, b))
        found = self.edges.setdefault((a, b, kind), {"weight": 0, "sources": set()})
        found["weight"] += weight
        if sources:
            found["sources"].add(sources)


def build(case: Case, f: LinkFilter) -> Graph:
    g = Graph()
    chosen = selection(case, f)
    if not chosen:
        return g
    ids = {e["id"]: f"{e['kind']}:{e['value']}" for e in chosen}
    for e in chosen:
        g.nodes[ids[e["id"]]] = {"label": e["value"], "type": "entity", "kind": e["kind"], "exhibits": e["exhibits"],
                                 "count": e["count"], "first_seen": e["first_seen"], "last_seen": e["last_seen"]}
    only = set(f.only) if f.only is not None else None
    evidence = {r["exhibit"]: r for r in case.store.query("SELECT exhibit, kind, description FROM evidence")}
    places: dict[tuple[str, str], set[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids)[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        for r in case.store.query(f"SELECT entity, exhibit, source, count FROM entity_places WHERE entity IN ({marks})",
                                  chunk):
            if only is not None and r["exhibit"] not in only:
                continue
            node = f"exhibit:{r['exhibit']}"
            ev = evidence.get(r["exhibit"])
            g.nodes.setdefault(node, {"label": r["exhibit"], "type": "exhibit", "kind": ev["kind"] if ev else "",
                                      "description": (ev["description"] or "") if ev else ""})
            g.edge(node, ids[r["entity"]], "occurrence", int(r["count"]), r["source"])
        for r in case.store.query(f"SELECT entity, exhibit, source, ref, label FROM occurrences WHERE entity IN ({marks})",
                                  chunk):
            if only is not None and r["exhibit"] not in only:
                continue
            places.setdefault((r["exhibit"], r["ref"]), set()).add(ids[r["entity"]])
            if r["source"] == "contact":
                person = f"person:{r['exhibit']}:{r['ref']}"
                g.nodes.setdefault(person, {"label": r["label"] or "", "type": "person", "kind": "contact",
                                            "exhibit": r["exhibit"]})
                g.edge(person, ids[r["entity"]], "contact", 1)
                low, high = sorted((f"exhibit:{r['exhibit']}", person))
                g.edges.setdefault((low, high, "holds"), {"weight": 1, "sources": {"contact"}})
    for (_exhibit, _ref), held in places.items():
        if 1 < len(held) <= MAX_PER_PLACE:
            for a, b in combinations(sorted(held), 2):
                g.edge(a, b, "co-occurrence", 1)
    return g


def xml_text(value: Any) -> str:
    """Text for an XML attribute or element: escaped, characters XML cannot hold made visible."""
    text = _INVALID.sub(lambda m: f"\\u{ord(m.group(0)):04x}", "" if value is None else str(value))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&apos;").replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;"))


def _sorted_edges(g: Graph) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(a, b, k, g.edges[(a, b, k)]) for a, b, k in sorted(g.edges)]


def graphml(g: Graph) -> str:
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
              'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
    out.write('  <key id="label" for="node" attr.name="label" attr.type="string"/>\n')
    for name, kind in NODE_ATTRS:
        out.write(f'  <key id="{name}" for="node" attr.name="{name}" attr.type="{kind}"/>\n')
    out.write('  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>\n')
    for name, kind in EDGE_ATTRS:
        out.write(f'  <key id="e_{name}" for="edge" attr.name="{name}" attr.type="{kind}"/>\n')
    out.write('  <graph id="links" edgedefault="undirected">\n')
    for node in sorted(g.nodes):
        attrs = g.nodes[node]
        out.write(f'    <node id="{xml_text(node)}">\n      <data key="label">{xml_text(attrs.get("label"))}</data>\n')
        for name, _kind in NODE_ATTRS:
            if attrs.get(name) not in (None, ""):
                out.write(f'      <data key="{name}">{xml_text(attrs[name])}</data>\n')
        out.write("    </node>\n")
    for n, (a, b, kind, attrs) in enumerate(_sorted_edges(g)):
        out.write(f'    <edge id="e{n}" source="{xml_text(a)}" target="{xml_text(b)}">\n'
                  f'      <data key="weight">{float(attrs["weight"])}</data>\n      <data key="e_type">{kind}</data>\n')
        if attrs["sources"]:
            out.write(f'      <data key="e_sources">{xml_text(",".join(sorted(attrs["sources"])))}</data>\n')
        out.write("    </edge>\n")
    out.write("  </graph>\n</graphml>\n")
    return out.getvalue()


def gexf(g: Graph) -> str:
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<gexf xmlns="http://gexf.net/1.3" '
              'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://gexf.net/1.3 '
              'http://gexf.net/1.3/gexf.xsd" version="1.3">\n  <meta>\n    <creator>dalil links</creator>\n  </meta>\n'
              '  <graph defaultedgetype="undirected" mode="static">\n    <attributes class="node">\n')
    types = {"string": "string", "int": "integer"}
    for n, (name, kind) in enumerate(NODE_ATTRS):
        out.write(f'      <attribute id="{n}" title="{name}" type="{types[kind]}"/>\n')
    out.write('    </attributes>\n    <attributes class="edge">\n')
    for n, (name, kind) in enumerate(EDGE_ATTRS):
        out.write(f'      <attribute id="{n}" title="{name}" type="{types[kind]}"/>\n')
    out.write("    </attributes>\n    <nodes>\n")
    for node in sorted(g.nodes):
        attrs = g.nodes[node]
        out.write(f'      <node id="{xml_text(node)}" label="{xml_text(attrs.get("label"))}">\n        <attvalues>\n')
        for n, (name, _kind) in enumerate(NODE_ATTRS):
            if attrs.get(name) not in (None, ""):
                out.write(f'          <attvalue for="{n}" value="{xml_text(attrs[name])}"/>\n')
        out.write("        </attvalues>\n      </node>\n")
    out.write("    </nodes>\n    <edges>\n")
    for n, (a, b, kind, attrs) in enumerate(_sorted_edges(g)):
        out.write(f'      <edge id="e{n}" source="{xml_text(a)}" target="{xml_text(b)}" weight="{float(attrs["weight"])}">\n'
                  f'        <attvalues>\n          <attvalue for="0" value="{kind}"/>\n')
        if attrs["sources"]:
            out.write(f'          <attvalue for="1" value="{xml_text(",".join(sorted(attrs["sources"])))}"/>\n')
        out.write("        </attvalues>\n      </edge>\n")
    out.write("    </edges>\n  </graph>\n</gexf>\n")
    return out.getvalue()


NODE_COLUMNS = ["Id", "Label", "type", "kind", "exhibits", "count", "first_seen", "last_seen", "exhibit", "description"]
EDGE_COLUMNS = ["Source", "Target", "Type", "Weight", "relation", "sources"]


def csv_pair(g: Graph) -> tuple[str, str]:
    """(nodes, edges) as CSV text with the column names Gephi's spreadsheet import expects."""
    nodes, edges = io.StringIO(), io.StringIO()
    writer = csv_writer(nodes)
    writer.writerow(NODE_COLUMNS)
    for node in sorted(g.nodes):
        attrs = g.nodes[node]
        writer.writerow([csv_cell(node), csv_cell(attrs.get("label"))] + [csv_cell(attrs.get(c)) for c in NODE_COLUMNS[2:]])
    writer = csv_writer(edges)
    writer.writerow(EDGE_COLUMNS)
    for a, b, kind, attrs in _sorted_edges(g):
        writer.writerow([csv_cell(a), csv_cell(b), "Undirected", attrs["weight"], kind,
                         csv_cell(",".join(sorted(attrs["sources"])))])
    return nodes.getvalue(), edges.getvalue()


def csv_paths(out: Path) -> tuple[Path, Path]:
    """`links.csv` -> `links-nodes.csv`, `links-edges.csv` beside it."""
    stem = out.name[:-4] if out.name.lower().endswith(".csv") else out.name
    return out.with_name(f"{stem}-nodes.csv"), out.with_name(f"{stem}-edges.csv")


def write(g: Graph, fmt: str, out: Path) -> list[Path]:
    """Write the graph; returns the files written."""
    if fmt == "csv":
        nodes, edges = csv_pair(g)
        paths = csv_paths(out)
        for path, text in zip(paths, (nodes, edges)):
            path.write_bytes(text.encode("utf-8"))
        return list(paths)
    out.write_bytes((graphml(g) if fmt == "graphml" else gexf(g)).encode("utf-8"))
    return [out]
