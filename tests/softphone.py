"""A real SIP softphone for end-to-end tests: baresip, headless, keeping what the caller hears.

**The phone.** ``Softphone`` runs one baresip 1.0.0 (Debian 12) with a configuration folder of its
own (``-f``), on 127.0.0.1 only. It is driven over baresip's ``ctrl_tcp`` module: JSON commands
in netstrings (the ``menu`` module's long commands: ``uanew``, ``dial``, ``sndcode``, ``hangup``,
``quit``) with a reply each, and the phone's events (``REGISTER_OK``, ``CALL_ESTABLISHED``,
``CALL_CLOSED``...) on the same connection. The account is created with ``uanew`` once the control
connection is open, so its registration events cannot be missed. One call per phone.

**Audio.** This baresip has no audio player that writes a file (``aufile`` is a source only), and
no sound card exists here. So no player module is loaded at all (baresip then decodes and filters
what it receives but plays it nowhere), and the ``sndfile`` filter writes every received sample,
decoded, to a WAV file: ``received.wav`` once the phone has stopped (what it sent is ``sent.wav``).
It holds what the RTP packets carried, back to back: a time without RTP (Asterisk sends none
before its first prompt) leaves no gap.
The microphone is ``aufile`` reading a silent WAV; baresip ends the call when that file runs out,
so it lasts a little longer than the phone may live.

**Never stuck.** baresip quits by itself after ``limit_s`` (``-t``), every wait is bounded, and
``stop()`` kills the process when ``quit`` is not enough. Its output, SIP trace included, and the
control conversation (password masked) stay in the phone's folder, by default
``test-output/softphone/<test name>/``.

**Did the caller hear it?** ``match_prompt`` (from ``tests/promptmatch.py``, re-exported here)
tells whether a recording holds a given prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import socket
import tempfile
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.paths import REPO_ROOT
from tests.promptmatch import PromptMatch, Sound, contains_prompt, match_prompt, read_wav

__all__ = [
    "OUTPUT",
    "Account",
    "PromptMatch",
    "Softphone",
    "SoftphoneError",
    "Sound",
    "contains_prompt",
    "encode_netstring",
    "match_prompt",
    "read_wav",
    "require_baresip",
    "split_netstrings",
]

OUTPUT = REPO_ROOT / "test-output" / "softphone"
MODULES = Path("/usr/lib/baresip/modules")
# g711: PCMU/PCMA; aufile: the silent microphone; sndfile: the received-audio dump; ctrl_tcp and
# menu: the control connection and its commands.
NEEDED_MODULES = ("g711", "aufile", "sndfile", "ctrl_tcp", "menu")
RATE = 8000  # G.711's sample rate: the silent microphone must match the codec's

Event = dict[str, Any]


class SoftphoneError(RuntimeError):
    pass


def require_baresip() -> None:
    """baresip and the modules the kit loads, or an error saying what to install."""
    if shutil.which("baresip") is None:
        raise SoftphoneError("baresip is not installed: apt-get install baresip-core")
    missing = [name for name in NEEDED_MODULES if not (MODULES / f"{name}.so").is_file()]
    if missing:
        raise SoftphoneError(
            f"baresip modules missing in {MODULES}: {', '.join(missing)} (apt-get install "
            "baresip-core)"
        )


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- ctrl_tcp framing (pure) ----------------------------------------------------------------------


def encode_netstring(payload: bytes) -> bytes:
    return b"%d:%s," % (len(payload), payload)


def split_netstrings(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The complete netstrings at the start of ``buffer`` and the incomplete rest."""
    messages: list[bytes] = []
    while buffer:
        length, colon, rest = buffer.partition(b":")
        if not length.isdigit():
            raise SoftphoneError(f"not a netstring: {buffer[:40]!r}")
        size = int(length)
        if not colon or len(rest) < size + 1:
            break  # the rest is still on its way
        if rest[size : size + 1] != b",":
            raise SoftphoneError(f"netstring without its comma: {buffer[:40]!r}")
        messages.append(rest[:size])
        buffer = rest[size + 1 :]
    return messages, buffer


# --- the phone ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A SIP account on the hotline's Asterisk: ``user`` at ``host:port`` over UDP."""

    user: str
    password: str
    host: str = "127.0.0.1"
    port: int = 5060
    codec: str = "PCMU"

    @property
    def aor(self) -> str:
        return f"sip:{self.user}@{self.host}:{self.port}"

    def line(self) -> str:
        """The account as baresip's ``uanew`` takes it (no message-waiting subscription)."""
        return (
            f"<{self.aor};transport=udp>;auth_pass={self.password};"
            f"audio_codecs={self.codec};mwi=no;regint=600"
        )

    def masked(self, text: str) -> str:
        return text.replace(self.password, "***") if self.password else text


def _write_silence(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(RATE)
        sound.writeframes(bytes(2 * round(RATE * seconds)))


class Softphone:
    """One baresip registered as ``account``, making one call; logs and audio in ``folder``."""

    def __init__(self, account: Account, folder: Path, *, limit_s: float = 120.0) -> None:
        self.account = account
        self.folder = folder
        self.limit_s = limit_s
        self.events: list[Event] = []
        self.returncode: int | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._config: Path | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._replies: dict[str, asyncio.Future[Event]] = {}
        self._changed = asyncio.Condition()
        self._lost = False  # the control connection ended: no event will come any more
        self._tokens = itertools.count(1)
        self._dialled = False

    @classmethod
    def for_test(cls, account: Account, test_name: str, *, limit_s: float = 120.0) -> Softphone:
        """A phone whose files go to ``test-output/softphone/<test_name>/``, emptied first."""
        folder = OUTPUT / test_name
        shutil.rmtree(folder, ignore_errors=True)
        return cls(account, folder, limit_s=limit_s)

    @property
    def recording(self) -> Path:
        """Every sample the phone received in its call, decoded (complete once stopped)."""
        return self.folder / "received.wav"

    @property
    def log(self) -> Path:
        return self.folder / "baresip.log"

    @property
    def control_log(self) -> Path:
        return self.folder / "control.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def __aenter__(self) -> Softphone:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- start-up ---------------------------------------------------------------------------------

    def _write_config(self, folder: Path, ctrl_port: int) -> None:
        microphone = folder / "silence.wav"
        _write_silence(microphone, self.limit_s + 10)
        config = f"""\
poll_method		epoll
sip_listen		127.0.0.1:{_free_port(socket.SOCK_DGRAM)}
net_interface		127.0.0.1
call_local_timeout	{round(self.limit_s)}
call_max_calls		1
audio_source		aufile,{microphone}
audio_level		no
jitter_buffer_delay	0-0
rtp_stats		yes
module_path		{MODULES}
module			g711.so
module			aufile.so
module			sndfile.so
module			ctrl_tcp.so
module_app		menu.so
snd_path		{self.folder}
ctrl_tcp_listen		127.0.0.1:{ctrl_port}
"""
        (folder / "config").write_text(config)
        (folder / "accounts").write_text("")  # the account comes with uanew
        (self.folder / "config").write_text(config)

    async def start(self, *, register_within: float = 10.0) -> None:
        """Start baresip, open its control connection, register the account."""
        require_baresip()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._config = Path(tempfile.mkdtemp(prefix="hotline-baresip-"))
        ctrl_port = _free_port(socket.SOCK_STREAM)
        self._write_config(self._config, ctrl_port)
        # -4: IPv4 only; -s: SIP trace in the log; -t: quit by itself, whatever the test does.
        command = ["baresip", "-4", "-s", "-f", str(self._config), "-t", str(round(self.limit_s))]
        (self.folder / "command").write_text(" ".join(command) + "\n")
        with self.log.open("wb") as out:
            self._process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.folder,
            )
        try:
            await self._connect(ctrl_port, within=5.0)
            await self.command("uanew", self.account.line())
            event = await self.wait_event(
                lambda e: e.get("type") in ("REGISTER_OK", "REGISTER_FAIL"), within=register_within
            )
            if event["type"] != "REGISTER_OK":
                raise SoftphoneError(f"{self.account.aor} did not register: {event.get('param')}")
        except BaseException:
            await self.stop(within=1.0)  # unregistering from a server that is not there waits
            raise

    async def _connect(self, port: int, within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                self._reader, self._writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                if not self.running or time.monotonic() > deadline:
                    raise SoftphoneError(
                        f"baresip's control port {port} did not open\n{self.report()}"
                    ) from None
                await asyncio.sleep(0.05)
        self.control_log.write_text("")
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._reader is not None
        buffer = b""
        try:
            while chunk := await self._reader.read(4096):
                messages, buffer = split_netstrings(buffer + chunk)
                for raw in messages:
                    self._note("<- " + self.account.masked(raw.decode(errors="replace")))
                    message: Event = json.loads(raw)
                    token = str(message.get("token", ""))
                    if message.get("response") and token in self._replies:
                        self._replies.pop(token).set_result(message)
                    elif message.get("event"):
                        async with self._changed:
                            self.events.append(message)
                            self._changed.notify_all()
        finally:
            async with self._changed:
                self._lost = True
                self._changed.notify_all()
            for reply in self._replies.values():
                if not reply.done():
                    reply.set_exception(SoftphoneError("baresip's control connection closed"))

    def _note(self, line: str) -> None:
        with self.control_log.open("a") as log:
            log.write(f"{time.strftime('%H:%M:%S')} {line}\n")

    # -- commands and events ----------------------------------------------------------------------

    async def command(self, name: str, params: str = "", *, within: float = 5.0) -> Event:
        """Run one of baresip's long commands; its reply, or SoftphoneError when it failed."""
        if self._writer is None or self._lost:
            raise SoftphoneError(f"{name}: baresip is not under control\n{self.report()}")
        token = f"t{next(self._tokens)}"
        message: dict[str, str] = {"command": name, "token": token}
        if params:
            message["params"] = params
        payload = json.dumps(message).encode()
        reply: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._replies[token] = reply
        self._note("-> " + self.account.masked(payload.decode()))
        self._writer.write(encode_netstring(payload))
        await self._writer.drain()
        try:
            answer = await asyncio.wait_for(reply, within)
        except TimeoutError:
            self._replies.pop(token, None)
            raise SoftphoneError(f"{name}: no reply in {within:g} s\n{self.report()}") from None
        if not answer.get("ok"):
            raise SoftphoneError(f"{name} failed: {answer.get('data')!r}\n{self.report()}")
        return answer

    async def wait_event(self, match: Callable[[Event], bool], *, within: float) -> Event:
        """The first event (since the start) that ``match``es; SoftphoneError after ``within``."""

        async def found() -> Event:
            async with self._changed:
                seen = 0
                while True:
                    for event in self.events[seen:]:
                        if match(event):
                            return event
                    seen = len(self.events)
                    if self._lost:
                        raise SoftphoneError(f"baresip went away\n{self.report()}")
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(found(), within)
        except TimeoutError:
            raise SoftphoneError(f"no such event in {within:g} s\n{self.report()}") from None

    def _call_event(self, *types: str) -> Callable[[Event], bool]:
        return lambda e: e.get("class") == "call" and e.get("type") in types

    # -- the call ---------------------------------------------------------------------------------

    async def dial(self, number: str, *, within: float = 15.0) -> None:
        """Call ``number`` at the account's server; returns once the call is answered."""
        if self._dialled:
            raise SoftphoneError("one call per Softphone: start another for the next call")
        self._dialled = True
        await self.command("dial", number)
        event = await self.wait_event(
            self._call_event("CALL_ESTABLISHED", "CALL_CLOSED"), within=within
        )
        if event["type"] != "CALL_ESTABLISHED":
            raise SoftphoneError(f"call to {number} not answered: {event.get('param')}")

    async def send_keys(self, keys: str, *, gap_s: float = 0.25) -> None:
        """Key ``keys`` as RFC 4733 telephone events, one key every ``gap_s`` seconds."""
        for key in keys:
            await self.command("sndcode", key)  # the key, then its release: one event
            await asyncio.sleep(gap_s)

    async def hang_up(self, *, within: float = 10.0) -> None:
        await self.command("hangup")
        await self.closed(within=within)

    async def closed(self, *, within: float) -> str:
        """Wait for the call to end (either side); baresip's reason."""
        event = await self.wait_event(self._call_event("CALL_CLOSED"), within=within)
        return str(event.get("param", ""))

    async def call(
        self, number: str, *, seconds: float, keys: Sequence[tuple[float, str]] = ()
    ) -> Path:
        """Dial ``number``, stay ``seconds`` from the answer, keying each ``(at, keys)`` of
        ``keys`` ``at`` seconds after the answer; hang up, stop; the recording of what was heard."""
        await self.dial(number)
        started = time.monotonic()
        for at, entry in sorted(keys):
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            await self.send_keys(entry)
        await asyncio.sleep(max(0.0, started + seconds - time.monotonic()))
        await self.hang_up()
        await self.stop()
        return self.recording

    # -- shutting down ----------------------------------------------------------------------------

    async def stop(self, *, within: float = 5.0) -> int | None:
        """``quit``, killed after ``within`` seconds; then the recordings get their names."""
        if self.running and self._writer is not None and not self._lost:
            with contextlib.suppress(SoftphoneError, OSError):
                await self.command("quit", within=1.0)
        await self._finish(within)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._config is not None:
            shutil.rmtree(self._config, ignore_errors=True)
            self._config = None
        # sndfile names its dumps dump-<time>-dec.wav (what came in) and -enc.wav (what went out).
        for suffix, name in (("dec", "received.wav"), ("enc", "sent.wav")):
            for dump in sorted(self.folder.glob(f"dump-*-{suffix}.wav")):
                dump.replace(self.folder / name)
        return self.returncode

    async def _finish(self, within: float) -> None:
        if self._process is None:
            return
        try:
            self.returncode = await asyncio.wait_for(self._process.wait(), within)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            self.returncode = await self._process.wait()
            self._note(f"baresip killed: still running {within:g} s after quit")

    async def kill(self) -> None:
        """Stop at once (a failed test's teardown)."""
        await self.stop(within=0.5)

    def report(self, tail: int = 30) -> str:
        """What to print when a call went wrong: exit status, the end of the log and events."""
        parts = [f"--- baresip {self.account.user}: exit {self.returncode}, files in {self.folder}"]
        for path in (self.log, self.control_log):
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()
                parts += [f"--- {path.name}:", *(self.account.masked(x) for x in lines[-tail:])]
        return "\n".join(parts)
