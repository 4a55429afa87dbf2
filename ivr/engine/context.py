"""The state of one call as the engine and the actions see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ivr.speech.catalog import DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Step:
    """One step of the caller's path: node entered, key pressed (masked when sensitive)."""

    seq: int
    at: datetime
    node: str
    kind: str
    key: str = ""
    detail: str = ""


@dataclass
class CallContext:
    hotline: str
    caller_id: str = ""
    uniqueid: str = ""
    channel: str = ""
    call_id: int | None = None
    language: str = DEFAULT_LANGUAGE
    vars: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    node: str = ""  # where the caller is now: "flow:node"
    outcome: str | None = None
    then: str | None = None  # what the dialplan does next
    id_hash: str | None = None  # the caller's keyed ID hash once identified (never the ID)
    id_masked: str | None = None
    served: bool = False  # the caller got what they called for (a balance, a report, ...)
    said_once: set[str] = field(default_factory=set)  # ``Once`` prompts the caller has heard
    # Told of every node the caller enters (the runtime passes the live board's feed when it
    # makes the context; the engine only announces).
    observer: Callable[[CallContext], None] = field(default=lambda _: None, repr=False)

    def enter(self, flow: str, node: str) -> None:
        self.node = f"{flow}:{node}"
        self.observer(self)

    def log(self, kind: str, key: str = "", detail: str = "") -> Step:
        step = Step(len(self.steps) + 1, datetime.now(UTC), self.node, kind, key, detail)
        self.steps.append(step)
        return step
