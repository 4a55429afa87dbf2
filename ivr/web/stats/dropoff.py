"""Drop-off per menu node: where callers hung up or failed, laid out as the flows define them."""

from __future__ import annotations

from dataclasses import dataclass

from ivr.engine.model import Collect, Menu, Record
from ivr.flows import FLOWS

__all__ = ["FlowDrops", "NodeDrops", "dropoff_by_flow"]

WAITING = (Menu, Collect, Record)  # nodes where a caller waits: listed even without drop-offs


@dataclass(frozen=True)
class NodeDrops:
    node: str  # "flow:name" as calls record it
    name: str
    kind: str
    abandoned: int
    failed: int


@dataclass(frozen=True)
class FlowDrops:
    flow: str
    title: str
    nodes: list[NodeDrops]

    @property
    def total(self) -> int:
        return sum(n.abandoned + n.failed for n in self.nodes)


def dropoff_by_flow(dropoff: dict[str, dict[str, int]]) -> list[FlowDrops]:
    """Each flow's nodes in definition order with their drop-offs. The nodes where a caller
    waits (menus, entries, recordings) are always listed, the others (announcements, actions,
    sub-flows, ends) only when a call did end there; nodes no flow defines any more come last."""
    seen: set[str] = set()
    out: list[FlowDrops] = []
    for flow in FLOWS.values():
        nodes: list[NodeDrops] = []
        for name, node in flow.nodes.items():
            key = f"{flow.name}:{name}"
            seen.add(key)
            counts = dropoff.get(key, {})
            if not isinstance(node, WAITING) and not counts:
                continue
            nodes.append(
                NodeDrops(
                    key,
                    name,
                    type(node).__name__.lower(),
                    counts.get("abandoned", 0),
                    counts.get("failed", 0),
                )
            )
        out.append(FlowDrops(flow.name, flow.title, nodes))
    others = [
        NodeDrops(key, key, "?", c.get("abandoned", 0), c.get("failed", 0))
        for key, c in sorted(dropoff.items())
        if key not in seen
    ]
    if others:
        out.append(FlowDrops("other", "Nodes not in the current flows", others))
    return out
