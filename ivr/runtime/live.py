"""Calls in progress, as the supervisor console and the AMI bridge see them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

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


class Channel(Protocol):
    """A channel as the AMI bridge sees it (``ivr.ami.channels.LiveChannel`` fits)."""

    @property
    def uniqueid(self) -> str: ...
    @property
    def hotline(self) -> str | None: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def seconds(self) -> float: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def waiting_seconds(self) -> float | None: ...
    @property
    def fallback(self) -> bool: ...
    @property
    def outgoing(self) -> bool: ...


class LiveCalls:
    """The contexts of running calls; readers get snapshots, watchers a queue of changes.

    With the AMI bridge attached, callers who left the flow and wait for an agent (or hear the
    fallback) are listed too: they are still on the line.
    """

    def __init__(self) -> None:
        self._calls: dict[str, tuple[CallContext, datetime]] = {}
        self._watchers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._channels: Callable[[], Sequence[Channel]] | None = None

    def attach_channels(self, channels: Callable[[], Sequence[Channel]]) -> None:
        self._channels = channels

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
        return self._in_flow(now) + self._after_flow()

    def _after_flow(self) -> list[LiveCall]:
        if self._channels is None:
            return []
        return [
            LiveCall(ch.uniqueid, None, ch.hotline or "", "", _where(ch), ch.started_at, ch.seconds)
            for ch in self._channels()
            if ch.hotline
            and not ch.outgoing
            and ch.uniqueid not in self._calls
            and (ch.queue or ch.fallback)
        ]

    def _in_flow(self, now: datetime) -> list[LiveCall]:
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


def _where(channel: Channel) -> str:
    if channel.queue:
        waited = f", {channel.waiting_seconds:.0f} s" if channel.waiting_seconds else ""
        return f"queue:{channel.queue} (waiting for an agent{waited})"
    return "fallback: apology, then agents"
