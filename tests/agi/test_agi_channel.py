"""AGIChannel over a real TCP socket, with the Asterisk side driven line by line."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ivr.agi import AGIChannel, AGICommandError, AGIHangup, AGIProtocolError, RecordResult
from ivr.agi.channel import read_env
from ivr.agi.errors import AGIConnectionLost
from tests.agipeer import RawCall

DEAD = "511 Command Not Permitted on a dead channel or intercept routine"


def test_call_facts_from_the_header_block(raw_call: RawCall) -> None:
    channel = raw_call.channel
    assert channel.env["agi_uniqueid"] == "1700000000.1" == channel.uniqueid
    assert channel.channel == "PJSIP/6001-00000001"
    assert channel.caller_id == "13800000000"
    assert channel.network_script == "12333"
    assert channel.script_args == {"lang": "zh", "x": "1"}
    assert channel.args == ("first", "second, with comma")
    assert channel.language == "en"
    assert not channel.hung_up


async def test_withheld_caller_id_and_leading_slash() -> None:
    reader = asyncio.StreamReader()
    env = {"agi_callerid": "unknown", "agi_network_script": "/96102/"}
    channel = AGIChannel(reader, None, env)  # type: ignore[arg-type]
    assert channel.caller_id == ""
    assert channel.network_script == "96102"
    assert channel.script_args == {}
    assert channel.args == ()


async def test_typed_helpers_send_quoted_commands_and_read_replies(raw_call: RawCall) -> None:
    ch = raw_call.channel
    assert await raw_call.answer(ch.answer(), "200 result=0") == ("ANSWER", None)
    assert await raw_call.answer(
        ch.stream_file("hotline/menu", "12#"), "200 result=50 endpos=800"
    ) == (
        'STREAM FILE "hotline/menu" "12#"',
        ("2", 800),
    )
    assert (await raw_call.answer(ch.stream_file("hotline/bye"), "200 result=0 endpos=9000"))[
        1
    ] == (
        None,
        9000,
    )
    assert await raw_call.answer(ch.wait_for_digit(5000), "200 result=42") == (
        "WAIT FOR DIGIT 5000",
        "*",
    )
    assert (await raw_call.answer(ch.wait_for_digit(5000), "200 result=0"))[1] is None
    assert await raw_call.answer(
        ch.get_data("hotline/id", 6000, 18), "200 result=1101 (timeout)"
    ) == (
        'GET DATA "hotline/id" 6000 18',
        ("1101", True),
    )
    assert (await raw_call.answer(ch.get_data("x", 100, 4), "200 result=1234"))[1] == (
        "1234",
        False,
    )
    assert (await raw_call.answer(ch.get_data("x", 100, 4), "200 result= (timeout)"))[1] == (
        "",
        True,
    )
    assert await raw_call.answer(ch.set_variable("A B", 'say "hi" \\o/'), "200 result=1") == (
        'SET VARIABLE "A B" "say \\"hi\\" \\\\o/"',
        None,
    )
    assert (await raw_call.answer(ch.get_variable("X"), "200 result=1 (a (b) c)"))[1] == "a (b) c"
    assert (await raw_call.answer(ch.get_variable("X"), "200 result=1 ()"))[1] == ""
    assert (await raw_call.answer(ch.get_variable("X"), "200 result=0"))[1] is None
    command, reply = await raw_call.answer(ch.exec("Playback", "a&b", "noanswer"), "200 result=0")
    assert command == 'EXEC "Playback" "a&b,noanswer"'
    assert await raw_call.answer(ch.exec("Hangup"), "200 result=0") == ('EXEC "Hangup"', reply)
    assert (await raw_call.answer(ch.verbose("hello world", 3), "200 result=1"))[0] == (
        'VERBOSE "hello world" 3'
    )
    assert (await raw_call.answer(ch.set_language("zh"), "200 result=1"))[0] == (
        'SET VARIABLE CHANNEL(language) "zh"'
    )
    assert ch.language == "zh"
    assert ch.commands_sent == 16
    assert ch.last_command == 'SET VARIABLE CHANNEL(language) "zh"'


async def test_record_file_results(raw_call: RawCall) -> None:
    ch = raw_call.channel
    command, result = await raw_call.answer(
        ch.record_file("/var/rec/x", "wav", "#", 60000, silence_s=3),
        "200 result=35 (dtmf) endpos=40000",
    )
    assert command == 'RECORD FILE "/var/rec/x" "wav" "#" 60000 BEEP s=3'
    assert result == RecordResult("#", "dtmf", 40000)
    command, result = await raw_call.answer(
        ch.record_file("x", "wav", "#", 10000, beep=False), "200 result=0 (timeout) endpos=80000"
    )
    assert command == 'RECORD FILE "x" "wav" "#" 10000'
    assert result == RecordResult(None, "timeout", 80000)
    _, result = await raw_call.answer(
        ch.record_file("x", "wav", "#", 60000, silence_s=3), "200 result=0 (timeout) endpos=24000"
    )
    assert result == RecordResult(None, "silence", 24000)
    assert not ch.hung_up


async def test_hangup_while_recording_returns_the_recording(raw_call: RawCall) -> None:
    ch = raw_call.channel
    _, result = await raw_call.answer(
        ch.record_file("x", "wav", "#", 60000), "200 result=-1 (hangup) endpos=34400", "HANGUP"
    )
    assert result == RecordResult(None, "hangup", 34400)
    assert ch.hung_up
    with pytest.raises(AGIHangup):
        await ch.stream_file("hotline/thanks")
    assert await raw_call.nothing_written()


async def test_hangup_line_before_the_reply_consumes_the_reply(raw_call: RawCall) -> None:
    ch = raw_call.channel
    task = asyncio.create_task(ch.stream_file("hotline/menu", "123"))
    await raw_call.expect()
    await raw_call.send("HANGUP")
    await asyncio.sleep(0.05)
    assert not task.done()  # the reply of the command in flight is still owed
    await raw_call.send("200 result=0 endpos=1000")
    with pytest.raises(AGIHangup):
        await asyncio.wait_for(task, 5)
    # the in-flight reply was read: nothing stale is left for anyone
    raw_call.writer.close()
    assert await asyncio.wait_for(raw_call.server_reader.read(), 5) == b""
    with pytest.raises(AGIHangup):
        await ch.wait_for_digit(1000)
    assert ch.commands_sent == 1


async def test_hangup_line_then_511(raw_call: RawCall) -> None:
    task = asyncio.create_task(raw_call.channel.wait_for_digit(5000))
    await raw_call.expect()
    await raw_call.send("HANGUP", DEAD)
    with pytest.raises(AGIHangup):
        await asyncio.wait_for(task, 5)
    assert raw_call.server_reader._buffer == b""  # type: ignore[attr-defined]


async def test_511_alone_is_a_hangup(raw_call: RawCall) -> None:
    task = asyncio.create_task(raw_call.channel.answer())
    await raw_call.expect()
    await raw_call.send(DEAD)
    with pytest.raises(AGIHangup, match="511"):
        await asyncio.wait_for(task, 5)
    assert raw_call.channel.hung_up


async def test_hangup_after_a_failed_playback_is_told_from_a_missing_file(
    raw_call: RawCall,
) -> None:
    # Asterisk cuts the playback with result=-1 and sends HANGUP after that reply: the NOOP
    # probe sees the HANGUP first
    task = asyncio.create_task(raw_call.channel.stream_file("hotline/menu", "1"))
    await raw_call.expect()
    await raw_call.send("200 result=-1 endpos=400", "HANGUP")
    assert await raw_call.expect() == "NOOP"
    await raw_call.send("200 result=0")
    with pytest.raises(AGIHangup):
        await asyncio.wait_for(task, 5)


async def test_missing_sound_is_a_loud_command_error(raw_call: RawCall) -> None:
    task = asyncio.create_task(raw_call.channel.stream_file("hotline/nope"))
    await raw_call.expect()
    await raw_call.send("200 result=-1 endpos=0")
    assert await raw_call.expect() == "NOOP"
    await raw_call.send("200 result=0")
    with pytest.raises(AGICommandError, match="hotline/nope"):
        await asyncio.wait_for(task, 5)
    assert not raw_call.channel.hung_up


async def test_end_of_stream_without_a_hangup_is_asterisk_gone(raw_call: RawCall) -> None:
    task = asyncio.create_task(raw_call.channel.wait_for_digit(5000))
    await raw_call.expect()
    raw_call.writer.write(b"200 res")  # cut in the middle of a line: Asterisk died
    raw_call.writer.close()
    with pytest.raises(AGIConnectionLost, match="closed"):
        await asyncio.wait_for(task, 5)
    with pytest.raises(AGIHangup):
        await raw_call.channel.answer()


async def test_end_of_stream_after_a_hangup_is_the_callers_hang_up(raw_call: RawCall) -> None:
    task = asyncio.create_task(raw_call.channel.wait_for_digit(5000))
    await raw_call.expect()
    await raw_call.send("HANGUP")
    raw_call.writer.close()  # the caller's hang-up was told first
    with pytest.raises(AGIHangup) as raised:
        await asyncio.wait_for(task, 5)
    assert not isinstance(raised.value, AGIConnectionLost)


async def test_100_trying_is_skipped(raw_call: RawCall) -> None:
    command, reply = await raw_call.answer(
        raw_call.channel.command("GOSUB", "sub", "s", "1"),
        "100 result=0 Trying...",
        "200 result=0 Gosub complete",
    )
    assert command == "GOSUB sub s 1"
    assert reply.data == "Gosub complete"


async def test_510_and_520_are_command_errors(raw_call: RawCall) -> None:
    ch = raw_call.channel
    task = asyncio.create_task(ch.command("FROB"))
    await raw_call.expect()
    await raw_call.send("510 Invalid or unknown command")
    with pytest.raises(AGICommandError, match="510") as caught:
        await asyncio.wait_for(task, 5)
    assert caught.value.command == "FROB"
    task = asyncio.create_task(ch.command("STREAM", "FILE"))
    await raw_call.expect()
    await raw_call.send(
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: STREAM FILE <filename> <escape_digits> [sample offset]",
        "520 End of proper usage.",
    )
    with pytest.raises(AGICommandError, match="520") as caught:
        await asyncio.wait_for(task, 5)
    assert caught.value.usage is not None and "STREAM FILE <filename>" in caught.value.usage
    # the channel is still in step after both
    assert (await raw_call.answer(ch.get_variable("X"), "200 result=1 (ok)"))[1] == "ok"


async def test_application_not_found(raw_call: RawCall) -> None:
    task = asyncio.create_task(raw_call.channel.exec("NoSuchApp", "x"))
    await raw_call.expect()
    await raw_call.send("200 result=-2")
    with pytest.raises(AGICommandError, match="NoSuchApp"):
        await asyncio.wait_for(task, 5)


async def test_garbage_reply_is_a_protocol_error_and_ends_the_channel(raw_call: RawCall) -> None:
    task = asyncio.create_task(raw_call.channel.answer())
    await raw_call.expect()
    await raw_call.send("HTTP/1.1 400 Bad Request")
    with pytest.raises(AGIProtocolError):
        await asyncio.wait_for(task, 5)
    with pytest.raises(AGIHangup):
        await raw_call.channel.answer()
    assert await raw_call.nothing_written()


async def test_command_timeout_for_a_silent_peer(raw_call: RawCall) -> None:
    raw_call.channel._command_timeout = 0.2
    with pytest.raises(AGIProtocolError, match="no reply"):
        await raw_call.channel.wait_for_digit(100)
    with pytest.raises(AGIHangup):
        await raw_call.channel.wait_for_digit(100)
    await raw_call.expect()
    assert await raw_call.nothing_written()


async def test_hangup_is_idempotent_and_marks_the_channel(raw_call: RawCall) -> None:
    ch = raw_call.channel
    assert await raw_call.answer(ch.hangup(), "200 result=1") == ("HANGUP", None)
    assert ch.hung_up
    await ch.hangup()  # writes nothing
    with pytest.raises(AGIHangup):
        await ch.verbose("after")
    assert await raw_call.nothing_written()


async def test_arguments_with_line_breaks_are_refused_before_writing(raw_call: RawCall) -> None:
    with pytest.raises(ValueError):
        await raw_call.channel.set_variable("X", "a\nANSWER")
    with pytest.raises(ValueError):
        await raw_call.channel.set_language("zh\n")
    assert await raw_call.nothing_written()
    assert raw_call.channel.commands_sent == 0


async def test_sensitive_commands_are_masked_in_logs(
    raw_call: RawCall, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ivr.agi")
    ch = raw_call.channel
    await raw_call.answer(ch.set_variable("PIN", "s3cr3t-654321", sensitive=True), "200 result=1")
    await raw_call.answer(ch.get_data("hotline/pin", 5000, 6, sensitive=True), "200 result=987654")
    await raw_call.answer(ch.set_variable("MENU", "visible-1"), "200 result=1")
    assert "s3cr3t-654321" not in caplog.text
    assert "987654" not in caplog.text
    assert "SET VARIABLE *** ***" in caplog.text
    assert "visible-1" in caplog.text
    task = asyncio.create_task(
        ch.command("SET", "VARIABLE", "PIN", "s3cr3t-654321", sensitive=True)
    )
    await raw_call.expect()
    await raw_call.send("510 Invalid or unknown command")
    with pytest.raises(AGICommandError) as caught:
        await task
    assert "s3cr3t" not in str(caught.value) and "s3cr3t" not in caught.value.command


async def _env_from(data: bytes, eof: bool = True, limit_s: float = 1.0) -> dict[str, str] | None:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return await read_env(reader, limit_s)


async def test_read_env() -> None:
    assert await _env_from(b"agi_network: yes\nagi_uniqueid: 1.2\n\n200 left for later\n") == {
        "agi_network": "yes",
        "agi_uniqueid": "1.2",
    }
    assert await _env_from(b"") is None
    for bad in (
        b"agi_network: yes\n",
        b"agi_network: yes\nagi_uni",
        b"\n",
        b"GET / HTTP/1.1\r\n\r\n",
    ):
        with pytest.raises(AGIProtocolError):
            await _env_from(bad)
    with pytest.raises(AGIProtocolError, match="within"):
        await _env_from(b"agi_network: yes\n", eof=False, limit_s=0.1)
    with pytest.raises(AGIProtocolError, match="too long"):
        await _env_from(b"".join(b"agi_x%d: 1\n" % n for n in range(600)) + b"\n")
    with pytest.raises(AGIProtocolError, match="too long"):  # few lines, each near the limit
        await _env_from(b"".join(b"agi_x%d: %s\n" % (n, b"v" * 60_000) for n in range(20)))


async def test_a_header_block_arriving_in_pieces_is_read_whole_and_nothing_after_it() -> None:
    """The block is read up to its empty line whatever its TCP segments: byte by byte, a block of
    one line, and a HANGUP Asterisk sends right after it stays for the first command."""
    blocks = {
        b"agi_network: yes\n\n": {"agi_network": "yes"},
        b"agi_network: yes\nagi_uniqueid: 1.2\n\n": {"agi_network": "yes", "agi_uniqueid": "1.2"},
        b"agi_a: 1\nagi_b: 2\nagi_c: 3\n\n": {"agi_a": "1", "agi_b": "2", "agi_c": "3"},
    }
    for block, env in blocks.items():
        reader = asyncio.StreamReader()

        async def feed(
            data: bytes = block + b"HANGUP\n", into: asyncio.StreamReader = reader
        ) -> None:
            for byte in data:
                into.feed_data(bytes([byte]))
                await asyncio.sleep(0)

        feeding = asyncio.create_task(feed())
        assert await read_env(reader, 1.0) == env
        await feeding
        assert await reader.readline() == b"HANGUP\n"


async def test_a_header_block_with_an_empty_line_inside_or_a_line_cut_is_refused() -> None:
    for bad in (
        b"agi_network: yes\n\r\nagi_uniqueid: 1.2\n\n",  # "\r" alone: not a header line
        b"agi_network: yes\nagi_uniqueid: 1.2\n",  # closed before the empty line
        b"agi_network: yes\nagi_uniqueid",
        b"agi_network: yes\nGET / HTTP/1.1\n\n",
    ):
        with pytest.raises(AGIProtocolError):
            await _env_from(bad)


async def test_a_cancelled_command_never_leaves_a_stale_reply(raw_call: RawCall) -> None:
    ch = raw_call.channel
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ch.wait_for_digit(5000), 0.1)  # e.g. a flow's own deadline
    assert await raw_call.expect() == "WAIT FOR DIGIT 5000"
    task = asyncio.create_task(ch.get_variable("X"))
    await asyncio.sleep(0.05)
    await raw_call.send("200 result=49")  # the late reply of the cancelled command
    assert await raw_call.expect() == 'GET VARIABLE "X"'
    await raw_call.send("200 result=1 (mine)")
    assert await asyncio.wait_for(task, 5) == "mine"
    assert ch.commands_sent == 2


async def test_a_cancelled_command_whose_late_reply_is_a_hangup(raw_call: RawCall) -> None:
    ch = raw_call.channel
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ch.wait_for_digit(5000), 0.1)
    await raw_call.expect()
    await raw_call.send("HANGUP", "200 result=-1")
    with pytest.raises(AGIHangup):
        await asyncio.wait_for(ch.answer(), 5)
    assert await raw_call.nothing_written()


async def test_an_endless_multiline_reply_is_cut_short(raw_call: RawCall) -> None:
    """``520-`` then continuation lines that never end: the channel stops reading after its
    bound (well before its reply time-out), gives up on the conversation and writes no more."""
    raw_call.channel._command_timeout = 30.0

    async def flood() -> None:
        await raw_call.send("520-Invalid command syntax.  Proper usage follows:")
        while True:
            await raw_call.send(*[" Usage: " + "x" * 60] * 50)
            await asyncio.sleep(0)

    flooding = asyncio.create_task(flood())
    try:
        with pytest.raises(AGIProtocolError, match="longer than"):
            await asyncio.wait_for(raw_call.channel.answer(), 5)
    finally:
        flooding.cancel()
    assert raw_call.channel.hung_up
    with pytest.raises(AGIHangup):
        await raw_call.channel.answer()


async def test_a_long_usage_text_is_still_a_reply(raw_call: RawCall) -> None:
    task = asyncio.create_task(raw_call.channel.command("STREAM", "FILE"))
    await raw_call.expect()
    usage = [f" line {n} of the usage" for n in range(60)]
    await raw_call.send("520-Invalid command syntax.  Proper usage follows:", *usage, "520 End")
    with pytest.raises(AGICommandError) as caught:
        await asyncio.wait_for(task, 5)
    assert caught.value.usage == "\n".join(usage)


async def test_a_reply_line_longer_than_the_reader_takes_is_a_protocol_error(
    raw_call: RawCall,
) -> None:
    task = asyncio.create_task(raw_call.channel.get_variable("X"))
    await raw_call.expect()
    await raw_call.send("200 result=1 (" + "v" * 200_000 + ")")
    with pytest.raises(AGIProtocolError, match="too long"):
        await asyncio.wait_for(task, 5)
    assert raw_call.channel.hung_up


async def test_a_command_may_take_its_own_wait_plus_the_allowance(raw_call: RawCall) -> None:
    """The allowance covers a prompt; a wait for a key adds the time-out it asks for."""
    raw_call.channel._command_timeout = 0.3
    task = asyncio.create_task(raw_call.channel.wait_for_digit(700))
    await raw_call.expect()
    await asyncio.sleep(0.6)  # longer than the allowance, within the key's own time-out
    await raw_call.send("200 result=50")
    assert await asyncio.wait_for(task, 5) == "2"
    with pytest.raises(AGIProtocolError, match=r"within 0\.5 s"):
        await raw_call.channel.wait_for_digit(200)  # no reply at all


@pytest.mark.parametrize("reply", ["200 result={}", "garbage {}", "510 {}"])
async def test_a_sensitive_reply_out_of_step_is_not_quoted(raw_call: RawCall, reply: str) -> None:
    keyed = "11010519491231002" + "X"  # an ID number where a key code belongs
    task = asyncio.create_task(raw_call.channel.wait_for_digit(5000, sensitive=True))
    await raw_call.expect()
    await raw_call.send(reply.format(keyed))
    with pytest.raises((AGIProtocolError, AGICommandError)) as caught:
        await asyncio.wait_for(task, 5)
    assert "1101051949" not in str(caught.value)


async def test_a_reply_without_a_number_is_out_of_step_quoted_unless_sensitive(
    raw_call: RawCall,
) -> None:
    """A key's reply whose result is not a number: the protocol error, the reply quoted in it
    (it holds no secret), and the channel never writes again."""
    task = asyncio.create_task(raw_call.channel.wait_for_digit(5000))
    await raw_call.expect()
    await raw_call.send("200 result=one")
    with pytest.raises(AGIProtocolError, match="200 result=one"):
        await asyncio.wait_for(task, 5)
    assert raw_call.channel.hung_up
    with pytest.raises(AGIHangup):
        await raw_call.channel.stream_file("hotline/welcome")


async def test_a_second_command_while_one_is_in_flight_is_refused_and_harms_neither(
    raw_call: RawCall,
) -> None:
    """One command at a time is the contract: a second one sent meanwhile is a bug, told at once,
    and the command in flight still reads its own reply (the second one wrote nothing)."""
    ch = raw_call.channel
    first = asyncio.create_task(ch.get_variable("PIN", sensitive=True))
    assert await raw_call.expect() == 'GET VARIABLE "PIN"'
    with pytest.raises(RuntimeError, match="one command at a time") as caught:
        await ch.stream_file("hotline/greeting")
    assert "PIN" not in str(caught.value) and "GET VARIABLE ***" in str(caught.value)
    assert await raw_call.nothing_written()
    await raw_call.send("200 result=1 (mine)")
    assert await asyncio.wait_for(first, 5) == "mine"
    assert await raw_call.answer(ch.get_variable("X"), "200 result=1 (next)") == (
        'GET VARIABLE "X"',
        "next",
    )


async def test_a_short_command_after_a_long_wait_times_out_on_its_own_allowance(
    raw_call: RawCall,
) -> None:
    """The reply deadline follows each command: a wait of 5 s answered at once leaves no 5 s
    grace to the next command, which gets only the allowance."""
    raw_call.channel._command_timeout = 0.3
    await raw_call.answer(raw_call.channel.wait_for_digit(5000), "200 result=49")
    async with asyncio.timeout(3):  # well before the first command's own deadline
        with pytest.raises(AGIProtocolError, match=r"no reply to ANSWER within 0\.3 s"):
            await raw_call.channel.answer()
    assert raw_call.channel.hung_up


async def test_a_long_command_after_a_short_one_gets_its_whole_wait(raw_call: RawCall) -> None:
    """The reply deadline of a short command, answered, never cuts a later, longer one short."""
    ch = raw_call.channel
    ch._command_timeout = 0.3
    await raw_call.answer(ch.answer(), "200 result=0")
    await asyncio.sleep(0.1)
    task = asyncio.create_task(ch.wait_for_digit(1000))  # due within 1.3 s
    assert await raw_call.expect() == "WAIT FOR DIGIT 1000"
    await asyncio.sleep(0.6)  # past the first command's deadline, within this one's
    await raw_call.send("200 result=50")
    assert await asyncio.wait_for(task, 5) == "2"
    await raw_call.answer(ch.answer(), "200 result=0")  # and the channel goes on
