"""Drawings are made from the same definitions the engine runs, and they are valid diagrams."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ivr.engine.draw import graphviz, mermaid
from ivr.engine.model import Action, Collect, End, Flow, Menu, Record, Say, Sub, targets
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


# Every kind of node, each drawn in its own shape with what a supervisor needs to read the flow.
EVERY_KIND = Flow(
    "demo-flow",
    'The "demo" flow',
    "menu",
    {
        "menu": Menu(("p",), {"1": "ask", "2": "speak", "3": "pin", "4": "count"}, on_fail="bye"),
        "ask": Collect(
            ("enter",),
            store_as="n",
            next="act",
            on_fail="bye",
            min_digits=2,
            max_digits=4,
            privacy="id_number",
            exits={"*": "menu"},
        ),
        "pin": Collect(("pin",), store_as="p", next="quiet", on_fail="bye", privacy="secret"),
        "count": Collect(("n",), store_as="c", next="step:2", on_fail="bye", max_digits=3),
        "step:2": End('said "no"'),
        "quiet": Menu(("q",), {"1": "last"}, default="last", repeat=""),
        "act": Action("lookup", {"ok": "say", "no": "sub"}),
        "say": Say(("x",), next="bye"),
        "speak": Record(("t",), store_as="r", kind="statement", next="bye", max_seconds=30),
        "sub": Sub("other", {"done": "last"}),
        "bye": End("served", then="hangup"),
        "last": End("gone"),
    },
)


def test_mermaid_draws_each_kind_of_node_in_its_shape_with_its_label() -> None:
    assert mermaid(EVERY_KIND) == "\n".join(
        [
            '%% The "demo" flow',
            "flowchart TD",
            '    demo_flow_menu{"menu: menu (9 again)"}',
            '    demo_flow_ask[/"ask: collect 2-4 digits (masked)"/]',
            '    demo_flow_pin[/"pin: collect 1-1 digits (secret)"/]',
            '    demo_flow_count[/"count: collect 1-3 digits"/]',
            "    demo_flow_step_2([\"end: said 'no'\"])",
            '    demo_flow_quiet{"quiet: menu"}',
            '    demo_flow_act["act: lookup()"]',
            '    demo_flow_say["say: say"]',
            '    demo_flow_speak["speak: record statement ≤30s"]',
            '    demo_flow_sub[["sub: ⇒ other"]]',
            '    demo_flow_bye(["end: served → hangup"])',
            '    demo_flow_last(["end: gone"])',
            "    demo_flow_start((start)) --> demo_flow_menu",
            "    demo_flow_menu -->|key 1| demo_flow_ask",
            "    demo_flow_menu -->|key 2| demo_flow_speak",
            "    demo_flow_menu -->|key 3| demo_flow_pin",
            "    demo_flow_menu -->|key 4| demo_flow_count",
            "    demo_flow_menu -->|fail| demo_flow_bye",
            "    demo_flow_ask -->|ok| demo_flow_act",
            "    demo_flow_ask -->|fail| demo_flow_bye",
            "    demo_flow_ask -->|exit *| demo_flow_menu",
            "    demo_flow_pin -->|ok| demo_flow_quiet",
            "    demo_flow_pin -->|fail| demo_flow_bye",
            "    demo_flow_count -->|ok| demo_flow_step_2",
            "    demo_flow_count -->|fail| demo_flow_bye",
            "    demo_flow_quiet -->|key 1| demo_flow_last",
            "    demo_flow_quiet -->|other/silence| demo_flow_last",
            "    demo_flow_act -->|ok| demo_flow_say",
            "    demo_flow_act -->|no| demo_flow_sub",
            "    demo_flow_say --> demo_flow_bye",
            "    demo_flow_speak --> demo_flow_bye",
            "    demo_flow_sub -->|done| demo_flow_last",
            "",
        ]
    )


def test_graphviz_draws_each_kind_of_node_in_its_shape_with_its_label() -> None:
    assert graphviz(EVERY_KIND) == "\n".join(
        [
            'digraph "demo-flow" {',
            "  label=\"The 'demo' flow\";",
            "  rankdir=TB;",
            '  "menu" [shape=diamond, label="menu: menu (9 again)"];',
            '  "ask" [shape=parallelogram, label="ask: collect 2-4 digits (masked)"];',
            '  "pin" [shape=parallelogram, label="pin: collect 1-1 digits (secret)"];',
            '  "count" [shape=parallelogram, label="count: collect 1-3 digits"];',
            '  "step:2" [shape=oval, label="end: said \'no\'"];',
            '  "quiet" [shape=diamond, label="quiet: menu"];',
            '  "act" [shape=box, label="act: lookup()"];',
            '  "say" [shape=box, label="say: say"];',
            '  "speak" [shape=box, label="speak: record statement ≤30s"];',
            '  "sub" [shape=box3d, label="sub: ⇒ other"];',
            '  "bye" [shape=oval, label="end: served → hangup"];',
            '  "last" [shape=oval, label="end: gone"];',
            '  "__start" [shape=point]; "__start" -> "menu";',
            '  "menu" -> "ask" [label="key 1"];',
            '  "menu" -> "speak" [label="key 2"];',
            '  "menu" -> "pin" [label="key 3"];',
            '  "menu" -> "count" [label="key 4"];',
            '  "menu" -> "bye" [label="fail"];',
            '  "ask" -> "act" [label="ok"];',
            '  "ask" -> "bye" [label="fail"];',
            '  "ask" -> "menu" [label="exit *"];',
            '  "pin" -> "quiet" [label="ok"];',
            '  "pin" -> "bye" [label="fail"];',
            '  "count" -> "step:2" [label="ok"];',
            '  "count" -> "bye" [label="fail"];',
            '  "quiet" -> "last" [label="key 1"];',
            '  "quiet" -> "last" [label="other/silence"];',
            '  "act" -> "say" [label="ok"];',
            '  "act" -> "sub" [label="no"];',
            '  "say" -> "bye" [label=""];',
            '  "speak" -> "bye" [label=""];',
            '  "sub" -> "last" [label="done"];',
            "}",
            "",
        ]
    )


def test_a_title_or_label_with_double_quotes_still_makes_a_valid_dot_graph() -> None:
    dot = shutil.which("dot")
    assert dot, "graphviz's dot is missing: run scripts/setup.sh"
    svg = subprocess.run(
        [dot, "-Tsvg"],
        input=graphviz(EVERY_KIND),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "The &#39;demo&#39; flow" in svg or "The 'demo' flow" in svg
