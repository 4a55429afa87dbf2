"""The AGI port reading the rest of an entry in one ``GET DATA`` (``keys_until_hash``), against a
socket whose Asterisk end answers as Asterisk 22 does: what it sends, and how each reply reads."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from ivr.config import Settings
from ivr.engine.port import CallerHungUp
from ivr.runtime.agi_port import AgiPort
from tests.agipeer import RawCall, raw_channel

ENV = {"agi_uniqueid": "1700000000.7", "agi_channel": "PJSIP/6001-00000007"}


@pytest.fixture
async def call() -> AsyncIterator[RawCall]:
    async with raw_channel(ENV) as raw:
        yield raw


@pytest.mark.parametrize(
    ("reply", "most", "keys"),
    [
        ("200 result=1010519491231002* (timeout)", 17, "1010519491231002*"),  # time ran out
        ("200 result=10105194912310029", 17, "10105194912310029"),  # all 17: no #
        ("200 result=231", 5, "231#"),  # fewer, no time-out: # ended them
        ("200 result=", 5, "#"),  # # alone
        ("200 result= (timeout)", 5, ""),  # nothing more keyed
    ],
)
async def test_the_rest_of_an_entry_is_one_get_data_without_a_prompt(
    call: RawCall, reply: str, most: int, keys: str
) -> None:
    port = AgiPort(call.channel, Settings())
    command, got = await call.answer(port.keys_until_hash(4.5, most), reply)
    assert command == f'GET DATA "" 4500 {most}'  # no prompt; the inter-digit time-out in ms
    assert got == keys


async def test_a_hang_up_during_the_entry_is_the_caller_gone(call: RawCall) -> None:
    port = AgiPort(call.channel, Settings())
    task = port.keys_until_hash(5.0, 17)
    with pytest.raises(CallerHungUp):
        # Asterisk answers -1 (the keys so far are lost), then HANGUP; the port's NOOP gets 511
        await call.answer(
            task, "200 result=-1", "HANGUP", "511 Command Not Permitted on a dead channel"
        )


async def test_a_secret_entry_s_keys_never_reach_the_debug_log(
    call: RawCall, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ivr")
    port = AgiPort(call.channel, Settings())
    _, got = await call.answer(port.keys_until_hash(5.0, 5, sensitive=True), "200 result=31002")
    assert got == "31002"
    assert "31002" not in caplog.text and "GET DATA *** *** ***" in caplog.text
    _, got = await call.answer(port.keys_until_hash(5.0, 5), "200 result=42")
    assert "200 result=42" in caplog.text  # a plain entry is logged as it came
