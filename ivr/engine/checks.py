"""Load-time checks of flow definitions: a bad definition fails at start, not on a call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ivr.engine.model import (
    Action,
    Choice,
    Collect,
    End,
    Flow,
    Menu,
    Node,
    Once,
    Prompts,
    Record,
    Say,
    Sub,
)
from ivr.engine.model import targets as node_targets


def prompt_keys(flows: Iterable[Flow]) -> set[str]:
    """Every prompt key the flows can play (read-back fragments are the grammar's business)."""
    keys: set[str] = set()
    for flow in flows:
        for node in flow.nodes.values():
            keys.update(_node_prompt_keys(node))
    return keys


def _node_prompt_keys(node: Node) -> set[str]:
    keys: set[str] = set()
    prompt_sets: list[Prompts] = []
    match node:
        case Menu():
            prompt_sets += [node.prompts, node.reprompt]
            keys |= {node.no_input_prompt, node.no_match_prompt}
        case Collect():
            prompt_sets += [node.prompts, node.reprompt]
            keys |= {node.no_input_prompt, node.pattern_error}
        case Say() | Record() | End():
            prompt_sets.append(node.prompts)
        case Action() | Sub():
            pass
    for prompts in prompt_sets:
        for part in prompts:
            if isinstance(part, str):
                keys.add(part)
            elif isinstance(part, Choice):
                keys.update(part.prefix + value for value in part.values)
            elif isinstance(part, Once):
                keys.add(part.key)
    return keys


def check_flows(
    flows: Mapping[str, Flow], actions: Mapping[str, Any], checks: Mapping[str, Any]
) -> list[str]:
    """Every problem found; an empty list means the flows can run."""
    problems: list[str] = []
    for flow in flows.values():
        where = flow.name
        if flow.start not in flow.nodes:
            problems.append(f"{where}: start node {flow.start!r} is not defined")
            continue
        for name, node in flow.nodes.items():
            for label, target in node_targets(node).items():
                if not target:
                    problems.append(f"{where}:{name}: transition {label!r} has no target")
                elif target not in flow.nodes:
                    problems.append(f"{where}:{name}: transition {label!r} -> unknown {target!r}")
            if isinstance(node, Sub) and node.flow not in flows:
                problems.append(f"{where}:{name}: unknown sub-flow {node.flow!r}")
            if isinstance(node, Action) and node.run not in actions:
                problems.append(f"{where}:{name}: unknown action {node.run!r}")
            if isinstance(node, Collect) and node.check and node.check not in checks:
                problems.append(f"{where}:{name}: unknown check {node.check!r}")
            if isinstance(node, Menu) and not node.default and not node.on_fail:
                problems.append(f"{where}:{name}: a menu needs on_fail or default")
            if isinstance(node, Menu) and node.repeat and node.repeat in node.options:
                problems.append(f"{where}:{name}: key {node.repeat} repeats, it is no option")
        unreachable = set(flow.nodes) - _reachable(flow)
        if unreachable:
            problems.append(f"{where}: unreachable nodes {sorted(unreachable)}")
        if not any(isinstance(node, End) for node in flow.nodes.values()):
            problems.append(f"{where}: no End node")
    return problems


def _reachable(flow: Flow) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start]
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.nodes:
            continue
        seen.add(name)
        todo.extend(node_targets(flow.nodes[name]).values())
    return seen
