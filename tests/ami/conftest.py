"""AMI test fixtures: recorded transcripts, a fake AMI server, and (for the end-to-end tests) the
real Asterisk of ``tests/telephony``.

The transcripts in ``transcripts/`` are bytes read from Asterisk 22 (Debian unstable) with fixed
ActionIDs: ``queue_call.ami`` is one Local-channel call into 12333 (language menu left to time
out, ``0`` for an agent, the flow ends, the caller waits in the agent queue while agent 7001
rings, then the caller is hung up), with a Ping, a CoreShowChannels list and a Logoff;
``refused_call.ami`` is the events of a Local-channel call into 96102 refused past
``HOTLINE_MAX_CALLS`` (the node held one call; ``tests/telephony/test_telephony_capacity.py``): the
busy prompt as early media, then cause 17, never answered; ``refused_resync.ami`` is such a call
(cap 0, caller 13800000007) listed by CoreShowChannels while its caller heard the busy prompt,
with the Getvar replies (HOTLINE, HOTLINE_REFUSED, an unset HOTLINE_FALLBACK) and a Status with
``Variables:`` for that channel, then its end; ``login_refused.ami`` is a login with a wrong
secret.

``balance_call.ami`` (12333) and ``loss_report_call.ami`` (96102, a provisional loss report) are the
events one SIP caller's call sends the hotline's AMI user (``manager.conf``'s filters from
``ivr.ami.subscription``: only those events, VarSet only of HOTLINE*/AGISTATUS), built field for
field as Asterisk 22 writes them in the recorded transcripts above, around the AGI commands of
real calls through ``hotline serve`` (``bench/agi_replay_call.json``, and the same derived for
96102): the dialplan up to the AGI, each command's AGIExecStart/End (with the VarSet of a
``SET VARIABLE HOTLINE_*``), the caller's BYE during the last wait for a key, ``h``, Hangup cause
16. The loss-report caller's number is an ID number (a SIP account so named), so every event
carries one to mask. ``bench/ami_events.py`` replays them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ivr.ami.protocol import Framer, Message, parse_message
from tests.ami.fakeami import FakeAMI

# The real Asterisk and its settings, shared with the telephony tests' definitions.
from tests.telephony.conftest import asterisk, asterisk_settings  # noqa: F401

TRANSCRIPTS = Path(__file__).parent / "transcripts"


def transcript_bytes(name: str) -> bytes:
    return (TRANSCRIPTS / name).read_bytes()


def transcript_messages(name: str) -> list[Message]:
    """The messages of a transcript, after its banner line."""
    data = transcript_bytes(name)
    _, _, rest = data.partition(b"\r\n")
    return [parse_message(text) for text in Framer().feed(rest)]


def transcript_events(name: str) -> list[Message]:
    return [m for m in transcript_messages(name) if m.event and "ActionID" not in m]


async def until(check: Callable[[], bool], within: float = 5.0, step: float = 0.02) -> None:
    """Wait until ``check()`` holds: state that the client's or bridge's own tasks change."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - the code under test has no event to wait on
            await asyncio.sleep(step)


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAMI]:
    server = FakeAMI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
