"""AdmissionGate: while this node's password checks are queued, Asterisk refuses new calls.

Past the node's saturation the first thing to fall behind is the password verification (argon2id
on threads below the event loop's priority): callers already in the flow wait for their figures
and hang up half-served. The cap on calls at once (``HOTLINE_MAX_CALLS``) cannot see that, so the
gate tells the dialplan: while ``crowded()`` holds, it keeps the Asterisk global
``HOTLINE_SHED_UNTIL`` (``SHED_UNTIL``) a few seconds ahead of Asterisk's ``${EPOCH}``, and the
admission check sends a new call to the busy prompt, refused cleanly before it is answered, as
past the cap. Calls already in the flow go on.

The global is a lease, not a flag: the gate renews it at most once a second while crowded and
simply stops renewing once the queue clears, so a hotline that dies or loses AMI while shedding
can never leave Asterisk refusing every call; the door opens again ``lease`` seconds later. It is
set again after each AMI login (Asterisk may have restarted, or reloaded its dialplan, which
resets the globals).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable

from ivr.ami.client import AMIClient
from ivr.ami.errors import AMIError

__all__ = ["SHED_UNTIL", "AdmissionGate"]

log = logging.getLogger(__name__)

# The dialplan global the admission check reads (``dialplan/extensions.conf.j2``): new calls are
# refused while Asterisk's ``${EPOCH}`` is below it.
SHED_UNTIL = "HOTLINE_SHED_UNTIL"
LEASE_S = 4.0  # how long one renewal keeps the door closed (renewed with 3 s left)
POLL_S = 0.25  # how often the gate looks at the queue


class AdmissionGate:
    def __init__(
        self,
        client: AMIClient,
        crowded: Callable[[], bool],
        *,
        lease: float = LEASE_S,
        poll: float = POLL_S,
        clock: Callable[[], float] = time.time,
        closed: Callable[[bool], None] | None = None,
    ) -> None:
        """``crowded``: whether new calls should wait (read at each poll). ``clock``: seconds
        since the epoch, Asterisk's ``${EPOCH}`` on the same host. ``closed(True/False)``: told
        when the door closes and opens again (the node's metrics)."""
        if lease < 2:
            raise ValueError(f"a lease of {lease} s may end before its renewal: use 2 s or more")
        self.client = client
        self.crowded = crowded
        self.lease = lease
        self.poll = poll
        self.clock = clock
        self._closed = closed
        self._until = 0  # the lease Asterisk holds now, as far as the gate knows (epoch seconds)
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def shedding(self) -> bool:
        """Whether Asterisk refuses new calls now (the last lease it was given runs)."""
        return self.clock() < self._until

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("admission gate already started")
        self._unsubscribe = self.client.on_state(self._on_state)
        self._task = asyncio.create_task(self._watch(), name="admission-gate")

    async def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.shedding:
            self._tell(False)

    async def check(self) -> None:
        """One look at the queue: renew the lease when crowded and it has less than a second
        beyond the next renewal left; tell when the door opened again."""
        now = self.clock()
        if self.crowded():
            if self._until - now < self.lease - 1:
                await self._renew(now)
        elif self._until and now >= self._until:
            self._until = 0
            log.info("password checks caught up: new calls are let in again")
            self._tell(False)

    async def _watch(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.poll)

    async def _renew(self, now: float) -> None:
        until = math.ceil(now + self.lease)
        try:
            await self.client.action("Setvar", Variable=SHED_UNTIL, Value=str(until))
        except AMIError as exc:  # no AMI: Asterisk lets calls in; tried again at the next poll
            log.debug("admission lease not renewed: %s", exc)
            return
        if not self._until:
            log.warning(
                "password checks queued (more than the hold limit waiting): new calls are"
                " refused as busy until they catch up"
            )
            self._tell(True)
        self._until = until

    def _on_state(self, up: bool) -> None:
        # A new Asterisk (or a reloaded dialplan) holds no lease: while closed, the lease is
        # taken as run out (1, not 0: still closed), so the next look renews it at once.
        if up and self._until:
            self._until = 1

    def _tell(self, closed: bool) -> None:
        if self._closed is not None:
            self._closed(closed)
