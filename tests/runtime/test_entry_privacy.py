"""Whatever a caller keys for an ID number or a password never reaches a record, an event or a
log, the AGI debug log included: a property of the flow definitions, checked on generated calls.

Each example is one call through the identity sub-flow as it runs in production (CallRunner,
engine, AgiPort, AGIChannel, the log handler at DEBUG), with an in-memory Asterisk keying the
entries and checks that accept, reject or lock whatever was keyed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from ivr.config import Settings
from ivr.domain.idnumber import mask_id_entry
from ivr.engine.context import CallContext
from ivr.engine.runner import CheckResult, Engine, Leave, Reject
from ivr.flows.common import IDENTITY, IDENTITY_FOR_LOSS
from ivr.live.events import LiveEvent
from ivr.logs import log_handler
from ivr.runtime.agi_port import AgiPort
from ivr.runtime.call import CallRunner
from ivr.store.views import StartedCall
from tests.agipeer import memory_channel

DTMF = {ord(key): key for key in "0123456789*#"}
VERDICTS = st.lists(st.sampled_from(["accept", "reject", "lock"]), max_size=4)


class KeptRecords:
    """The records API as the runner uses it; keeps what would be written."""

    def __init__(self) -> None:
        self.written: list[Mapping[str, Any]] = []

    async def start_call(self, **fields: Any) -> StartedCall:
        self.written.append(fields)
        return StartedCall(1)

    async def settle(self) -> None:
        pass

    async def finish_call(self, call_id: int, **fields: Any) -> None:
        self.written.append(fields)


def _scripted(verdicts: list[str], reject: str) -> Any:
    async def check(ctx: CallContext, digits: str) -> CheckResult:
        verdict = verdicts.pop(0) if verdicts else "reject"
        return {"accept": None, "reject": Reject(reject), "lock": Leave("locked")}[verdict]

    return check


async def _identify(entries: list[str], id_verdicts: list[str], pw_verdicts: list[str]) -> str:
    """One call; everything it left behind (records, events, DEBUG log) as one text."""
    engine = Engine(
        {flow.name: flow for flow in (IDENTITY, IDENTITY_FOR_LOSS)},
        {"identity_known": lambda ctx, args: _known()},
        {
            "resident_id": _scripted(id_verdicts, "id_error_check"),
            "password": _scripted(pw_verdicts, "password_wrong"),
        },
        mask_id_number=mask_id_entry,
    )
    records, events = KeptRecords(), list[LiveEvent]()
    runner = CallRunner(engine, records, publish=events.append)  # type: ignore[arg-type]
    channel, _ = memory_channel(entries)
    stream = io.StringIO()
    handler, logger = log_handler(stream), logging.getLogger("ivr")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        ctx = runner.context("identity", uniqueid=channel.uniqueid, channel=channel.channel)
        await runner.run(AgiPort(channel, Settings()), ctx)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert "DEBUG ivr.agi.channel" in stream.getvalue()  # the AGI traffic was logged
    return "\n".join([stream.getvalue(), _text(records.written), _text(events)])


def _text(value: object) -> str:
    """Every value written, as text; times left out (their microseconds are six digits)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return " ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(_text(item) for item in value)
    return "" if isinstance(value, datetime) else str(value)


async def _known() -> str:
    return "no"


def _keys_in_replies(text: str) -> str:
    """The keys a DEBUG log would give away as key codes (``<< 200 result=49``)."""
    codes = re.findall(r"<< 200 result=(\d+)", text)
    return "".join(DTMF.get(int(code), "") for code in codes)


@given(
    id_entry=st.from_regex(r"[0-9]{7,25}\*?", fullmatch=True),
    passwords=st.lists(st.from_regex(r"[0-9]{6}", fullmatch=True), max_size=3),
    id_verdicts=VERDICTS,
    pw_verdicts=VERDICTS,
)
def test_keyed_ids_and_passwords_never_leave_the_call(
    id_entry: str, passwords: list[str], id_verdicts: list[str], pw_verdicts: list[str]
) -> None:
    assume(not any(password in id_entry for password in passwords))  # would match its mask
    entries = [id_entry + "#", *(password + "#" for password in passwords)]
    left = asyncio.run(_identify(entries, id_verdicts, pw_verdicts))
    keys = _keys_in_replies(left)
    digits = id_entry.rstrip("*")
    for window in {digits[i : i + 7] for i in range(len(digits) - 6)}:
        assert window not in left and window not in keys
    for password in passwords:
        assert password not in left and password not in keys
