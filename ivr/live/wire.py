"""Live events as text, for boards in other processes (``ivr.runtime.live_relay``): one JSON object
per event, naming the node it comes from, plus two messages of the relay itself."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from ivr.live.events import (
    ChannelChanged,
    ChannelEnded,
    ChannelRefused,
    FlowEnded,
    FlowMoved,
    FlowStarted,
    LiveEvent,
    TelephonyChanged,
)

__all__ = ["Hello", "NodeGone", "WireError", "decode", "encode"]


@dataclass(frozen=True)
class Hello:
    """A reader joined: every node sends what its board holds again."""


@dataclass(frozen=True)
class NodeGone:
    """A node was found dead (its heartbeat stopped): its calls are no longer anyone's."""

    node: str


Message = LiveEvent | Hello | NodeGone

_KINDS: dict[str, type[Any]] = {
    "flow_started": FlowStarted,
    "flow_moved": FlowMoved,
    "flow_ended": FlowEnded,
    "channel_changed": ChannelChanged,
    "channel_ended": ChannelEnded,
    "channel_refused": ChannelRefused,
    "telephony_changed": TelephonyChanged,
    "hello": Hello,
    "node_gone": NodeGone,
}
_NAMES = {kind: name for name, kind in _KINDS.items()}
_TIMES = frozenset({"at", "started_at", "waiting_since"})


class WireError(ValueError):
    pass


def encode(message: Message, node: str) -> str:
    body = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(message).items()}
    # "sender", not "node": a flow event has a ``node`` of its own (the flow node the caller is at)
    return json.dumps({"kind": _NAMES[type(message)], "sender": node, **body}, ensure_ascii=False)


def decode(text: str) -> tuple[str, Message]:
    """(the node it comes from, the message); ``WireError`` for anything else."""
    try:
        data = json.loads(text)
        kind = _KINDS[data.pop("kind")]
        node = str(data.pop("sender"))
        names = {f.name for f in fields(kind)}
        values = {
            k: datetime.fromisoformat(v) if k in _TIMES and isinstance(v, str) else v
            for k, v in data.items()
            if k in names
        }
        return node, kind(**values)
    except (ValueError, KeyError, TypeError) as exc:
        raise WireError(f"not a live message: {text[:200]!r}") from exc
