"""An Asterisk emulator that speaks FastAGI as a client, the way Asterisk does.

It connects to a FastAGI server, sends the ``agi_*`` header block, then answers each command as a
scripted caller would. Used by the AGI tests, the full-call tests and the load benchmark.

The caller's keys use the simulator's ``--keys`` format: one entry per input the flow asks for,
``"-"`` for silence, e.g. ``["1", "11010519491231002*#", "231002#", "1"]``. The caller never
barges in: an entry is keyed only once the flow waits for a new input, which the peer recognises as
WAIT FOR DIGIT, GET DATA or RECORD FILE arriving with an empty DTMF buffer, except for a WAIT FOR
DIGIT right after a WAIT FOR DIGIT that returned a digit (an inter-digit wait: it times out).
Commands that neither play nor listen (SET/GET VARIABLE, VERBOSE, NOOP, HANGUP) are transparent:
they do not separate two digit waits. GET DATA with a prompt and RECORD FILE play their prompt or
beep first, so they always start a new input; GET DATA with no prompt (``GET DATA ""``) reads the
rest of the entry in progress, as Asterisk does: keys until ``#``, its maximum, or a time-out.

For RECORD FILE an entry is the number of seconds spoken, optionally with the key that ends it
(``"5"`` = ``"5#"``: speak 5 s, press #); the peer writes a real 8 kHz 16-bit mono WAV there.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import itertools
import math
import re
import time
import wave
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from ivr.agi import AGIChannel

__all__ = [
    "CallerScript",
    "HangupMode",
    "MemoryAsterisk",
    "PeerResult",
    "RawCall",
    "memory_channel",
    "raw_channel",
    "run_call",
    "split_args",
]

HangupMode = Literal["before_reply", "during", "eof"]
T = TypeVar("T")

DEAD_REPLY = "511 Command Not Permitted on a dead channel or intercept routine\n"
UNKNOWN_REPLY = "510 Invalid or unknown command\n"
TRYING_REPLY = "100 result=0 Trying...\n"
PLAYED_ENDPOS = 16000  # a prompt played to the end: 2 s at 8 kHz
INTERRUPTED_ENDPOS = 800  # a prompt cut short by a key (0.1 s)
RATE = 8000
_RECORD_ENTRY = re.compile(r"(\d+(?:\.\d+)?)([#*0-9]?)")
_counter = itertools.count(1)

# (command words, minimum argc, maximum argc or None, usage) as res_agi checks them
_ARITY: dict[tuple[str, ...], tuple[int, int | None, str]] = {
    ("STREAM", "FILE"): (4, 5, "STREAM FILE <filename> <escape_digits> [sample offset]"),
    ("WAIT", "FOR", "DIGIT"): (4, 4, "WAIT FOR DIGIT <timeout>"),
    ("GET", "DATA"): (3, 5, "GET DATA <file to be streamed> [timeout] [max digits]"),
    ("RECORD", "FILE"): (6, 9, "RECORD FILE <filename> <format> <escape digits> <timeout> ..."),
    ("SET", "VARIABLE"): (4, 4, "SET VARIABLE <variablename> <value>"),
    ("GET", "VARIABLE"): (3, 3, "GET VARIABLE <variablename>"),
    ("EXEC",): (2, 3, "EXEC <application> <options>"),
    ("VERBOSE",): (2, 3, "VERBOSE <message> <level>"),
    ("ANSWER",): (1, 1, "ANSWER"),
    ("NOOP",): (1, None, "NOOP"),
    ("HANGUP",): (1, 2, "HANGUP [<channelname>]"),
}


def split_args(line: str) -> list[str]:
    """Split a command line exactly as Asterisk's ``parse_args`` does (quotes, backslashes)."""
    args: list[list[str]] = []
    quoted = escaped = False
    whitespace = True
    for char in line.rstrip("\n"):
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                args.append([])
                whitespace = False
        elif char in " \t" and not quoted and not escaped:
            whitespace = True
        elif char == "\\" and not escaped:
            escaped = True
        else:
            if whitespace:
                args.append([])
                whitespace = False
            args[-1].append(char)
            escaped = False
    return ["".join(arg) for arg in args]


def _usage(text: str) -> str:
    return (
        "520-Invalid command syntax.  Proper usage follows:\n"
        f" Usage: {text}\n"
        "520 End of proper usage.\n"
    )


def _write_audio(target: Path, seconds: float, *, spoken: bool) -> None:
    """A real recording: a quiet 400 Hz tone while the caller "speaks", zeros when silent."""
    rate = 16000 if target.suffix == ".wav16" else RATE
    count = int(seconds * rate)
    period = [int(2000 * math.sin(2 * math.pi * 400 * n / rate)) for n in range(rate // 400)]
    samples = array.array("h", (period[n % len(period)] if spoken else 0 for n in range(count)))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix == ".sln":
        target.write_bytes(samples.tobytes())
        return
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


@dataclass
class CallerScript:
    """The caller's side of the conversation: turns one command into Asterisk's reply."""

    entries: Iterable[str] = ()
    language: str = "en"
    recordings_dir: Path | None = None  # relative RECORD FILE paths land here (else not written)
    missing_sounds: Collection[str] = ()  # STREAM FILE of these answers as for a missing file
    heard: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    execs: list[tuple[str, str]] = field(default_factory=list)
    recordings: list[Path] = field(default_factory=list)
    hung_up_by_server: bool = False
    buffer: str = ""
    inputs_taken: int = 0

    def __post_init__(self) -> None:
        self._entries = deque(self.entries)
        self._after_digit = False  # the last audio/DTMF command was a WAIT FOR DIGIT with a digit

    @property
    def entries_left(self) -> list[str]:
        return list(self._entries)

    def respond(self, line: str, *, hanging_up: bool = False) -> str:
        """Asterisk's reply (with its newline) to one command line. ``hanging_up``: the caller
        hangs up while this command runs (the reply Asterisk gives then; HANGUP follows it)."""
        argv = split_args(line)
        name = next(
            (key for key in _ARITY if tuple(a.upper() for a in argv[: len(key)]) == key), None
        )
        if name is None:
            return UNKNOWN_REPLY
        low, high, usage = _ARITY[name]
        if len(argv) < low or (high is not None and len(argv) > high):
            return _usage(usage)
        handler = getattr(self, "_" + "_".join(name).lower())
        reply: str = handler(argv, hanging_up)
        return reply

    # -- input -----------------------------------------------------------------------------------
    def wants_new_input(self, line: str) -> bool:
        """This command starts waiting for a new input (as opposed to the next digit of one)."""
        words = line.upper().split()
        if words[:2] == ["GET", "DATA"] and split_args(line)[2:3] == [""]:
            return False  # no prompt: the rest of the entry in progress
        if words[:2] in (["GET", "DATA"], ["RECORD", "FILE"]):
            return not self.buffer
        return words[:3] == ["WAIT", "FOR", "DIGIT"] and not self.buffer and not self._after_digit

    def _new_input(self) -> None:
        """The flow waits for a new input: key the next entry (never during inter-digit waits)."""
        if self.buffer or self._after_digit:
            return
        if self._entries:
            entry = self._entries.popleft()
            self.inputs_taken += 1
            self.buffer = "" if entry == "-" else entry

    def _take_record_entry(self) -> str | None:
        if self.buffer or not self._entries:  # a recording is never an inter-digit wait
            return None
        self.inputs_taken += 1
        return self._entries.popleft()

    # -- commands --------------------------------------------------------------------------------
    def _stream_file(self, argv: list[str], hanging_up: bool) -> str:
        self._after_digit = False
        sound, escape = argv[2], argv[3]
        if sound in self.missing_sounds:
            return "200 result=-1 endpos=0\n"
        self.heard.append(sound)
        if hanging_up:
            return f"200 result=-1 endpos={INTERRUPTED_ENDPOS}\n"
        if self.buffer and self.buffer[0] in escape:
            digit, self.buffer = self.buffer[0], self.buffer[1:]
            return f"200 result={ord(digit)} endpos={INTERRUPTED_ENDPOS}\n"
        return f"200 result=0 endpos={PLAYED_ENDPOS}\n"

    def _wait_for_digit(self, argv: list[str], hanging_up: bool) -> str:
        if hanging_up:
            return "200 result=-1\n"
        self._new_input()
        if not self.buffer:
            self._after_digit = False
            return "200 result=0\n"
        digit, self.buffer = self.buffer[0], self.buffer[1:]
        self._after_digit = True
        return f"200 result={ord(digit)}\n"

    def _get_data(self, argv: list[str], hanging_up: bool) -> str:
        if argv[2]:
            self.heard.append(argv[2])
        if hanging_up:
            return "200 result=-1\n"
        if argv[2]:
            self._after_digit = False  # its prompt plays first: never an inter-digit wait
            self._new_input()
        self._after_digit = False  # what follows is a new input's wait
        limit = int(argv[4]) if len(argv) > 4 else 1024
        digits = ""
        while self.buffer and len(digits) < limit:
            key, self.buffer = self.buffer[0], self.buffer[1:]
            if key == "#":
                return f"200 result={digits}\n"
            digits += key
        return (
            f"200 result={digits}\n" if len(digits) >= limit else f"200 result={digits} (timeout)\n"
        )

    def _record_file(self, argv: list[str], hanging_up: bool) -> str:
        path, fmt, escape, timeout_ms = argv[2], argv[3], argv[4], int(argv[5])
        if fmt not in ("wav", "wav16", "sln"):
            raise ValueError(f"the peer records wav, wav16 or sln, not {fmt!r}")
        target: Path | None = Path(f"{path}.{fmt}")
        if not Path(path).is_absolute():  # Asterisk: relative to its sounds folder
            target = self.recordings_dir / f"{path}.{fmt}" if self.recordings_dir else None
        leftover = self.buffer[:1]
        entry = self._take_record_entry()
        self._after_digit = False
        seconds, key = 0.0, ""
        if entry is not None and entry != "-":
            match = _RECORD_ENTRY.fullmatch(entry)
            if match is None:
                raise ValueError(f"RECORD FILE entry must be seconds[#|*], not {entry!r}")
            seconds, key = float(match.group(1)), match.group(2) or "#"
        elif leftover:
            key = leftover  # a key left in the buffer ends the recording at once, if it escapes
            self.buffer = self.buffer[1:] if leftover in escape else self.buffer
        limit_s = timeout_ms / 1000 if timeout_ms > 0 else math.inf
        if hanging_up:
            seconds, key = min(seconds or 1.0, limit_s), ""
        length = min(seconds, limit_s)
        if target is not None:
            _write_audio(target, length if seconds else 0.01, spoken=seconds > 0)
            self.recordings.append(target)
        endpos = int(length * RATE)
        if hanging_up:
            return f"200 result=-1 (hangup) endpos={endpos}\n"
        if key and key in escape and seconds < limit_s:
            return f"200 result={ord(key)} (dtmf) endpos={endpos}\n"
        return f"200 result=0 (timeout) endpos={endpos}\n"

    def _set_variable(self, argv: list[str], hanging_up: bool) -> str:
        self.variables[argv[2]] = argv[3]
        if argv[2] == "CHANNEL(language)":
            self.language = argv[3]
        return "200 result=1\n"

    def _get_variable(self, argv: list[str], hanging_up: bool) -> str:
        if argv[2] == "CHANNEL(language)":
            return f"200 result=1 ({self.language})\n"
        value = self.variables.get(argv[2])
        return "200 result=0\n" if value is None else f"200 result=1 ({value})\n"

    def _exec(self, argv: list[str], hanging_up: bool) -> str:
        self._after_digit = False
        app, args = argv[1], argv[2] if len(argv) > 2 else ""
        self.execs.append((app, args))
        if app.lower() in ("playback", "background"):
            self.heard.extend(args.partition(",")[0].split("&"))
        return "200 result=-1\n" if hanging_up else "200 result=0\n"

    def _verbose(self, argv: list[str], hanging_up: bool) -> str:
        return "200 result=1\n"

    def _answer(self, argv: list[str], hanging_up: bool) -> str:
        self._after_digit = False
        return "200 result=0\n"

    def _noop(self, argv: list[str], hanging_up: bool) -> str:
        return "200 result=0\n"

    def _hangup(self, argv: list[str], hanging_up: bool) -> str:
        self.hung_up_by_server = True
        return "200 result=1\n"


@dataclass
class PeerResult:
    heard: list[str]
    commands: list[str]  # raw command lines as received, without the newline
    variables: dict[str, str]
    execs: list[tuple[str, str]]
    hung_up_by_peer: bool  # the emulated caller hung up (hangup_after, max_commands)
    hung_up_by_server: bool  # the server sent HANGUP
    overran: bool  # max_commands reached: the flow was looping
    latencies: list[float]  # seconds from each reply sent to the next command received
    # when each of those replies was sent (``time.perf_counter``): latencies as intervals
    replied_at: list[float]
    setup_latency: float | None  # seconds from the header block sent to the first command
    entries_left: list[str]
    inputs_taken: int
    recordings: list[Path]
    language: str


def header_block(
    host: str, port: int, script: str, *, caller_id: str, uniqueid: str, channel: str,
    language: str, extra: Mapping[str, str] | None = None,
) -> bytes:  # fmt: skip
    env = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": f"agi://{host}:{port}/{script}",
        "agi_channel": channel,
        "agi_language": language,
        "agi_type": channel.partition("/")[0],
        "agi_uniqueid": uniqueid,
        "agi_version": "22.0.0",
        "agi_callerid": caller_id,
        "agi_calleridname": "unknown",
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": script.partition("?")[0],
        "agi_rdnis": "unknown",
        "agi_context": "hotline",
        "agi_extension": script.partition("?")[0],
        "agi_priority": "2",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": "140000000000000",
        **(extra or {}),
    }
    return "".join(f"{key}: {value}\n" for key, value in env.items()).encode() + b"\n"


async def run_call(
    host: str,
    port: int,
    script: str = "12333",
    entries: Iterable[str] = (),
    *,
    caller_id: str = "13800000000",
    uniqueid: str | None = None,
    language: str = "en",
    hangup_after: int | None = None,
    hangup_mode: HangupMode = "before_reply",
    hangup_linger: float = 0.5,
    max_commands: int = 2000,
    recordings_dir: Path | None = None,
    missing_sounds: Collection[str] = (),
    trying_for: Collection[str] = (),
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 30.0,  # noqa: ASYNC109 - a whole-call guard, raised as TimeoutError
    audio_seconds: float = 0.0,
    hang_up_when_done: bool = False,
) -> PeerResult:
    """Place one call on a FastAGI server and play the caller until the server closes.

    ``hangup_after=N``: the caller hangs up once N commands were answered. ``hangup_mode``:
    ``before_reply`` (HANGUP, then 511 to the command in flight), ``during`` (the in-flight command
    ends as Asterisk ends it on a hang-up, e.g. ``result=-1 (hangup)``, then HANGUP) or ``eof``
    (the connection just closes). After HANGUP every command gets 511 and the peer closes the
    connection ``hangup_linger`` seconds after the last command. ``trying_for``: first command
    words (e.g. "EXEC") answered with ``100 Trying`` before the final reply. ``audio_seconds``:
    how long a prompt that plays to its end, or a wait that times out, takes before its reply (the
    time a real call spends listening; excluded from ``latencies``, which time the server only).
    ``hang_up_when_done``: once every entry is keyed, the caller hangs up when the flow asks for
    one more input (a caller who got the answer and puts the phone down).
    """
    number = next(_counter)
    caller = CallerScript(
        entries, language=language, recordings_dir=recordings_dir, missing_sounds=missing_sounds
    )
    result = PeerResult(
        heard=caller.heard, commands=[], variables=caller.variables, execs=caller.execs,
        hung_up_by_peer=False, hung_up_by_server=False, overran=False, latencies=[],
        replied_at=[], setup_latency=None, entries_left=[], inputs_taken=0,
        recordings=caller.recordings, language=language,
    )  # fmt: skip
    trying = {word.upper() for word in trying_for}
    reader, writer = await asyncio.open_connection(host, port)
    try:
        async with asyncio.timeout(timeout):
            writer.write(
                header_block(
                    host, port, script, caller_id=caller_id,
                    uniqueid=uniqueid or f"1700000000.{number}", channel=f"PJSIP/6001-{number:08x}",
                    language=language, extra=extra_env,
                )
            )  # fmt: skip
            await writer.drain()
            sent_at = time.perf_counter()
            while True:
                try:
                    async with asyncio.timeout(hangup_linger if result.hung_up_by_peer else None):
                        raw = await reader.readline()
                except TimeoutError:
                    break  # like Asterisk after a hang-up: the server had its chance to finish
                except ConnectionError:
                    break  # the server closed the call with our data unread (a refusal)
                if not raw.endswith(b"\n"):
                    break  # the server closed the call
                elapsed = time.perf_counter() - sent_at
                if result.commands:
                    result.latencies.append(elapsed)
                    result.replied_at.append(sent_at)
                else:
                    result.setup_latency = elapsed
                line = raw.decode().rstrip("\n")
                result.commands.append(line)
                count = len(result.commands)
                if result.hung_up_by_peer:
                    reply = DEAD_REPLY
                elif (
                    count > max_commands
                    or (hangup_after is not None and count > hangup_after)
                    or (
                        hang_up_when_done
                        and not caller.entries_left
                        and caller.wants_new_input(line)
                    )
                ):
                    result.hung_up_by_peer = True
                    result.overran = count > max_commands
                    mode = "before_reply" if result.overran else hangup_mode
                    if mode == "eof":
                        break
                    if mode == "during":
                        reply = caller.respond(line, hanging_up=True) + "HANGUP\n"
                    else:
                        reply = "HANGUP\n" + DEAD_REPLY
                else:
                    reply = caller.respond(line)
                if line.split(" ", 1)[0].upper() in trying and not reply.startswith("5"):
                    reply = TRYING_REPLY + reply
                if audio_seconds and reply.startswith("200 result=0"):
                    await asyncio.sleep(audio_seconds)  # a prompt played out, a wait timed out
                writer.write(reply.encode())
                await writer.drain()
                sent_at = time.perf_counter()
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    result.hung_up_by_server = caller.hung_up_by_server
    result.entries_left = caller.entries_left
    result.inputs_taken = caller.inputs_taken
    result.language = caller.language
    return result


@dataclass
class RawCall:
    """The Asterisk end of one AGIChannel over a real socket, driven by a test line by line."""

    channel: AGIChannel
    reader: asyncio.StreamReader  # what the channel writes (commands)
    writer: asyncio.StreamWriter  # what the channel reads (replies)
    server_reader: asyncio.StreamReader  # the channel's own reader, to check nothing is left
    step: float = 5.0  # seconds a step may take before the test counts it as frozen

    async def expect(self) -> str:
        """The next command line the channel sent."""
        line = await asyncio.wait_for(self.reader.readline(), self.step)
        assert line.endswith(b"\n"), f"channel closed instead of sending a command: {line!r}"
        return line.decode().rstrip("\n")

    async def send(self, *lines: str) -> None:
        self.writer.write("".join(line + "\n" for line in lines).encode())
        await self.writer.drain()

    async def answer(self, call: Awaitable[T], *lines: str) -> tuple[str, T]:
        """Run one channel call, answer its command with ``lines``: (command line, result)."""
        task = asyncio.ensure_future(call)
        command = await self.expect()
        await self.send(*lines)
        return command, await asyncio.wait_for(task, self.step)

    async def nothing_written(self, wait: float = 0.1) -> bool:
        """True when the channel writes nothing more within ``wait`` seconds."""
        try:
            data = await asyncio.wait_for(self.reader.read(1), wait)
        except TimeoutError:
            return True
        return data == b""


@contextlib.asynccontextmanager
async def raw_channel(
    env: Mapping[str, str], *, command_timeout: float | None = 5.0
) -> AsyncIterator[RawCall]:
    """An AGIChannel on a real TCP connection whose Asterisk end the test drives by hand."""
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
        loop.create_future()
    )

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result((reader, writer))

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    asterisk_reader, asterisk_writer = await asyncio.open_connection("127.0.0.1", port)
    server_reader, server_writer = await asyncio.wait_for(accepted, 5.0)
    channel = AGIChannel(server_reader, server_writer, env, command_timeout=command_timeout)
    try:
        yield RawCall(channel, asterisk_reader, asterisk_writer, server_reader)
    finally:
        for writer in (asterisk_writer, server_writer):
            writer.close()
        server.close()
        await server.wait_closed()


class MemoryAsterisk:
    """Asterisk's end of an AGIChannel without a socket: each command line the channel writes is
    answered at once by the scripted caller (property tests place thousands of calls)."""

    def __init__(self, caller: CallerScript) -> None:
        self.caller = caller
        self.reader = asyncio.StreamReader()
        self.commands: list[str] = []
        self._partial = b""

    def write(self, data: bytes) -> None:
        self._partial += data
        while b"\n" in self._partial:
            line, _, self._partial = self._partial.partition(b"\n")
            self.commands.append(line.decode())
            self.reader.feed_data(self.caller.respond(self.commands[-1]).encode())

    async def drain(self) -> None:
        pass


def memory_channel(
    entries: Iterable[str], *, uniqueid: str = "mem.1", command_timeout: float | None = 5.0
) -> tuple[AGIChannel, MemoryAsterisk]:
    """An AGIChannel whose Asterisk is a ``MemoryAsterisk`` keying ``entries``."""
    asterisk = MemoryAsterisk(CallerScript(entries))
    env = {"agi_uniqueid": uniqueid, "agi_channel": "PJSIP/mem", "agi_language": "zh"}
    channel = AGIChannel(
        asterisk.reader,
        asterisk,  # type: ignore[arg-type]  # writes and drains like a StreamWriter
        env,
        command_timeout=command_timeout,
    )
    return channel, asterisk
