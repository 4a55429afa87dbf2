"""Calls in progress, as the supervisor console and the AMI bridge see them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ivr.engine.context import CallContext


@dataclass(frozen=True)
class LiveCall:
    uniqueid: str
    call_id: int | None
    hotline: str
    language: str
    node: str
    started_at: datetime
    seconds: float


class LiveCalls:
    """The contexts of running calls; readers get snapshots, watchers a queue of changes."""

    def __init__(self) -> None:
        self._calls: dict[str, tuple[CallContext, datetime]] = {}
        self._watchers: set[asyncio.Queue[dict[str, Any]]] = set()

    def started(self, ctx: CallContext) -> None:
        self._calls[ctx.uniqueid or str(ctx.call_id)] = (ctx, datetime.now(UTC))
        ctx.on_move = self._moved
        self._notify("started", ctx)

    def ended(self, ctx: CallContext) -> None:
        ctx.on_move = None
        self._calls.pop(ctx.uniqueid or str(ctx.call_id), None)
        self._notify("ended", ctx)

    def _moved(self, ctx: CallContext) -> None:
        self._notify("moved", ctx)

    def snapshot(self) -> list[LiveCall]:
        now = datetime.now(UTC)
        return [
            LiveCall(
                key,
                ctx.call_id,
                ctx.hotline,
                ctx.language,
                ctx.node,
                started,
                (now - started).total_seconds(),
            )
            for key, (ctx, started) in self._calls.items()
        ]

    def watch(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self._watchers.add(queue)
        return queue

    def unwatch(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._watchers.discard(queue)

    def _notify(self, event: str, ctx: CallContext) -> None:
        message = {
            "event": event,
            "uniqueid": ctx.uniqueid,
            "hotline": ctx.hotline,
            "call_id": ctx.call_id,
            "node": ctx.node,
            "outcome": ctx.outcome,
        }
        for queue in self._watchers:
            if not queue.full():  # a slow reader misses events rather than stalling calls
                queue.put_nowait(message)
