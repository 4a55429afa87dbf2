"""Drawings are made from the same definitions the engine runs, and they are valid diagrams."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ivr.engine.draw import graphviz, mermaid
from ivr.engine.model import targets
from ivr.flows import FLOWS


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_mermaid_shows_every_node_and_transition(name: str) -> None:
    flow = FLOWS[name]
    text = mermaid(flow)
    assert text.splitlines()[1] == "flowchart TD"
    for node_name, node in flow.nodes.items():
        ident = f"{flow.name}_{node_name}"
        assert ident in text
        for label, target in targets(node).items():
            arrow = f"-->|{label}|" if label else "-->"
            assert f"{ident} {arrow} {flow.name}_{target}" in text


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_graphviz_output_is_accepted_by_dot(name: str) -> None:
    dot = shutil.which("dot")
    assert dot, "graphviz's dot is missing: run scripts/setup.sh"
    svg = subprocess.run(
        [dot, "-Tsvg"],
        input=graphviz(FLOWS[name]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "<svg" in svg and all(f">{node}" in svg or node in svg for node in FLOWS[name].nodes)
