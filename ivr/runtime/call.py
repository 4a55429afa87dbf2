"""One call from start to end: open the call record, run the flow, close the record.

Whatever happens on the call (the caller hangs up at any step, an action fails, the database is
down), the caller hears what happens next and the call record ends with an outcome. Steps are
buffered in memory and written with the call's end in one transaction.

The runner announces each call on the live board through ``publish`` (given at construction):
started once its record is open, every node the caller enters, ended. It never reads the board.
Each call's end is also told to ``on_call_ended`` (its hotline and outcome: the node's counts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from ivr.domain.callers import LanguageMemory
from ivr.domain.outcomes import Outcome
from ivr.engine.context import CallContext
from ivr.engine.port import CallerHungUp, CallPort, ChannelLost
from ivr.engine.runner import Engine
from ivr.live.events import FlowEnded, FlowMoved, FlowStarted, LiveEvent
from ivr.speech.catalog import DEFAULT_LANGUAGE
from ivr.store.records import Records, StepRecord

__all__ = ["TECHNICAL_PROBLEM", "CallRunner", "live_key"]

log = logging.getLogger(__name__)

TECHNICAL_PROBLEM = "technical_problem"
# Writing a call's end again after a database fault (a restart takes seconds): then it is given up
# and the heartbeat's sweep closes the record when this process stops.
FINISH_RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0)


def live_key(ctx: CallContext) -> str:
    """How the live board knows a call: its channel's uniqueid (the AMI bridge's key too)."""
    return ctx.uniqueid or f"call-{ctx.call_id}"


def _unannounced(event: LiveEvent) -> None:
    """No live board (a test that does not watch)."""


def _uncounted(hotline: str, outcome: str) -> None:
    """No one counts the calls (a test of the flows alone)."""


class CurrentRun(Protocol):
    """This process's run (``ivr.runtime.heartbeat.Heartbeat`` fits): recorded on each call, so
    the calls it leaves open when it dies are closed by the next start."""

    @property
    def run_id(self) -> int | None: ...


class _NoRun:
    run_id = None


NO_RUN = _NoRun()  # a runner without a heartbeat (a test of the flows alone)


class CallRunner:
    def __init__(
        self,
        engine: Engine,
        records: Records,
        *,
        publish: Callable[[LiveEvent], None] = _unannounced,
        run: CurrentRun = NO_RUN,
        node: str = "",
        on_call_ended: Callable[[str, str], None] = _uncounted,
        languages: LanguageMemory | None = None,
    ) -> None:
        """``languages``: callers' remembered languages, looked up with each call's start (None:
        every call starts in ``context``'s language)."""
        self.engine = engine
        self.records = records
        self.publish = publish
        self.current_run = run
        self.node = node  # this node's name, left on the channel as the flow starts
        self.on_call_ended = on_call_ended
        self.languages = languages
        self._unwritten: set[asyncio.Task[None]] = set()  # call ends waiting for the database

    def context(
        self,
        hotline: str,
        *,
        caller_id: str = "",
        uniqueid: str = "",
        channel: str = "",
        language: str = DEFAULT_LANGUAGE,
    ) -> CallContext:
        """A new call's context, its moves announced on the live board."""
        return CallContext(
            hotline=hotline,
            caller_id=caller_id,
            uniqueid=uniqueid,
            channel=channel,
            language=language,
            observer=self._moved,
        )

    async def _claim(self, port: CallPort) -> None:
        """Say on the channel that this node took the call: the dialplan hands a call to the
        next node's FastAGI only when no node did (a node that dies mid-call is not retried)."""
        await port.set_variable("HOTLINE_NODE", self.node or "-")

    async def _technical_problem(self, port: CallPort, ctx: CallContext) -> None:
        """Tell the caller, hand them to an agent; best effort: the channel may be what failed."""
        ctx.outcome, ctx.then = Outcome.ERROR, "agent"
        ctx.log("error")
        try:
            await self._claim(port)  # answered here: no other node starts the flow again
            await port.play([TECHNICAL_PROBLEM], "")
            await _leave_variables(port, ctx)
        except CallerHungUp:
            pass
        except Exception:
            log.exception("call %s: could not tell the caller about the fault", ctx.call_id)

    def _moved(self, ctx: CallContext) -> None:
        if ctx.call_id is not None:  # announced once the record is open
            self.publish(FlowMoved(live_key(ctx), ctx.node, ctx.language))

    async def run(self, port: CallPort, ctx: CallContext) -> CallContext:
        started = datetime.now(UTC)
        ctx.vars["hotline"] = ctx.hotline
        recall = None if self.languages is None else self.languages.recall(ctx.caller_id, started)
        try:
            opened = await self.records.start_call(
                hotline=ctx.hotline,
                caller_id=ctx.caller_id,
                uniqueid=ctx.uniqueid,
                channel=ctx.channel,
                language=ctx.language,
                started_at=started,
                run_id=self.current_run.run_id,
                recall=recall,
            )
        except Exception:
            log.exception("cannot open the call record; the caller goes to an agent")
            await self._technical_problem(port, ctx)
            self.on_call_ended(ctx.hotline, _final_outcome(ctx))
            return ctx
        ctx.call_id = opened.call_id
        # The greeting's recall_language takes it up, so the engine switches the channel to it.
        ctx.vars["remembered_language"] = opened.remembered_language
        self.publish(
            FlowStarted(
                uniqueid=live_key(ctx),
                hotline=ctx.hotline,
                call_id=ctx.call_id,
                caller_id=ctx.caller_id,
                language=ctx.language,
                node=ctx.node,
                at=started,
            )
        )
        try:
            await self._claim(port)
            await self.engine.run(ctx.hotline, port, ctx)
            if ctx.outcome == Outcome.FAILED and ctx.served:  # fumbled a menu after an answer
                ctx.outcome = Outcome.SERVED
            await _leave_variables(port, ctx)
        except asyncio.CancelledError:
            # The server is stopping under the caller, who did not abandon anything: say so, and
            # let the dialplan's fallback (apology, agents) take the call on.
            ctx.outcome, ctx.then = Outcome.INTERRUPTED, None
            ctx.log("interrupted")
            log.warning("call %s interrupted at %s: the server is stopping", ctx.call_id, ctx.node)
            raise
        except ChannelLost as exc:
            # Asterisk went away, stopped answering in time, or answered out of step: nothing more
            # can be said on the line, and it is not the caller's doing. Closing the connection
            # lets the dialplan's fallback take the caller on (if Asterisk is still there).
            ctx.outcome, ctx.then = Outcome.INTERRUPTED, None
            ctx.log("interrupted", detail=str(exc))
            log.warning("call %s interrupted at %s: %s", ctx.call_id, ctx.node, exc)
        except CallerHungUp:
            ctx.outcome = Outcome.SERVED if ctx.served else Outcome.ABANDONED
            ctx.then = None
            ctx.log("hangup")
            log.info("call %s: caller hung up at %s", ctx.call_id, ctx.node)
        except Exception:
            log.exception("call %s failed at %s", ctx.call_id, ctx.node)
            await self._technical_problem(port, ctx)
        finally:
            ctx.vars.clear()  # entries (passwords included) live no longer than the call
            self.publish(FlowEnded(live_key(ctx), ctx.outcome, ctx.then))
            self.on_call_ended(ctx.hotline, _final_outcome(ctx))
            ended_at = datetime.now(UTC)
            if not await _finish(self.records, ctx, ended_at=ended_at):
                # The caller must not wait in silence for the database: retried aside.
                retry = asyncio.create_task(_finish_later(self.records, ctx, ended_at))
                self._unwritten.add(retry)
                retry.add_done_callback(self._unwritten.discard)
        return ctx


def _final_outcome(ctx: CallContext) -> str:
    """How the call ended, as recorded and counted: without an outcome the caller left."""
    return ctx.outcome or Outcome.ABANDONED


async def _leave_variables(port: CallPort, ctx: CallContext) -> None:
    """What the dialplan acts on after the AGI: where the caller goes next, and why."""
    await port.set_variable("HOTLINE_NEXT", ctx.then or "hangup")
    await port.set_variable("HOTLINE_OUTCOME", ctx.outcome or "")
    if ctx.call_id is not None:
        await port.set_variable("HOTLINE_CALL_ID", str(ctx.call_id))


async def _finish(records: Records, ctx: CallContext, *, ended_at: datetime) -> bool:
    """Write the end of the call record; False if the database would not take it."""
    if ctx.call_id is None:
        return True
    steps = [
        StepRecord(seq=s.seq, at=s.at, node=s.node, kind=s.kind, key=s.key, detail=s.detail)
        for s in ctx.steps
    ]
    try:
        await records.settle()  # the call's deferred writes land before its end does
        await records.finish_call(
            ctx.call_id,
            ended_at=ended_at,
            outcome=_final_outcome(ctx),
            last_node=ctx.node,
            next_action=ctx.then,
            language=ctx.language,
            id_hash=ctx.id_hash,
            id_masked=ctx.id_masked,
            steps=steps,
        )
    except Exception:
        log.exception("call %s: could not write the end of the call record", ctx.call_id)
        return False
    return True


async def _finish_later(records: Records, ctx: CallContext, ended_at: datetime) -> None:
    """The end again after a database fault (a restart takes seconds), at the time it happened;
    given up after the last try: the heartbeat's sweep closes the record when this run stops."""
    for pause in FINISH_RETRY_SECONDS:
        await asyncio.sleep(pause)
        if await _finish(records, ctx, ended_at=ended_at):
            log.info("call %s: end written after a database fault", ctx.call_id)
            return
