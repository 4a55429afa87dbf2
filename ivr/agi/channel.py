"""AGIChannel: one call's command/reply conversation with Asterisk over a FastAGI connection.

One command is in flight at a time (a second one sent meanwhile is a bug: RuntimeError) and each
command reads exactly its own reply, so a reply can never be read by a later command, even when
the task sending it was cancelled (its reply is read and dropped before the next command).
The caller hanging up always ends as :class:`AGIHangup`:

- Asterisk sends ``HANGUP`` on its own when the caller hangs up, possibly before the reply of the
  command in flight; that reply is still read (and dropped) before AGIHangup is raised;
- later commands get ``511`` from Asterisk, or end of stream; both raise AGIHangup;
- once hung up, a command raises AGIHangup at once without writing to the socket.

``on_command``, when given, is told before each command is written how long this side took to
send it since Asterisk's previous reply (or the header block): the server's own work (flow,
database, password hash), not Asterisk's or the caller's time. The command is named only
(``STREAM FILE``), never with its arguments.

Every read is bounded: a reply may take the time-out the command itself waits for (a key, a
recording) plus ``command_timeout``, and at most ``MAX_REPLY_LINES`` lines and
``MAX_REPLY_BYTES`` bytes whatever they are. Past either bound the conversation is out of step:
AGIProtocolError, and the channel never writes again.

A command is kept cheap (``bench/agi_replay.py`` measures it against a bare loop and panoramisk):
no lock, no time-out context per command (one watchdog timer per channel, moved only when it
fires early), the common replies parsed without a regular expression, and logs formatted only
when enabled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, NoReturn
from urllib.parse import parse_qsl

from ivr.agi.errors import AGICommandError, AGIConnectionLost, AGIHangup, AGIProtocolError
from ivr.agi.protocol import (
    HANGUP_LINE,
    Reply,
    command_name,
    describe_command,
    format_command,
    multiline_code,
    parse_common_reply,
    parse_header_line,
    parse_header_lines,
    parse_reply,
    quote_argument,
)

__all__ = ["AGIChannel", "CommandObserver", "EndedBy", "RecordResult", "read_env"]

log = logging.getLogger(__name__)

EndedBy = Literal["dtmf", "timeout", "silence", "hangup"]
# Told each command's name and the seconds this side took to send it since Asterisk's last reply;
# called on the event loop: O(1), never blocking.
CommandObserver = Callable[[str, float], None]

MAX_HEADER_LINES = 512  # Asterisk sends about 20 headers plus one per script argument
MAX_HEADER_BYTES = 64 * 1024  # about 1 KiB in practice; each line alone may reach the read limit
# One reply, counting every line read for it (HANGUP, provisional and continuation lines):
# res_agi's longest usage text (a 520 reply) is about 20 lines, its longest value a few KiB.
MAX_REPLY_LINES = 200
MAX_REPLY_BYTES = 64 * 1024
_LANGUAGE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_WATCHDOG_SLACK = 0.001  # seconds: a timer may fire this much before its time


@dataclass(frozen=True)
class RecordResult:
    digit: str | None  # the escape digit that ended the recording
    ended_by: EndedBy  # "silence" is inferred: Asterisk reports it as a time-out
    endpos: int  # samples written (8000 a second for wav/gsm/ulaw)


async def read_env(reader: asyncio.StreamReader, timeout_s: float) -> dict[str, str] | None:
    """Read the ``agi_*`` header block; None if the peer closed without sending a byte (a probe).

    A block cut short, too long, not AGI, or not complete within ``timeout_s`` seconds raises
    AGIProtocolError: the caller closes the connection and nothing ever loops on a dead socket.
    The block is taken in three reads, not one a line (about 20 lines a call): its first line,
    checked at once (a port scanner or an HTTP client is refused without waiting), then the rest
    up to the empty line that ends it (Asterisk ends each line with a bare newline).
    """
    env: dict[str, str] = {}
    try:
        async with asyncio.timeout(timeout_s):
            try:
                first = await reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    return None
                raise AGIProtocolError(
                    "connection closed inside the header block (0 lines)"
                ) from None
            except asyncio.LimitOverrunError:
                raise AGIProtocolError("header line too long") from None
            parsed = parse_header_line(first.decode("utf-8", "replace"))
            if parsed is None:
                raise AGIProtocolError("empty header block")
            env[parsed[0]] = parsed[1]
            after = await reader.readexactly(1)  # the empty line of a one-line block, or more
            if after == b"\n":
                return env
            rest = after + await reader.readuntil(b"\n\n")
    except TimeoutError:
        raise AGIProtocolError(f"no complete header block within {timeout_s:g} s") from None
    except asyncio.IncompleteReadError:
        raise AGIProtocolError(
            f"connection closed inside the header block ({len(env)} lines)"
        ) from None
    except asyncio.LimitOverrunError:
        raise AGIProtocolError("header block too long") from None
    except ConnectionError as exc:
        raise AGIProtocolError(f"connection lost inside the header block: {exc}") from None
    if len(first) + len(rest) > MAX_HEADER_BYTES or rest.count(b"\n") > MAX_HEADER_LINES:
        raise AGIProtocolError("header block too long")
    env.update(parse_header_lines(rest[:-1].decode("utf-8", "replace")))
    if len(env) > MAX_HEADER_LINES:
        raise AGIProtocolError("header block too long")
    return env


def _seconds(timeout_ms: int) -> float | None:
    """A command's own time-out in seconds; None for one that waits for ever (-1)."""
    return None if timeout_ms < 0 else timeout_ms / 1000


class AGIChannel:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        env: Mapping[str, str],
        *,
        command_timeout: float | None = None,
        on_command: CommandObserver | None = None,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.env: Mapping[str, str] = MappingProxyType(dict(env))
        # How long Asterisk may take to answer beyond the command's own time-out: longer than the
        # longest prompt. None: no limit.
        self._command_timeout = command_timeout
        self._on_command = on_command
        self._replied_at = time.perf_counter()  # the header block is Asterisk's first word
        self._language = self.env.get("agi_language", "en")
        self._hung_up = False
        self._busy = False  # a command is in flight
        self._owed = 0  # commands sent whose reply is not read yet
        self.commands_sent = 0
        self._last_words: tuple[str, ...] = ()  # the last command sent
        self._last_sensitive = False
        self._described: str | None = None  # last_command, once asked for
        # drain only when the socket did not take a command at once (writes then queue)
        self._transport = getattr(writer, "transport", None)
        # The reply watchdog: one timer per channel, not one per command. A command sets the
        # deadline of its reply; the timer, when it fires, moves itself to the current deadline,
        # and cancels the command only when that deadline has passed.
        self._loop: asyncio.AbstractEventLoop | None = None  # the call's, known once a command runs
        self._deadline: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._waiting: asyncio.Task[object] | None = None  # the task the deadline applies to
        self._cancelling = 0  # that task's cancel requests before the command
        self._expired = False  # the watchdog cancelled the command

    # -- call facts from the header block ---------------------------------------------------
    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    @property
    def channel(self) -> str:
        return self.env.get("agi_channel", "")

    @property
    def caller_id(self) -> str:
        """The caller's number; "" when withheld (Asterisk says "unknown")."""
        number = self.env.get("agi_callerid", "")
        return "" if number == "unknown" else number

    @property
    def network_script(self) -> str:
        """The script path of the agi:// URL, e.g. "12333" for agi://host/12333?lang=zh."""
        return self.env.get("agi_network_script", "").partition("?")[0].strip("/")

    @property
    def script_args(self) -> Mapping[str, str]:
        """Query parameters of the agi:// URL (the last value wins)."""
        query = self.env.get("agi_network_script", "").partition("?")[2]
        return dict(parse_qsl(query, keep_blank_values=True))

    @property
    def args(self) -> tuple[str, ...]:
        """Arguments given to AGI() in the dialplan after the URL (agi_arg_1, agi_arg_2, ...)."""
        values: list[str] = []
        while (value := self.env.get(f"agi_arg_{len(values) + 1}")) is not None:
            values.append(value)
        return tuple(values)

    @property
    def language(self) -> str:
        """The channel language: from the header block, then as changed by set_language()."""
        return self._language

    @property
    def hung_up(self) -> bool:
        return self._hung_up

    @property
    def last_command(self) -> str | None:
        """The last command sent, as logs show it: a sensitive command's arguments masked."""
        if self._described is None and self._last_words:
            self._described = describe_command(self._last_words, sensitive=self._last_sensitive)
        return self._described

    def release(self) -> None:
        """The call is over: stop the reply watchdog, which would keep the channel alive until
        its last deadline."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    # -- the one command primitive ---------------------------------------------------------
    async def command(
        self, *words: str, sensitive: bool = False, waits: float | None = 0.0
    ) -> Reply:
        """Send one command line (words as given: quote arguments) and return its 200 reply.

        AGIHangup on hang-up, AGICommandError on 510/520/other codes. ``sensitive`` masks the
        arguments and the reply in logs, diagnostics and error messages (keys a caller keys for
        a password or an ID number). ``waits``: seconds the command itself may wait (a key, a
        recording) on top of the reply allowance; None: as long as it takes.
        """
        reply = await self._exchange(words, sensitive, waits)
        if self._hung_up or reply.code != 200:
            self._refuse(reply, sensitive)
        return reply

    def _refuse(self, reply: Reply, sensitive: bool) -> NoReturn:
        """Raise for a reply that is not a 200 on a live channel. The commands test for that
        inline and call ``_exchange`` directly, not ``command``: on the common reply no call
        more, and one coroutine less a command (each one lives until the reply comes)."""
        if self._hung_up:
            raise AGIHangup(f"caller hung up during {self.last_command}")
        self._check(reply, sensitive)
        raise AssertionError(f"not a refusal: {reply.code}")  # _check returned: a 200

    async def _exchange(
        self, words: tuple[str, ...], sensitive: bool, waits: float | None = 0.0
    ) -> Reply:
        """Write one command and read its final reply; HANGUP lines only mark the channel."""
        if self._hung_up:
            raise AGIHangup(
                f"channel hung up; not sending {describe_command(words, sensitive=sensitive)}"
            )
        if self._busy:
            raise RuntimeError(
                f"AGI command {describe_command(words, sensitive=sensitive)} sent while "
                f"{self.last_command} waits for its reply: one command at a time per channel"
            )
        line = format_command(*words).encode()
        limit = (
            None
            if self._command_timeout is None or waits is None
            else self._command_timeout + waits
        )
        debug = log.isEnabledFor(logging.DEBUG)
        self._busy = True
        try:
            if limit is not None:
                self._arm(limit)
            if self._owed:
                await self._skip_owed_replies()
                if self._hung_up:
                    shown = describe_command(words, sensitive=sensitive)
                    raise AGIHangup(f"channel hung up; not sending {shown}")
            self.commands_sent += 1
            self._last_words, self._last_sensitive = words, sensitive
            self._described = None
            if debug:
                log.debug("%s >> %s", self.uniqueid, self.last_command)
            if self._on_command is not None:
                self._on_command(command_name(words), time.perf_counter() - self._replied_at)
            self._writer.write(line)
            self._owed += 1
            if self._transport is None or self._transport.get_write_buffer_size():
                await self._writer.drain()
            try:  # readline's own work, one coroutine less
                raw = await self._reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                raw = exc.partial  # the connection closed: told apart below
            except asyncio.LimitOverrunError:  # StreamReader's line length limit
                raise AGIProtocolError(f"reply line too long after {self.last_command}") from None
            # nearly every reply is one line "200 result=...": read here, without the loop below
            reply = (
                parse_common_reply(raw.decode("utf-8", "replace"))
                if raw.startswith(b"200 result=")
                and raw.endswith(b"\n")
                and len(raw) <= MAX_REPLY_BYTES
                else None
            )
            if reply is None:
                reply = await self._read_reply(sensitive, raw)
            self._owed -= 1
            if self._on_command is not None:
                self._replied_at = time.perf_counter()
        except asyncio.CancelledError:
            if not self._timed_out():
                raise
            self._hung_up = True  # the conversation is out of step: never write again
            raise AGIProtocolError(
                f"no reply to {describe_command(words, sensitive=sensitive)} within {limit:g} s"
            ) from None
        except AGIProtocolError:
            self._hung_up = True
            raise
        except (ConnectionError, OSError) as exc:
            gone = self._gone()
            raise gone(
                f"connection lost during {describe_command(words, sensitive=sensitive)}: {exc}"
            ) from exc
        finally:
            self._deadline = None
            self._busy = False
        if debug:
            log.debug("%s << %s", self.uniqueid, f"{reply.code} ***" if sensitive else reply.raw)
        return reply

    # -- the reply watchdog ------------------------------------------------------------------
    def _arm(self, limit: float) -> None:
        """The reply of the command about to be sent is due within ``limit`` seconds."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        assert task is not None
        self._waiting = task
        self._cancelling = task.cancelling()
        self._expired = False
        deadline = self._deadline = loop.time() + limit
        watchdog = self._watchdog
        if watchdog is None or watchdog.when() > deadline:
            if watchdog is not None:
                watchdog.cancel()
            self._watchdog = loop.call_at(deadline, self._on_watchdog)

    def _on_watchdog(self) -> None:
        self._watchdog = None
        deadline = self._deadline
        if deadline is None:
            return  # no command in flight: the next one arms it again
        loop = self._loop
        assert loop is not None
        if loop.time() < deadline - _WATCHDOG_SLACK:
            self._watchdog = loop.call_at(deadline, self._on_watchdog)  # a later command's
            return
        if self._waiting is not None:
            self._expired = True
            self._waiting.cancel()

    def _timed_out(self) -> bool:
        """The cancellation being handled is the watchdog's (as asyncio.timeout tells it)."""
        if not self._expired or self._waiting is None:
            return False
        self._expired = False
        return self._waiting.uncancel() <= self._cancelling

    async def _skip_owed_replies(self) -> None:
        """Read and drop the replies of commands whose caller was cancelled (e.g. by wait_for)
        after sending them, so that no later command ever reads a reply that is not its own."""
        while self._owed:
            stale = await self._read_reply(sensitive=True)  # it may hold a key of an entry
            self._owed -= 1
            log.debug("%s << %d (reply of a cancelled command, dropped)", self.uniqueid, stale.code)
            if stale.code == 511:
                self._hung_up = True

    async def _read_reply(self, sensitive: bool, first: bytes | None = None) -> Reply:
        """Read one final reply (``first``: its first line, already read)."""
        budget = [MAX_REPLY_LINES, MAX_REPLY_BYTES]  # what this reply may still take
        while True:
            line = self._line(first if first is not None else await self._readline(), budget)
            first = None
            if line.startswith("200 "):  # a final reply, one line: nearly every reply
                reply = parse_common_reply(line)
                if reply is not None:
                    return reply
            if line == HANGUP_LINE:
                log.debug("%s << HANGUP", self.uniqueid)
                self._hung_up = True  # read on: the reply of the command in flight still comes
                continue
            if not line:
                continue
            code = multiline_code(line)
            lines = [line]
            while code is not None and not lines[-1].startswith(code + " "):
                lines.append(self._line(await self._readline(), budget))
            try:
                reply = parse_reply(lines)
            except AGIProtocolError:
                if not sensitive:
                    raise
                raise AGIProtocolError(f"malformed reply to {self.last_command}") from None
            if reply.code != 100:  # "100 result=0 Trying..." precedes the final reply of GOSUB
                return reply

    async def _readline(self) -> bytes:
        try:
            return await self._reader.readline()
        except ValueError:  # StreamReader's line length limit
            raise AGIProtocolError(f"reply line too long after {self.last_command}") from None

    def _line(self, raw: bytes, budget: list[int]) -> str:
        """One line of a reply as text, spending ``budget`` (lines, bytes): a peer sending lines
        that never end a reply is out of step, not a reason to grow."""
        budget[0] -= 1
        budget[1] -= len(raw)
        if budget[0] < 0 or budget[1] < 0:
            raise AGIProtocolError(
                f"reply longer than {MAX_REPLY_LINES} lines or {MAX_REPLY_BYTES} bytes"
            )
        if not raw.endswith(b"\n"):
            gone = self._gone()
            raise gone(f"connection closed by Asterisk during {self.last_command}")
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    def _gone(self) -> type[AGIHangup]:
        """The connection ended: after a ``HANGUP`` the caller's doing, else Asterisk went away."""
        told = self._hung_up
        self._hung_up = True
        return AGIHangup if told else AGIConnectionLost

    def _check(self, reply: Reply, sensitive: bool) -> Reply:
        if reply.code == 200:
            return reply
        if reply.code == 511:
            self._hung_up = True
            raise AGIHangup(f"dead channel: {self.last_command} refused (511)")
        usage = reply.data if reply.code == 520 and not sensitive else None
        first_line = f"{reply.code} ***" if sensitive else reply.raw.partition("\n")[0]
        raise AGICommandError(
            f"{self.last_command}: {first_line}", command=self.last_command or "", usage=usage
        )

    def _number(self, reply: Reply, sensitive: bool) -> int:
        """The reply's numeric result; a reply without one does not show a sensitive entry."""
        try:
            return int(reply.result)  # as Reply.result_int reads it, one call less
        except ValueError:
            self._hung_up = True  # not what Asterisk answers: never write again
            if not sensitive:
                return reply.result_int  # raises the protocol error that quotes the reply
        raise AGIProtocolError(f"reply to {self.last_command} has no numeric result")

    async def _fail(self, message: str) -> NoReturn:
        """A result=-1: hang-up or real failure. Asterisk sends HANGUP right after the reply of a
        command cut short by a hang-up, so a NOOP tells them apart (it raises AGIHangup)."""
        command = self.last_command or ""
        if self._hung_up:
            raise AGIHangup(f"caller hung up during {command}")
        await self.command("NOOP")
        raise AGICommandError(message, command=command)

    # -- typed helpers (every argument quoted) --------------------------------------------------
    async def answer(self) -> None:
        reply = await self.command("ANSWER")
        if reply.result_int < 0:
            await self._fail("ANSWER failed")

    async def stream_file(
        self, name: str, escape_digits: str = "", *, offset: int = 0, sensitive: bool = False
    ) -> tuple[str | None, int]:
        """Play a sound from ``offset`` (samples); (digit that interrupted it or None, end
        position in samples: where it stopped, or its length when it played to the end).

        A missing or unplayable sound raises AGICommandError naming it: a silent prompt is a bug.
        """
        words: tuple[str, ...] = (
            "STREAM",
            "FILE",
            quote_argument(name),
            quote_argument(escape_digits),
        )
        if offset > 0:
            words += (str(int(offset)),)
        reply = await self._exchange(words, sensitive)
        if self._hung_up or reply.code != 200:
            self._refuse(reply, sensitive)
        code = self._number(reply, sensitive)
        if code < 0:
            await self._fail(f"sound {name!r} is missing or could not be played")
        return (chr(code) if code else None), reply.endpos or 0

    async def wait_for_digit(self, timeout_ms: int, *, sensitive: bool = False) -> str | None:
        """One DTMF digit, or None on time-out (-1 waits for ever)."""
        words = ("WAIT", "FOR", "DIGIT", str(int(timeout_ms)))
        reply = await self._exchange(words, sensitive, _seconds(int(timeout_ms)))
        if self._hung_up or reply.code != 200:
            self._refuse(reply, sensitive)
        code = self._number(reply, sensitive)
        if code < 0:
            await self._fail("WAIT FOR DIGIT failed")
        return chr(code) if code else None

    async def get_data(
        self, file: str, timeout_ms: int, max_digits: int, *, sensitive: bool = False
    ) -> tuple[str, bool]:
        """Play ``file``, collect up to ``max_digits`` (``#`` ends early): (digits, timed_out)."""
        if max_digits < 1:
            raise ValueError("max_digits must be at least 1")
        # Asterisk waits up to the time-out for each digit (6 s when none is given)
        waits = max(int(timeout_ms), 6000) / 1000 * max_digits
        words = ("GET", "DATA", quote_argument(file), str(int(timeout_ms)), str(int(max_digits)))
        reply = await self._exchange(words, sensitive, waits)
        if self._hung_up or reply.code != 200:
            self._refuse(reply, sensitive)
        if reply.result == "-1":
            await self._fail(f"GET DATA with {file!r} failed")
        return reply.result, reply.data == "timeout"

    async def record_file(
        self,
        path_without_ext: str,
        fmt: str,
        escape_digits: str,
        timeout_ms: int,
        *,
        beep: bool = True,
        silence_s: int | None = None,
    ) -> RecordResult:
        """Record to ``path_without_ext.fmt``. A hang-up while recording is a result, not an
        exception (the recording exists); the channel is then hung up and the next command raises.
        """
        words = ["RECORD", "FILE", quote_argument(path_without_ext), quote_argument(fmt)]
        words += [quote_argument(escape_digits), str(int(timeout_ms))]
        if beep:
            words.append("BEEP")
        if silence_s is not None:
            words.append(f"s={int(silence_s)}")
        reply = await self._exchange(tuple(words), False, _seconds(int(timeout_ms)))
        if reply.code != 200 and self._hung_up:
            raise AGIHangup(f"caller hung up before {self.last_command}")
        self._check(reply, False)
        endpos = reply.endpos or 0
        if reply.data in ("hangup", "waitfor"):  # waitfor: the channel went away under us
            self._hung_up = True
            return RecordResult(None, "hangup", endpos)
        if reply.data == "dtmf":
            return RecordResult(chr(reply.result_int), "dtmf", endpos)
        if reply.data == "timeout":
            # Asterisk answers "(timeout)" for silence too; a stop well before the limit is silence
            early = timeout_ms <= 0 or endpos < (timeout_ms - 1000) * 8
            return RecordResult(None, "silence" if silence_s and early else "timeout", endpos)
        if self._hung_up:
            raise AGIHangup(f"caller hung up during {self.last_command}")
        await self._fail(f"recording to {path_without_ext!r} failed: {reply.raw}")

    async def set_variable(self, name: str, value: str, *, sensitive: bool = False) -> None:
        words = ("SET", "VARIABLE", quote_argument(name), quote_argument(value))
        reply = await self._exchange(words, sensitive)
        if self._hung_up or reply.code != 200:
            self._refuse(reply, sensitive)

    async def get_variable(self, name: str, *, sensitive: bool = False) -> str | None:
        """The variable's value (or a function's, e.g. "CHANNEL(language)"); None when unset."""
        reply = await self.command("GET", "VARIABLE", quote_argument(name), sensitive=sensitive)
        return (reply.data or "") if reply.result == "1" else None

    async def exec(
        self, app: str, *args: str, sensitive: bool = False, waits: float | None = 0.0
    ) -> Reply:
        """Run a dialplan application; its arguments are joined with "," as in the dialplan.
        ``waits``: how long the application may run beyond the reply allowance (None: for ever,
        e.g. Dial)."""
        words = ["EXEC", quote_argument(app)]
        if args:
            words.append(quote_argument(",".join(args)))
        reply = await self.command(*words, sensitive=sensitive, waits=waits)
        if reply.result == "-2":
            raise AGICommandError(
                f"no dialplan application {app!r}", command=self.last_command or ""
            )
        return reply

    async def verbose(self, message: str, level: int = 1) -> None:
        await self.command("VERBOSE", quote_argument(message), str(int(level)))

    async def hangup(self) -> None:
        """Hang up the call. Idempotent: on a channel already hung up it does nothing."""
        if self._hung_up:
            return
        with contextlib.suppress(AGIHangup):
            await self.command("HANGUP")
        self._hung_up = True  # Asterisk answers later commands with 511 (after a HANGUP line)

    async def set_language(self, language: str) -> None:
        """Switch the sound language (Asterisk's sound folder name: zh, en, es)."""
        if not _LANGUAGE.fullmatch(language):
            raise ValueError(f"not a language name: {language!r}")
        await self.command("SET", "VARIABLE", "CHANNEL(language)", quote_argument(language))
        self._language = language
