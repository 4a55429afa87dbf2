"""Completing call records with Asterisk's hang-up facts, off the bridge's event path.

The flow stores ``agi_uniqueid``, the uniqueid of the channel running the AGI (for a Local channel
the ``;2`` half), so the record is found by uniqueid. A record is opened when the FastAGI call
starts, so a very quick hang-up may come first: for channels that ran the AGI, completing is
retried a few times. A call the dialplan refused (the node full) never reached the flow: its one
record is written here, whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, Protocol

from ivr.ami.reducer import HangupFacts
from ivr.domain.outcomes import Outcome

__all__ = ["HangupRecorder", "HangupStore"]

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)


class HangupStore(Protocol):
    """What the recorder needs of the records (``ivr.store.records.Records`` fits)."""

    async def complete_hangup(
        self,
        uniqueid: str,
        *,
        cause: int | None,
        cause_text: str | None,
        duration_s: int | None,
        billsec: int | None,
    ) -> bool: ...

    async def record_refused(
        self,
        *,
        hotline: str,
        caller_id: str,
        uniqueid: str,
        linkedid: str,
        channel: str,
        language: str,
        started_at: datetime,
        ended_at: datetime,
        cause: int | None,
        cause_text: str | None,
        duration_s: int | None,
    ) -> int: ...


class HangupRecorder:
    def __init__(
        self,
        store: HangupStore,
        *,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        call_ended: Callable[[str, str], None] | None = None,
    ) -> None:
        """``call_ended(hotline, outcome)``: told of each refused call (the node's metrics; the
        call runner tells them of the calls it took)."""
        self.store = store
        self.retry_delays = tuple(retry_delays)
        self.call_ended = call_ended
        self.completed = 0  # call records completed with a hang-up cause
        self.refused = 0  # records written for calls refused by the dialplan
        self.unmatched = 0  # hang-ups of channels that ran the AGI but had no record
        self._tasks: set[asyncio.Task[None]] = set()

    def record(self, facts: HangupFacts) -> None:
        """Complete the record in the background; the caller (the event reader) never waits."""
        log.info(
            "hang-up %s (%s): cause %s %s, %s s",
            facts.uniqueid,
            facts.channel_name,
            facts.cause,
            facts.cause_text or "",
            facts.duration_s if facts.duration_s is not None else "?",
        )
        self._spawn(self._complete(facts))

    async def _complete(self, facts: HangupFacts) -> None:
        if facts.refused is not None:
            await self._record_refused(facts)
            return
        retries = self.retry_delays if facts.ran_agi else ()
        for delay in (0.0, *retries):
            await asyncio.sleep(delay)
            try:
                found = await self.store.complete_hangup(
                    facts.uniqueid,
                    cause=facts.cause,
                    cause_text=facts.cause_text,
                    duration_s=facts.duration_s,
                    billsec=facts.billsec,
                )
            except Exception:  # the database may be down: the call itself is long over
                log.exception("could not record the hang-up of %s", facts.uniqueid)
                return
            if found:
                self.completed += 1
                return
        if retries:
            self.unmatched += 1
            log.warning("hang-up of %s: no call record with that uniqueid", facts.uniqueid)

    async def _record_refused(self, facts: HangupFacts) -> None:
        refused = facts.refused
        assert refused is not None
        if self.call_ended is not None:
            self.call_ended(refused.hotline, Outcome.REFUSED.value)
        try:
            await self.store.record_refused(
                hotline=refused.hotline,
                caller_id=refused.caller_id,
                uniqueid=facts.uniqueid,
                linkedid=refused.linkedid,
                channel=facts.channel_name,
                language=refused.language,
                started_at=refused.started_at,
                ended_at=refused.ended_at,
                cause=facts.cause,
                cause_text=facts.cause_text,
                duration_s=facts.duration_s,
            )
        except Exception:  # the database may be down: the call itself is over
            log.exception("could not record the refused call %s", facts.uniqueid)
            return
        self.refused += 1

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait until the updates started so far are done (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = 5.0) -> None:
        """Give pending updates ``grace`` seconds, then abandon them (logged)."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("AMI bridge: %d hang-up update(s) abandoned at close", len(pending))
            await asyncio.wait(pending, timeout=1.0)
