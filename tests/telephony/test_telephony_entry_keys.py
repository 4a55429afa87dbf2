"""An entry's keys through the real Asterisk: what ``GET DATA`` answers, with and without a prompt
(the facts ``ivr/runtime/agi_port.py`` relies on), and an ID number keyed at a phone's pace
reaching a slow server whole, from its first key on.

The caller is the first half of a Local channel keying RFC 4733-style DTMF frames with AMI's
``PlayDTMF``; the hotline's side is this test, on the session's FastAGI listener.
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterator, Sequence

import pytest
import pytest_asyncio

from ivr.agi import AGIChannel
from ivr.config import Settings
from ivr.engine.gather import Entry, read_entry
from ivr.engine.model import DIGITS
from ivr.engine.typeahead import TypeAhead
from ivr.runtime.agi_port import AgiPort
from tests.telephony.callkit import AGIConnection, AGIListener, AMIClient, Call, Event

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

KEY_SPACING = 0.25  # a phone's keys: about four a second
SLOW = 0.4  # the server's delay before each command: longer than the key spacing
ID_KEYS = "11010519491231002*"


class Caller:
    """The caller's half of a Local call: keys sent when the hotline's half starts listening."""

    def __init__(self, ami: AMIClient, call: Call) -> None:
        self.ami = ami
        self.call = call
        self.seen = 0  # AMI events already looked at for the hotline's listening commands

    async def channel(self) -> str:
        event = await self.ami.wait_event(
            lambda e: e.get("Event") == "Newchannel" and e.get("Uniqueid") == self.call.caller_id
        )
        return event["Channel"]

    async def listening(self, within: float = 15) -> str:
        """The next command of the hotline's half that listens for keys, once it has started."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            events = self.ami.events
            for index in range(self.seen, len(events)):
                if self._listens(events[index]):
                    self.seen = index + 1
                    return events[index].get("Command", "")
            self.seen = len(events)
            await asyncio.sleep(0.01)
        pytest.fail(f"the hotline's half did not listen within {within:.0f} s")

    def _listens(self, event: Event) -> bool:
        command = event.get("Command", "")
        return (
            event.get("Event") == "AGIExecStart"
            and event.get("Uniqueid") == self.call.hotline_id
            and command.startswith(("WAIT FOR DIGIT", "GET DATA"))
        )

    async def key(self, keys: str, *, spacing: float = KEY_SPACING) -> None:
        """Press ``keys`` one after another, ``spacing`` seconds apart."""
        channel = await self.channel()
        start = time.monotonic()
        for index, key in enumerate(keys):
            await asyncio.sleep(max(0.0, start + index * spacing - time.monotonic()))
            sent = await self.ami.action("PlayDTMF", Channel=channel, Digit=key, Duration="100")
            assert sent["Response"] == "Success", sent


@pytest_asyncio.fixture(loop_scope="session")
async def placed(
    ami: AMIClient, agi_listener: AGIListener
) -> AsyncIterator[tuple[Caller, AGIConnection]]:
    call = Call(ami, "12333")
    await call.place()
    connection = await agi_listener.next_call()
    yield Caller(ami, call), connection
    await connection.close()
    try:
        async with asyncio.timeout(10):
            await call.ended()  # the test said hang up
    except TimeoutError:
        await call.hang_up(after_s=0.0)  # a failed test left the call in the dialplan


async def test_get_data_without_a_prompt_as_asterisk_answers_it(
    placed: tuple[Caller, AGIConnection],
) -> None:
    caller, connection = placed
    answers = []
    for keys in ("1*2", "3#", "#", ""):
        asking = asyncio.create_task(connection.command('GET DATA "" 1500 5'))
        await caller.listening()
        await caller.key(keys)
        answers.append(await asking)
    assert answers == [
        "200 result=1*2 (timeout)",  # * is a digit; the time-out keeps the keys so far
        "200 result=3",  # # ends the keys and is not among them
        "200 result=",  # # alone: no time-out
        "200 result= (timeout)",  # nothing keyed: no prompt played, the wait timed out
    ]
    asking = asyncio.create_task(connection.command('GET DATA "" 1500 3'))
    await caller.listening()
    await caller.key("4567")
    assert await asking == "200 result=456"  # the third key ends it: the fourth is not read
    await connection.command("SET VARIABLE HOTLINE_NEXT hangup")


INTER_DIGIT_S = 3.0


async def read_id(port: AgiPort, heard: str | None = None) -> Entry:
    """An ID number's entry as the flow reads it; ``heard``: the port's listen from its prompt."""
    return await read_entry(
        TypeAhead(port),
        allowed=DIGITS + "*",
        max_digits=18,
        terminator="#",
        exit_keys="",
        first_timeout=10.0,
        inter_timeout=INTER_DIGIT_S,
        term_timeout=1.5,
        sensitive=True,
        heard=heard,
    )


class SlowPort(AgiPort):
    """The hotline's port on a loaded server: each command leaves ``SLOW`` seconds after the
    reply before it, more than a phone's key spacing."""

    async def wait_digit(
        self, seconds: float, *, first: bool, sensitive: bool = False
    ) -> str | None:
        await asyncio.sleep(SLOW)
        return await super().wait_digit(seconds, first=first, sensitive=sensitive)

    async def keys_until_hash(self, seconds: float, most: int, *, sensitive: bool = False) -> str:
        await asyncio.sleep(SLOW)
        return await super().keys_until_hash(seconds, most, sensitive=sensitive)

    async def entry(
        self, sounds: Sequence[str], seconds: float, most: int, *, sensitive: bool = False
    ) -> str:
        await asyncio.sleep(SLOW)
        return await super().entry(sounds, seconds, most, sensitive=sensitive)


async def test_an_id_number_keyed_at_a_phone_s_pace_reaches_a_slow_server_whole(
    placed: tuple[Caller, AGIConnection],
) -> None:
    """The caller keys the first digit, then, once the server listens again, the other 17 and
    ``#`` a quarter of a second apart. Read one key per command, every key that arrives while
    the slow server is between two commands would be lost; the rest of the entry is one listen.
    """
    caller, connection = placed
    channel = AGIChannel(connection.reader, connection.writer, connection.headers)
    port = SlowPort(channel, Settings())

    async def keying() -> None:
        await caller.listening()
        await caller.key(ID_KEYS[0])
        await caller.listening()
        await caller.key(ID_KEYS[1:] + "#")

    keyed = asyncio.create_task(keying())
    entry = await read_id(port)
    await keyed
    assert entry == Entry(ID_KEYS, "max")
    await channel.set_variable("HOTLINE_NEXT", "hangup")


def silent_prompt(settings: Settings, name: str, seconds: float) -> None:
    """A prompt of ``seconds`` of silence where the session's Asterisk finds ``hotline/<name>``."""
    prompt = settings.prompts_dir / "zh" / "hotline" / f"{name}.wav"
    prompt.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(prompt), "wb") as out:  # 8 kHz 16-bit mono
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))


async def test_get_data_with_a_prompt_as_asterisk_answers_it(
    placed: tuple[Caller, AGIConnection], asterisk_settings: Settings
) -> None:
    caller, connection = placed
    silent_prompt(asterisk_settings, "entry_prompt", 2.0)
    asking = asyncio.create_task(connection.command("GET DATA hotline/entry_prompt 1500 4"))
    await caller.listening()
    await caller.key("12#")  # the first key stops the prompt; the others belong to the entry
    assert await asking == "200 result=12"
    # A prompt Asterisk cannot open: result=-1, as for a hang-up, but the call goes on.
    missing = await connection.command("GET DATA hotline/no_such_prompt 1500 4")
    assert missing == "200 result=-1"
    assert await connection.command("NOOP") == "200 result=0"
    await connection.command("SET VARIABLE HOTLINE_NEXT hangup")


async def test_an_id_number_keyed_from_its_prompt_on_reaches_a_slow_server_whole(
    placed: tuple[Caller, AGIConnection], asterisk_settings: Settings
) -> None:
    """The caller keys the whole number and ``#`` a quarter of a second apart, starting while
    the prompt plays. Were the first key read alone (it stops the prompt) and the rest asked for
    after it, the slow server's round trip would lose the second key; heard in one listen from
    the prompt on, the entry is whole."""
    caller, connection = placed
    silent_prompt(asterisk_settings, "entry_prompt", 2.0)
    channel = AGIChannel(connection.reader, connection.writer, connection.headers)
    port = SlowPort(channel, Settings())

    async def keying() -> None:
        assert (await caller.listening()).startswith("GET DATA")
        await caller.key(ID_KEYS + "#")

    keyed = asyncio.create_task(keying())
    heard = await port.entry(["entry_prompt"], INTER_DIGIT_S, 18, sensitive=True)
    entry = await read_id(port, heard)
    await keyed
    assert entry == Entry(ID_KEYS, "max")
    await channel.set_variable("HOTLINE_NEXT", "hangup")
