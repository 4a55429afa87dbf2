"""The port plays several prompts in a row with one ``STREAM FILE`` of their joined sound, with the
same barge-in and type-ahead as fragment by fragment; when Asterisk cannot play the joined sound,
or no joined sound can be made, it streams the prompts one by one as before.

The Asterisk end is driven line by line over a real socket (``tests.agipeer.raw_channel``); the
prompt folder holds stand-in bytes as the prompt build lays them out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from ivr.config import Settings
from ivr.prompts.joined import JoinedPrompts
from ivr.runtime.agi_port import AgiPort
from tests.agipeer import RawCall, raw_channel

T = TypeVar("T")
ENV = {"agi_channel": "PJSIP/6001-00000001", "agi_language": "zh", "agi_uniqueid": "1.1"}
KEYS = '"0123456789*#"'
PLAYED = "200 result=0 endpos=4000"


def build(prompts: Path, language: str, **sounds: bytes) -> None:
    folder = prompts / language / "hotline"
    folder.mkdir(parents=True, exist_ok=True)
    for key, data in sounds.items():
        for ext in ("wav", "sln16", "ulaw"):
            (folder / f"{key}.{ext}").write_bytes(data)


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    folder = tmp_path / "sounds"
    build(folder, "zh", pension_balance_is=b"P" * 10, d3=b"3" * 4, u_yuan=b"Y" * 6)
    return folder


@pytest.fixture
async def call() -> AsyncIterator[RawCall]:
    async with raw_channel(ENV, command_timeout=5.0) as raw:
        yield raw


def port_of(call: RawCall, prompts: Path) -> AgiPort:
    return AgiPort(call.channel, Settings(), joined=JoinedPrompts(prompts))


async def asterisk(call: RawCall, work: Awaitable[T], *replies: str) -> tuple[list[str], T]:
    """Run ``work``, answering each command it sends with the next reply; (commands, result)."""
    task = asyncio.ensure_future(work)
    commands = []
    for reply in replies:
        commands.append(await call.expect())
        await call.send(reply)
    result = await asyncio.wait_for(task, 5.0)
    assert await call.nothing_written(), "a command more than Asterisk was scripted to answer"
    return commands, result


def joined_sound(prompts: Path, command: str, language: str = "zh") -> bytes:
    """The ulaw file Asterisk opens for ``STREAM FILE "hotline/joined/<digest>" ...``."""
    name = command.split()[2].strip('"')
    assert name.startswith("hotline/joined/"), command
    return (prompts / language / f"{name}.ulaw").read_bytes()


async def test_prompts_in_a_row_are_one_stream_file_of_their_joined_sound(
    call: RawCall, prompts: Path
) -> None:
    port = port_of(call, prompts)
    sounds = ["pension_balance_is", "d3", "u_yuan", "d3"]
    commands, pressed = await asterisk(call, port.play(sounds, ""), PLAYED)
    assert pressed == ""
    assert len(commands) == 1 and commands[0].endswith(KEYS), commands
    assert joined_sound(prompts, commands[0]) == b"P" * 10 + b"3" * 4 + b"Y" * 6 + b"3" * 4


async def test_a_key_the_prompts_do_not_take_waits_and_the_joined_sound_goes_on(
    call: RawCall, prompts: Path
) -> None:
    port = port_of(call, prompts)
    commands, pressed = await asterisk(
        call,
        port.play(["pension_balance_is", "d3", "u_yuan"], ""),
        f"200 result={ord('5')} endpos=1234",
        f"200 result={ord('#')} endpos=2000",
        PLAYED,
    )
    assert pressed == "5#"  # type-ahead for the inputs to come
    first = commands[0]
    assert commands == [first, f"{first} 1234", f"{first} 2000"]


async def test_a_key_the_prompts_take_stops_the_joined_sound(call: RawCall, prompts: Path) -> None:
    port = port_of(call, prompts)
    commands, pressed = await asterisk(
        call,
        port.play(["pension_balance_is", "d3"], "12"),
        f"200 result={ord('9')} endpos=100",
        f"200 result={ord('2')} endpos=300",
    )
    assert pressed == "92"
    assert len(commands) == 2 and commands[1] == f"{commands[0]} 100"


async def test_a_joined_sound_asterisk_cannot_open_is_played_prompt_by_prompt(
    call: RawCall, prompts: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A call taken over from another node's Asterisk: it sees another prompt folder."""
    caplog.set_level(logging.WARNING, "ivr.prompts.joined")
    port = port_of(call, prompts)
    commands, pressed = await asterisk(
        call,
        port.play(["d3", "u_yuan"], ""),
        "200 result=-1 endpos=0",
        "200 result=0",  # the NOOP that tells a failure from a hang-up
        f"200 result={ord('7')} endpos=50",
        PLAYED,
        PLAYED,
    )
    assert pressed == "7"
    assert commands[1:] == [
        "NOOP",
        f'STREAM FILE "hotline/d3" {KEYS}',
        f'STREAM FILE "hotline/d3" {KEYS} 50',
        f'STREAM FILE "hotline/u_yuan" {KEYS}',
    ]
    commands, _ = await asterisk(call, port.play(["u_yuan", "d3"], ""), PLAYED, PLAYED)
    assert commands == [f'STREAM FILE "hotline/u_yuan" {KEYS}', f'STREAM FILE "hotline/d3" {KEYS}']
    told = [r.getMessage() for r in caplog.records if "could not open" in r.getMessage()]
    assert len(told) == 1 and "one by one" in told[0], told


async def test_a_prompt_not_built_means_prompt_by_prompt(call: RawCall, prompts: Path) -> None:
    port = port_of(call, prompts)
    commands, _ = await asterisk(call, port.play(["d3", "n_wan"], ""), PLAYED, PLAYED)
    assert commands == [f'STREAM FILE "hotline/d3" {KEYS}', f'STREAM FILE "hotline/n_wan" {KEYS}']


async def test_one_prompt_is_streamed_as_itself(call: RawCall, prompts: Path) -> None:
    port = port_of(call, prompts)
    commands, _ = await asterisk(call, port.play(["d3"], ""), PLAYED)
    assert commands == [f'STREAM FILE "hotline/d3" {KEYS}']
    assert not (prompts / "zh" / "hotline" / "joined").exists()


async def test_the_joined_sound_is_made_in_the_language_the_call_switched_to(
    call: RawCall, prompts: Path
) -> None:
    build(prompts, "en", d3=b"three", u_yuan=b"yuan")
    port = port_of(call, prompts)
    await asterisk(call, port.set_language("en"), "200 result=1")
    commands, _ = await asterisk(call, port.play(["d3", "u_yuan"], ""), PLAYED)
    assert joined_sound(prompts, commands[0], "en") == b"threeyuan"


@pytest.mark.parametrize(
    ("native", "written"),
    [("(ulaw)", {"ulaw"}), ("(g722)", {"sln16"}), (None, {"sln16", "ulaw"})],
)
async def test_the_joined_sound_is_written_in_the_format_the_dialplan_says_the_call_plays(
    prompts: Path, native: str | None, written: set[str]
) -> None:
    """The dialplan puts the channel's native formats on the AGI URL (?audio=...); a call that
    does not say (an older dialplan) gets every raw format, for Asterisk to choose."""
    script = "12333" if native is None else f"12333?audio={native}"
    async with raw_channel({**ENV, "agi_network_script": script}, command_timeout=5.0) as call:
        port = port_of(call, prompts)
        commands, _ = await asterisk(call, port.play(["d3", "u_yuan"], ""), PLAYED)
    name = commands[0].split()[2].strip('"').rpartition("/")[2]
    folder = prompts / "zh" / "hotline" / "joined"
    assert {p.suffix[1:] for p in folder.iterdir() if p.stem == name} == written
