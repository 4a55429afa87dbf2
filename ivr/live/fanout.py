"""Fan-out of changes to any number of readers, without a reader ever slowing the producer.

A producer calls ``publish`` from the event loop; it never blocks and never calls a reader. Each
reader holds a ``Subscription`` with a bounded queue: when a reader falls behind, the oldest
changes it has not read are dropped and counted in ``missed``, so it knows to read a fresh
snapshot instead of trusting the changes it still has.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["Fanout", "Subscription"]

T = TypeVar("T")

DEFAULT_CAPACITY = 100


class Subscription(Generic[T]):
    """One reader's queue of changes; read with ``await next_change(timeout)`` or ``drain()``."""

    def __init__(self, capacity: int) -> None:
        self._items: deque[T] = deque(maxlen=capacity)
        self._ready = asyncio.Event()
        self.missed = 0  # changes dropped because this reader was behind
        self.closed = False

    def _put(self, item: T) -> None:
        if len(self._items) == self._items.maxlen:
            self.missed += 1
        self._items.append(item)
        self._ready.set()

    def drain(self) -> list[T]:
        """Every change not read yet, oldest first."""
        items = list(self._items)
        self._items.clear()
        self._ready.clear()
        return items

    async def wait(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Until a change is waiting (True) or ``timeout`` seconds pass (False)."""
        if self._items:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return bool(self._items)

    async def next_change(self, timeout: float | None = None) -> T | None:  # noqa: ASYNC109
        """The oldest change not read yet; None when ``timeout`` passes first."""
        if not await self.wait(timeout):
            return None
        item = self._items.popleft()
        if not self._items:
            self._ready.clear()
        return item


class Fanout(Generic[T]):
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._subscriptions: set[Subscription[T]] = set()

    def publish(self, item: T) -> None:
        for subscription in self._subscriptions:
            subscription._put(item)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription[T]]:
        """A subscription for the ``with`` block; it stops receiving when the block ends."""
        subscription: Subscription[T] = Subscription(self.capacity)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            subscription.closed = True

    @property
    def readers(self) -> int:
        return len(self._subscriptions)
