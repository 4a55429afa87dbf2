"""FastAGIServer on a real socket, called by the Asterisk emulator."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from ivr.agi import AGIChannel, AGICommandError, AGIHangup, FastAGIServer, RecordResult
from ivr.logs import log_handler
from tests.agipeer import run_call

ServeFactory = Callable[..., AbstractAsyncContextManager[FastAGIServer]]  # the `serve` fixture

pytestmark = pytest.mark.filterwarnings("error")


class Seen:
    """What a handler observed, for the test to check after the call."""

    def __init__(self) -> None:
        self.values: list[object] = []
        self.error: BaseException | None = None


async def play_until_hangup(channel: AGIChannel) -> None:
    await channel.answer()
    while True:
        await channel.stream_file("hotline/menu", "0123456789")


def test_routes_are_checked_at_construction() -> None:
    async def handler(channel: AGIChannel) -> None:
        pass

    def not_async(channel: AGIChannel) -> None:
        pass

    class AsyncCallable:
        async def __call__(self, channel: AGIChannel) -> None:
            pass

    with pytest.raises(ValueError, match="twice"):
        FastAGIServer({"12333": handler, "/12333": handler})
    with pytest.raises(TypeError, match="async"):
        FastAGIServer({"12333": not_async})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        FastAGIServer({"/": handler})
    server = FastAGIServer({"/96102": AsyncCallable(), "12333": handler}, port=0)
    assert set(server.routes) == {"96102", "12333"}
    assert server.port == 0 and server.sockets == () and server.active_calls == 0


async def test_a_whole_call(serve: ServeFactory, tmp_path: Path) -> None:
    seen = Seen()

    async def handler(channel: AGIChannel) -> None:
        seen.values.append((channel.network_script, channel.script_args, channel.caller_id))
        await channel.answer()
        await channel.set_language("zh")
        seen.values.append(await channel.stream_file("hotline/welcome", "0123456789"))
        seen.values.append(await channel.wait_for_digit(5000))
        digits = ""
        await channel.stream_file("hotline/ask_id", "0123456789*#")
        while (key := await channel.wait_for_digit(3000)) not in (None, "#"):
            digits += key
        seen.values.append(digits)
        seen.values.append(await channel.get_data("hotline/ask_pin", 5000, 6, sensitive=True))
        seen.values.append(await channel.record_file(str(tmp_path / "msg"), "wav", "#", 60000))
        await channel.set_variable("HOTLINE_NEXT", "agent")
        seen.values.append(await channel.get_variable("HOTLINE_NEXT"))
        await channel.exec("Playback", "hotline/bye")
        await channel.hangup()

    async with serve({"12333": handler}) as server:
        assert server.port != 0
        peer = await run_call(
            "127.0.0.1", server.port, "12333?lang=zh", ["1", "11010519491231002*#", "123456", "4"]
        )
    assert seen.values == [
        ("12333", {"lang": "zh"}, "13800000000"),
        (None, 16000),
        "1",
        "11010519491231002*",
        ("123456", False),
        RecordResult("#", "dtmf", 32000),
        "agent",
    ]
    assert peer.heard == ["hotline/welcome", "hotline/ask_id", "hotline/ask_pin", "hotline/bye"]
    assert peer.variables == {"CHANNEL(language)": "zh", "HOTLINE_NEXT": "agent"}
    assert peer.language == "zh"
    assert peer.execs == [("Playback", "hotline/bye")]
    assert peer.hung_up_by_server and not peer.hung_up_by_peer and not peer.overran
    assert peer.entries_left == [] and peer.inputs_taken == 4
    assert (
        peer.recordings == [tmp_path / "msg.wav"] and (tmp_path / "msg.wav").stat().st_size > 64000
    )
    assert len(peer.latencies) == len(peer.commands) - 1
    assert peer.setup_latency is not None


async def test_hangup_line_before_the_reply(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ivr.agi")
    async with serve({"12333": play_until_hangup}) as server:
        peer = await run_call("127.0.0.1", server.port, hangup_after=3, uniqueid="1700000000.77")
        assert server.active_calls == 0
    # the 4th command got HANGUP + 511; nothing was written after it
    assert len(peer.commands) == 4
    assert peer.hung_up_by_peer and not peer.hung_up_by_server
    assert "1700000000.77" in caplog.text and "caller hung up" in caplog.text
    assert "Traceback" not in caplog.text


async def test_hangup_during_playback_is_found_by_the_probe(serve: ServeFactory) -> None:
    async with serve({"12333": play_until_hangup}) as server:
        peer = await run_call("127.0.0.1", server.port, hangup_after=2, hangup_mode="during")
    assert peer.commands[2:] == ['STREAM FILE "hotline/menu" "0123456789"', "NOOP"]


async def test_hangup_while_recording_then_the_next_command_raises(
    serve: ServeFactory, tmp_path: Path
) -> None:
    seen = Seen()

    async def handler(channel: AGIChannel) -> None:
        seen.values.append(await channel.record_file("msg", "wav", "#", 60000))
        try:
            await channel.stream_file("hotline/thanks")
        except AGIHangup as exc:
            seen.error = exc
            raise

    async with serve({"12333": handler}) as server:
        peer = await run_call(
            "127.0.0.1", server.port, entries=["7"], hangup_after=0, hangup_mode="during",
            recordings_dir=tmp_path,
        )  # fmt: skip
    assert seen.values == [RecordResult(None, "hangup", 56000)]
    assert isinstance(seen.error, AGIHangup)
    assert peer.commands == ['RECORD FILE "msg" "wav" "#" 60000 BEEP']
    assert (tmp_path / "msg.wav").exists()


async def test_connection_closed_mid_call(serve: ServeFactory) -> None:
    seen = Seen()

    async def handler(channel: AGIChannel) -> None:
        try:
            await play_until_hangup(channel)
        except AGIHangup as exc:
            seen.error = exc
            raise

    async with serve({"12333": handler}) as server:
        peer = await run_call("127.0.0.1", server.port, hangup_after=2, hangup_mode="eof")
    assert isinstance(seen.error, AGIHangup)
    assert len(peer.commands) == 3


async def test_100_trying(serve: ServeFactory) -> None:
    seen = Seen()

    async def handler(channel: AGIChannel) -> None:
        seen.values.append((await channel.exec("Gosub", "sub,s,1")).result)
        seen.values.append(await channel.get_variable("CHANNEL(language)"))

    async with serve({"12333": handler}) as server:
        await run_call("127.0.0.1", server.port, trying_for=["EXEC"], language="es")
    assert seen.values == ["0", "es"]


async def test_missing_sound_is_logged_loudly(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(channel: AGIChannel) -> None:
        await channel.stream_file("hotline/nope")

    async with serve({"12333": handler}) as server:
        peer = await run_call("127.0.0.1", server.port, missing_sounds={"hotline/nope"})
    assert "hotline/nope" in caplog.text and "AGICommandError" in caplog.text
    assert peer.variables == {"HOTLINE_ERROR": "internal_error"}


async def test_unknown_script(serve: ServeFactory) -> None:
    async with serve({"12333": play_until_hangup}) as server:
        peer = await run_call("127.0.0.1", server.port, "99999")
    assert peer.variables == {"HOTLINE_ERROR": "unknown_script"}
    assert peer.commands[0].startswith("VERBOSE ") and "99999" in peer.commands[0]
    assert not peer.hung_up_by_peer


async def test_a_failing_handler_does_not_kill_the_server(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(channel: AGIChannel) -> None:
        await channel.answer()
        raise RuntimeError("bug in a flow")

    async def good(channel: AGIChannel) -> None:
        await channel.set_variable("OK", "1")

    async with serve({"broken": broken, "good": good}) as server:
        first = await run_call("127.0.0.1", server.port, "broken")
        second = await run_call("127.0.0.1", server.port, "good")
    assert "bug in a flow" in caplog.text and "Traceback" in caplog.text
    assert first.variables == {"HOTLINE_ERROR": "internal_error"}
    assert second.variables == {"OK": "1"}


async def test_a_failing_handler_on_a_hung_up_channel_writes_nothing(serve: ServeFactory) -> None:
    async def handler(channel: AGIChannel) -> None:
        try:
            await play_until_hangup(channel)
        except AGIHangup:
            raise KeyError("cleanup bug after the hang-up") from None

    async with serve({"12333": handler}) as server:
        peer = await run_call("127.0.0.1", server.port, hangup_after=2)
    assert len(peer.commands) == 3 and "HOTLINE_ERROR" not in peer.variables


async def _silent_and_broken_connections(port: int) -> list[asyncio.StreamWriter]:
    writers = []
    for data, close in [
        (b"agi_network: yes\nagi_network_script: 12333\n", True),  # closed inside the block
        (b"agi_network: yes\nagi_network_scr", True),  # closed inside a line
        (b"agi_network: yes\n", False),  # silent inside the block
        (b"", False),  # silent from the start
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", False),  # not AGI
        (b"", True),  # a port probe
    ]:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        await writer.drain()
        if close:
            writer.close()
        writers.append(writer)
    return writers


async def test_broken_header_blocks_never_freeze_the_server(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(channel: AGIChannel) -> None:
        await channel.set_variable("OK", "1")

    async with serve({"12333": handler}, header_timeout=0.3) as server:
        writers = await _silent_and_broken_connections(server.port)
        peer = await asyncio.wait_for(run_call("127.0.0.1", server.port), 2)  # served meanwhile
        assert peer.variables == {"OK": "1"}
        await asyncio.sleep(0.5)  # past the header time-out
        assert server.active_calls == 0
        for writer in writers:
            writer.close()
    assert "no complete header block within 0.3 s" in caplog.text
    assert "closed inside the header block" in caplog.text
    assert "not an AGI header line" in caplog.text


async def test_stop_cancels_calls_after_the_grace_period(serve: ServeFactory) -> None:
    started = asyncio.Event()
    seen = Seen()

    async def slow(channel: AGIChannel) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError as exc:
            seen.error = exc
            raise

    server = FastAGIServer({"12333": slow}, port=0, stop_grace=0.2)
    await server.start()
    call = asyncio.create_task(run_call("127.0.0.1", server.port))
    await asyncio.wait_for(started.wait(), 2)
    assert server.active_calls == 1
    await asyncio.wait_for(server.stop(), 2)
    assert isinstance(seen.error, asyncio.CancelledError)
    assert server.active_calls == 0 and server.sockets == ()
    peer = await asyncio.wait_for(call, 2)
    assert peer.commands == []


async def test_sensitive_arguments_stay_out_of_the_logs(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ivr.agi")

    secret = "s3cr3t-" + "value"  # not spelled out in source lines a traceback quotes

    async def handler(channel: AGIChannel) -> None:
        await channel.set_variable("PIN_HASH", secret, sensitive=True)
        await channel.get_data("hotline/ask_pin", 5000, 6, sensitive=True)
        await channel.command("DATABASE", "PUT", "pins", "x", secret, sensitive=True)

    async with serve({"12333": handler}) as server:
        peer = await run_call("127.0.0.1", server.port, entries=["654321"])
    assert 's3cr3t-value"' in peer.commands[0]
    assert "s3cr3t-value" not in caplog.text and "654321" not in caplog.text
    assert "SET VARIABLE *** ***" in caplog.text and "DATABASE PUT *** *** ***" in caplog.text
    assert "AGICommandError" in caplog.text  # the peer does not know DATABASE PUT: 510


async def test_many_concurrent_calls(serve: ServeFactory) -> None:
    async def handler(channel: AGIChannel) -> None:
        await channel.answer()
        key = await channel.wait_for_digit(5000)
        await channel.set_variable("KEY", key or "none")

    async with serve({"12333": handler}) as server:
        peers = await asyncio.gather(
            *(run_call("127.0.0.1", server.port, entries=[str(n % 10)]) for n in range(50))
        )
    assert [peer.variables["KEY"] for peer in peers] == [str(n % 10) for n in range(50)]


async def test_command_errors_reach_the_handler(serve: ServeFactory) -> None:
    seen = Seen()

    async def handler(channel: AGIChannel) -> None:
        try:
            await channel.command("STREAM", "FILE")
        except AGICommandError as exc:
            seen.values.append(exc.usage)
        await channel.set_variable("AFTER", "ok")

    async with serve({"12333": handler}) as server:
        peer = await run_call("127.0.0.1", server.port)
    assert seen.values == [" Usage: STREAM FILE <filename> <escape_digits> [sample offset]"]
    assert peer.variables == {"AFTER": "ok"}


async def test_connections_beyond_the_cap_are_refused_with_a_warning(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    release, both_in = asyncio.Event(), asyncio.Event()
    served: list[str] = []

    async def handler(channel: AGIChannel) -> None:
        served.append(channel.uniqueid)
        if len(served) == 2:
            both_in.set()
        await release.wait()
        await channel.set_variable("OK", "1")

    async with serve({"12333": handler}, max_connections=2) as server:
        held = [
            asyncio.create_task(run_call("127.0.0.1", server.port, uniqueid=f"1.{n}"))
            for n in range(2)
        ]
        await asyncio.wait_for(both_in.wait(), 5)
        refused = await asyncio.wait_for(run_call("127.0.0.1", server.port, uniqueid="1.3"), 2)
        assert refused.commands == [] and "1.3" not in served  # closed at once, never run
        release.set()
        assert all(p.variables == {"OK": "1"} for p in await asyncio.gather(*held))
        again = await asyncio.wait_for(run_call("127.0.0.1", server.port, uniqueid="1.4"), 2)
        assert again.variables == {"OK": "1"}  # a slot is free again
    (warning,) = [r for r in caplog.records if "refused" in r.getMessage()]
    assert warning.levelno == logging.WARNING and "2 connections open" in warning.getMessage()


async def test_values_from_the_wire_cannot_forge_a_log_line(serve: ServeFactory) -> None:
    """A uniqueid with a CR and a fake record, a channel name with ANSI escapes: each record the
    hotline's log handler writes stays one line of its own."""
    stream = io.StringIO()
    handler, logger = log_handler(stream), logging.getLogger("ivr.agi")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)

    async def handler_(channel: AGIChannel) -> None:
        await channel.answer()

    try:
        async with serve({"12333": handler_}) as server:
            await run_call(
                "127.0.0.1",
                server.port,
                uniqueid="1700000000.9\r2024-01-01 00:00:00,000 CRITICAL ivr: forged",
                extra_env={"agi_channel": "PJSIP/6001\x1b[2J\x1b[31mred\x1b[0m"},
            )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = stream.getvalue().splitlines()
    assert lines and all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO ", x) for x in lines)
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()
    assert any("\\r2024-01-01" in line and "\\x1b[2J" in line for line in lines)
