"""The AGI port hearing an entry in one ``GET DATA``, with its prompt (``entry``) or after its
first key (``keys_until_hash``), against a socket whose Asterisk end answers as Asterisk 22 does:
what it sends, and how each reply reads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

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


class Joiner:
    """Joined sounds named after their keys; ``unplayable`` noted."""

    def __init__(self) -> None:
        self.unplayable_in: list[str] = []

    async def sound(self, language: str, keys: Sequence[str], audio: str = "") -> str | None:
        return "joined/" + "-".join(keys)

    def unplayable(self, language: str) -> None:
        self.unplayable_in.append(language)


@pytest.mark.parametrize(
    ("reply", "keys"),
    [
        ("200 result=11010519491231002*", "11010519491231002*"),  # all 18, the first during it
        ("200 result=4", "4#"),  # # ended the keys
        ("200 result=", "#"),  # # alone
        ("200 result= (timeout)", ""),  # silence after the prompt
    ],
)
async def test_an_entry_is_heard_with_its_prompt_in_one_get_data(
    call: RawCall, reply: str, keys: str
) -> None:
    port = AgiPort(call.channel, Settings())
    command, got = await call.answer(port.entry(["enter_id"], 5.0, 18), reply)
    assert command == 'GET DATA "hotline/enter_id" 5000 18'
    assert got == keys


async def test_several_prompts_before_an_entry_are_its_joined_sound(call: RawCall) -> None:
    port = AgiPort(call.channel, Settings(), joined=Joiner())
    sounds = ["id_error_length", "enter_id_short"]
    command, got = await call.answer(port.entry(sounds, 5.0, 18), "200 result=42 (timeout)")
    assert command == 'GET DATA "hotline/joined/id_error_length-enter_id_short" 5000 18'
    assert got == "42"


async def test_a_joined_sound_asterisk_cannot_open_falls_back_to_its_prompts(
    call: RawCall,
) -> None:
    joiner = Joiner()
    port = AgiPort(call.channel, Settings(), joined=joiner)
    task = asyncio.ensure_future(port.entry(["id_error_length", "enter_id_short"], 5.0, 18))
    assert (await call.expect()).startswith('GET DATA "hotline/joined/')
    await call.send("200 result=-1")  # not in this Asterisk's folder (a node taking over)
    assert await call.expect() == "NOOP"  # a hang-up, or a failure? The call is still there
    await call.send("200 result=0")
    assert (await call.expect()).startswith('STREAM FILE "hotline/id_error_length" ')
    await call.send("200 result=0 endpos=8000")  # heard through
    assert await call.expect() == 'GET DATA "hotline/enter_id_short" 5000 18'
    await call.send("200 result=123")
    assert await asyncio.wait_for(task, call.step) == "123#"
    assert joiner.unplayable_in == [port.channel.language]


async def test_a_key_during_a_prompt_before_the_last_starts_the_entry(call: RawCall) -> None:
    port = AgiPort(call.channel, Settings())  # no joined sounds: the prompts one by one
    task = asyncio.ensure_future(port.entry(["id_error_length", "enter_id_short"], 5.0, 18))
    assert (await call.expect()).startswith('STREAM FILE "hotline/id_error_length" ')
    await call.send(f"200 result={ord('1')} endpos=2400")  # the caller starts keying
    assert await call.expect() == 'GET DATA "" 5000 17'  # the rest: the last prompt is skipped
    await call.send("200 result=1010519491231002* (timeout)")
    assert await asyncio.wait_for(task, call.step) == "11010519491231002*"
