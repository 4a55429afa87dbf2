"""Drawings of flows, made from the same definitions the engine runs (Mermaid or Graphviz DOT)."""

from __future__ import annotations

from ivr.engine.model import Action, Collect, End, Flow, Menu, Node, Record, Say, Sub, targets


def _label(name: str, node: Node) -> str:
    match node:
        case Menu():
            return f"{name}: menu" + (f" ({node.repeat} again)" if node.repeat else "")
        case Collect():
            digits = f"{node.min_digits}-{node.max_digits} digits"
            shown = {"plain": "", "id_number": " (masked)", "secret": " (secret)"}[node.privacy]
            return f"{name}: collect {digits}{shown}"
        case Say():
            return f"{name}: say"
        case Record():
            return f"{name}: record {node.kind} ≤{node.max_seconds}s"
        case Action():
            return f"{name}: {node.run}()"
        case Sub():
            return f"{name}: ⇒ {node.flow}"
        case End():
            return f"end: {node.outcome}" + (f" → {node.then}" if node.then else "")


def _mermaid_shape(ident: str, text: str, node: Node) -> str:
    text = text.replace('"', "'")
    match node:
        case Menu():
            return f'{ident}{{"{text}"}}'
        case Collect():
            return f'{ident}[/"{text}"/]'
        case Sub():
            return f'{ident}[["{text}"]]'
        case End():
            return f'{ident}(["{text}"])'
        case _:
            return f'{ident}["{text}"]'


def _ident(flow: Flow, name: str) -> str:
    return f"{flow.name}_{name}".replace("-", "_").replace(":", "_")


def mermaid(flow: Flow) -> str:
    lines = [f"%% {flow.title}", "flowchart TD"]
    for name, node in flow.nodes.items():
        lines.append("    " + _mermaid_shape(_ident(flow, name), _label(name, node), node))
    start = _ident(flow, "start")
    lines.append(f"    {start}((start)) --> {_ident(flow, flow.start)}")
    for name, node in flow.nodes.items():
        for label, target in targets(node).items():
            arrow = f"-->|{label}|" if label else "-->"
            lines.append(f"    {_ident(flow, name)} {arrow} {_ident(flow, target)}")
    return "\n".join(lines) + "\n"


def graphviz(flow: Flow) -> str:
    shapes = {Menu: "diamond", Collect: "parallelogram", Sub: "box3d", End: "oval"}
    title = flow.title.replace('"', "'")  # a double quote would end DOT's string
    lines = [f'digraph "{flow.name}" {{', f'  label="{title}";', "  rankdir=TB;"]
    for name, node in flow.nodes.items():
        shape = shapes.get(type(node), "box")
        label = _label(name, node).replace('"', "'")
        lines.append(f'  "{name}" [shape={shape}, label="{label}"];')
    lines.append(f'  "__start" [shape=point]; "__start" -> "{flow.start}";')
    for name, node in flow.nodes.items():
        for label, target in targets(node).items():
            lines.append(f'  "{name}" -> "{target}" [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
