"""Write a directed graph with node scores as GEXF 1.3 or GraphML, for Gephi.

Written with ``xml.etree`` (the standard library), so the demo needs no
graph package. Gephi opens both; GEXF is its own format, GraphML the one
most other tools (networkx, yEd, Cytoscape) read too.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Iterable

__all__ = ["write_graph", "GRAPH_FORMATS"]

GRAPH_FORMATS = {".gexf": "gexf", ".graphml": "graphml"}


def write_graph(path: str, edges: Iterable[tuple[str, str]], scores: dict[str, float],
                score_name: str = "pagerank") -> str:
    """Write ``edges`` (``source -> target``) and each node's score to
    ``path``; its suffix (``.gexf`` or ``.graphml``) picks the format, which
    is returned.

    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "g.gexf")
    >>> write_graph(out, [("a", "b")], {"a": 0.4, "b": 0.6})
    'gexf'
    >>> ET.parse(out).getroot().tag
    '{http://gexf.net/1.3}gexf'
    """
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in GRAPH_FORMATS:
        raise ValueError(f"graph file must end in {' or '.join(GRAPH_FORMATS)}, not {path!r}")
    kind = GRAPH_FORMATS[suffix]
    edges = list(edges)
    nodes = sorted(set(scores) | {n for edge in edges for n in edge})
    root = _gexf(nodes, edges, scores, score_name) if kind == "gexf" else _graphml(nodes, edges, scores, score_name)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return kind


def _gexf(nodes, edges, scores, score_name) -> ET.Element:
    root = ET.Element("gexf", {"xmlns": "http://gexf.net/1.3", "version": "1.3"})
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "creator").text = "mapfold demo"
    graph = ET.SubElement(root, "graph", {"defaultedgetype": "directed", "mode": "static"})
    attributes = ET.SubElement(graph, "attributes", {"class": "node", "mode": "static"})
    ET.SubElement(attributes, "attribute", {"id": "0", "title": score_name, "type": "double"})
    xml_nodes = ET.SubElement(graph, "nodes")
    for node in nodes:
        element = ET.SubElement(xml_nodes, "node", {"id": node, "label": node})
        values = ET.SubElement(element, "attvalues")
        ET.SubElement(values, "attvalue", {"for": "0", "value": repr(float(scores.get(node, 0.0)))})
    xml_edges = ET.SubElement(graph, "edges")
    for i, (source, target) in enumerate(edges):
        ET.SubElement(xml_edges, "edge", {"id": str(i), "source": source, "target": target})
    return root


def _graphml(nodes, edges, scores, score_name) -> ET.Element:
    root = ET.Element("graphml", {"xmlns": "http://graphml.graphdrawing.org/xmlns"})
    ET.SubElement(root, "key", {"id": "score", "for": "node", "attr.name": score_name, "attr.type": "double"})
    graph = ET.SubElement(root, "graph", {"id": "imports", "edgedefault": "directed"})
    for node in nodes:
        element = ET.SubElement(graph, "node", {"id": node})
        ET.SubElement(element, "data", {"key": "score"}).text = repr(float(scores.get(node, 0.0)))
    for i, (source, target) in enumerate(edges):
        ET.SubElement(graph, "edge", {"id": f"e{i}", "source": source, "target": target})
    return root
