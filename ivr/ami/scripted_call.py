"""A scripted test call through AMI: the engine of ``hotline call``.

The call is an ``Originate`` of ``Local/<number>@<context>``: the second half of the Local channel
(``;2``) runs the hotline's dialplan and its FastAGI flow, the first half (``;1``) is the caller
and runs a plain application (``Echo`` by default, so a recording hears something). Both halves
get uniqueids chosen here, so every event of the call is recognised from the start and the call
record (stored under the AGI channel's uniqueid) is found afterwards. Keys go to the caller half
with ``PlayDTMF`` following ``ivr.ami.keys``, driven by the ``AGIExecStart`` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ivr.ami.channels import reads_variable
from ivr.ami.client import AMIClient
from ivr.ami.errors import AMIError
from ivr.ami.keys import KeyScript, Send
from ivr.ami.protocol import Message

__all__ = ["EVENTS", "LOCAL_CONTEXT", "ScriptedCall", "ScriptedCallResult"]

log = logging.getLogger(__name__)

KEY_GAP_S = 0.25

LOCAL_CONTEXT = "hotline-local"  # the dialplan's context for Local-channel test calls
_UP = "6"  # ChannelState of an answered channel
# The events a scripted call follows (``ivr.ami.subscription``: what Asterisk sends the hotline).
EVENTS = frozenset(
    {
        "OriginateResponse",
        "Newchannel",
        "Newstate",
        "AGIExecStart",
        "AGIExecEnd",
        "VarSet",
        "Hangup",
    }
)
_DROPPED = Message([("Event", "_AMIDropped")])  # queued when the AMI link goes down


@dataclass
class ScriptedCallResult:
    number: str
    caller_uniqueid: str  # ;1, the caller
    hotline_uniqueid: str  # ;2, runs the flow: the uniqueid of the call record
    connected: bool = False
    failure: str | None = None  # why the call did not connect, or why following it stopped
    commands: list[str] = field(default_factory=list)  # AGI commands in order, redacted
    variables: dict[str, str] = field(
        default_factory=dict
    )  # HOTLINE*, AGISTATUS set on ;2, redacted
    events: list[Message] = field(default_factory=list)  # every event of both halves, redacted
    entries_left: list[str] = field(default_factory=list)
    inputs_taken: int = 0
    keys_sent: int = 0
    hangup_cause: int | None = None
    hangup_cause_text: str | None = None
    duration_s: int | None = None
    billsec: int | None = None

    @property
    def ran_flow(self) -> bool:
        return bool(self.commands)

    @property
    def call_id(self) -> int | None:
        value = self.variables.get("HOTLINE_CALL_ID", "")
        return int(value) if value.isdigit() else None


class ScriptedCall:
    """One call: ``await ScriptedCall(client, "12333", entries, redact=...).run()``."""

    def __init__(
        self,
        client: AMIClient,
        number: str,
        entries: Sequence[str],
        *,
        redact: Callable[[str], str],
        context: str = LOCAL_CONTEXT,
        caller_app: tuple[str, str] = ("Echo", ""),
        caller_number: str = "13800000000",
        timeout: float = 300.0,
        hang_up_when_done: bool = True,
        dtmf_ms: int = 120,
        trace: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.number = number
        self.redact = redact
        self.context = context
        self.caller_app = caller_app
        self.caller_number = caller_number
        self.timeout = timeout
        self.hang_up_when_done = hang_up_when_done
        self.dtmf_ms = dtmf_ms
        self.trace = trace or (lambda line: None)
        self.script = KeyScript(entries)
        stamp = secrets.token_hex(6)
        self.result = ScriptedCallResult(number, f"hc-{stamp}-1", f"hc-{stamp}-2")
        self._events: asyncio.Queue[Message] = asyncio.Queue()
        self._caller_channel: str | None = None
        self._created: float | None = None
        self._answered: float | None = None
        self._send_lock = asyncio.Lock()
        self._last_key_at = 0.0  # monotonic time the last key was sent
        self._sends: set[asyncio.Task[None]] = set()
        self._recording: asyncio.Task[None] | None = None
        self._hanging_up = False

    async def run(self) -> ScriptedCallResult:
        result = self.result
        unsubscribe = self.client.subscribe(self._collect)
        unwatch = self.client.on_state(self._on_state)
        try:
            action_id = await self._originate()
            if action_id is not None:
                try:
                    async with asyncio.timeout(self.timeout):
                        await self._follow(action_id)
                except TimeoutError:
                    result.failure = f"call still up after {self.timeout:g} s: hung up"
                    await self.hang_up()
        finally:
            unsubscribe()
            unwatch()
            for task in self._sends:
                task.cancel()
            await asyncio.gather(*self._sends, return_exceptions=True)
        result.entries_left = self.script.entries_left
        result.inputs_taken = self.script.inputs_taken
        return result

    def _collect(self, event: Message) -> None:
        ours = (self.result.caller_uniqueid, self.result.hotline_uniqueid)
        if event.get("Uniqueid") in ours or event.event == "OriginateResponse":
            self._events.put_nowait(event)

    def _on_state(self, up: bool) -> None:
        if not up:
            self._events.put_nowait(_DROPPED)

    async def _originate(self) -> str | None:
        app, data = self.caller_app
        result = self.result
        try:
            reply = await self.client.action(
                "Originate",
                Channel=f"Local/{self.number}@{self.context}",
                Application=app,
                Data=data,
                Async="true",
                Timeout=30000,
                CallerID=f'"hotline call" <{self.caller_number}>',
                ChannelId=result.caller_uniqueid,
                OtherChannelId=result.hotline_uniqueid,
            )
        except AMIError as exc:  # never retried: a lost reply may still have placed the call
            result.failure = f"originate failed: {exc}"
            return None
        self.trace(f"originate Local/{self.number}@{self.context}")
        return reply.action_id

    async def _follow(self, action_id: str) -> None:
        result = self.result
        while True:
            event = await self._events.get()
            if event is _DROPPED:
                result.failure = "AMI connection lost during the call"
                return
            if event.event == "OriginateResponse":
                if event.action_id != action_id:
                    continue
                if (event.get("Response") or "").lower() != "success":
                    result.failure = f"call not connected: {_reason(event)}"
                    await self._hotline_half_cause()
                    return
                result.connected = True
                continue
            result.events.append(_redacted(event, self.redact))
            if event.get("Uniqueid") == result.caller_uniqueid:
                if event.event == "Newchannel":
                    self._caller_channel = event.get("Channel")
                continue
            if self._on_hotline_event(event):
                if not result.connected:
                    await self._why_not_connected(action_id)
                return

    async def _hotline_half_cause(self) -> None:
        """After a failed originate: the hotline half's hang-up, when it comes within a moment,
        tells why (17 busy: the node full, or its door closed) better than the reason 0."""
        result = self.result
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                while True:
                    event = await self._events.get()
                    if event is _DROPPED:
                        return
                    if event.event == "OriginateResponse" or (
                        event.get("Uniqueid") == result.caller_uniqueid
                    ):
                        continue
                    result.events.append(_redacted(event, self.redact))
                    if self._on_hotline_event(event):
                        break
        if result.hangup_cause:
            result.failure = _hung_up_unanswered(result)

    async def _why_not_connected(self, action_id: str) -> None:
        """The hotline half hung up unanswered: the OriginateResponse may still be on its way."""
        result = self.result
        result.failure = _hung_up_unanswered(result)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                while True:
                    event = await self._events.get()
                    if event.event == "OriginateResponse" and event.action_id == action_id:
                        # A known cause (17 busy: the node full) says more than the reason 0.
                        failed = (event.get("Response") or "").lower() != "success"
                        if failed and not result.hangup_cause:
                            result.failure = f"call not connected: {_reason(event)}"
                        return

    def _on_hotline_event(self, event: Message) -> bool:
        """Handle an event of the hotline half; True once it has hung up."""
        result = self.result
        name = event.event
        now = time.monotonic()
        if name == "Newchannel":
            self._created = now
        elif name == "Newstate" and event.get("ChannelState") == _UP and self._answered is None:
            self._answered = now
        elif name == "AGIExecStart":
            command = event.get("Command", "")
            result.commands.append(self.redact(command))
            self.trace(f"  {self.redact(command)}")
            send = self.script.command_started(command)
            if send is not None:
                self._schedule(send, recording=command.upper().startswith("RECORD FILE"))
            elif self.script.exhausted and self.hang_up_when_done and not self._hanging_up:
                # The flow asks for more than the script has: the caller hangs up, as the
                # simulator's caller does, rather than sitting through every retry.
                self.trace("script done: the caller hangs up")
                self._hanging_up = True
                self._schedule_hangup()
        elif name == "AGIExecEnd" and event.get("Command", "").upper().startswith("RECORD FILE"):
            if self._recording is not None:  # ended before the caller "finished speaking"
                self._recording.cancel()
        elif name == "VarSet":
            variable = event.get("Variable", "").lstrip("_")
            if reads_variable(variable):
                result.variables[variable] = self.redact(event.get("Value", ""))
        elif name == "Hangup":
            cause = event.get("Cause", "")
            result.hangup_cause = int(cause) if cause.isdigit() else None
            result.hangup_cause_text = event.get("Cause-txt")
            if self._created is not None:
                result.duration_s = round(now - self._created)
                result.billsec = round(now - self._answered) if self._answered else 0
            self.trace(f"hang-up: cause {cause} ({result.hangup_cause_text})")
            return True
        return False

    def _schedule(self, send: Send, *, recording: bool) -> None:
        task = asyncio.create_task(self._send(send))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)
        if recording:
            self._recording = task

    async def _send(self, send: Send) -> None:
        if send.after:
            self.trace(f"  (speaking {send.after:g} s)")
            await asyncio.sleep(send.after)
        async with self._send_lock:  # keys reach the flow in the order they were scheduled
            # A key sent right after a run of keys reached the flow only once the command
            # listening for it had ended (Asterisk held it back); a phone's keys come at
            # least this far apart anyway.
            since = time.monotonic() - self._last_key_at
            if since < KEY_GAP_S:
                await asyncio.sleep(KEY_GAP_S - since)
            for digit in send.digits:
                if self._caller_channel is None:
                    log.warning("scripted call: caller channel unknown, key not sent")
                    return
                try:
                    await self.client.action(
                        "PlayDTMF", Channel=self._caller_channel, Digit=digit, Duration=self.dtmf_ms
                    )
                except AMIError as exc:  # the call may just have ended
                    log.info("scripted call: key not delivered: %s", exc)
                    return
                self.result.keys_sent += 1
                self._last_key_at = time.monotonic()
        self.trace(f"  keyed {len(send.digits)} key(s)")  # never the keys: they may be a PIN

    def _schedule_hangup(self) -> None:
        task = asyncio.create_task(self.hang_up())
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def hang_up(self) -> None:
        """The caller hangs up (cause 16, normal clearing), after any keys on their way."""
        async with self._send_lock:
            if self._caller_channel is not None:
                with contextlib.suppress(AMIError):
                    await self.client.action(
                        "Hangup", Channel=self._caller_channel, Cause=16, timeout=5.0
                    )


def _hung_up_unanswered(result: ScriptedCallResult) -> str:
    facts = (result.hangup_cause, result.hangup_cause_text)
    cause = " ".join(str(fact) for fact in facts if fact is not None) or "?"
    return f"call not connected: hung up before answering (cause {cause})"


def _reason(event: Message) -> str:
    # Reason is the channel state the call reached: 0 no such extension/failed, 3 no answer,
    # 5 busy, 8 congestion (Asterisk's AST_CONTROL_* numbers).
    names = {"0": "failed", "1": "hung up", "3": "no answer", "5": "busy", "8": "congestion"}
    reason = event.get("Reason", "")
    return f"reason {reason} ({names.get(reason, 'unknown')})"


def _redacted(event: Message, redact: Callable[[str], str]) -> Message:
    return Message([(key, redact(value)) for key, value in event.pairs])
