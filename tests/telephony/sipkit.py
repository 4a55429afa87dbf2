"""Real SIP calls for the end-to-end tests: sipp callers and agents, their RTP, their logs.

**DTMF.** sipp ships one RFC 2833 capture per key (``dtmf_2833_<key>.pcap``), but each carries a
fixed RTP timestamp and sequence number: Asterisk drops an event-end whose timestamp is not newer
than the last one, so replayed as they are, a repeated key (``11...``) or a key whose capture is
older (``2`` then ``1``) vanishes. Each entry is therefore rebuilt from the shipped captures into
one capture of its own, on one RTP stream per call: one SSRC, sequence numbers that only go up,
and timestamps that follow the call's clock.

**Timing.** The flow reads one entry at a time and a key pressed while it is busy elsewhere is
lost, while sipp cannot see what the flow is doing. A caller is scripted as steps, each keyed
``after`` seconds counted from the end of the step before; the tests derive those seconds from
the flow's definitions and the built prompts' lengths (``PromptClock``). Prompts that wait for
input let a key interrupt them, so an entry is keyed ``LEAD`` seconds after the flow started the
prompt asking for it: late enough for the flow's own work in between (database, AGI round trips),
and still early inside the prompt (or its time-out) that accepts it. Only prompts that cannot be
interrupted and time-outs the caller sits through are summed.

**Logs.** Every run keeps its scenario, captures and sipp's own logs (messages, errors, the
``<log>`` lines marking each entry, the final screen) under ``test-output/sipp/<test>/<role>/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import socket
import struct
import time
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from ivr.config import Settings
from ivr.engine.context import CallContext
from ivr.engine.model import Once, Prompts
from ivr.engine.speak import expand
from ivr.prompts.build import built_sound_path
from tests.paths import REPO_ROOT

SHIPPED = Path("/usr/share/sip-tester")  # Debian sip-tester's captures
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
OUTPUT = REPO_ROOT / "test-output" / "sipp"

DIGIT_PERIOD = 0.25  # one key every 250 ms: the captures' 140 ms of tone, then 110 ms apart
LEAD = 2.0  # how long after the flow started a prompt that accepts the entry it is keyed
RATE = 8000  # RTP clock of G.711 and telephone-event

_KEY_CAPTURES = {d: f"dtmf_2833_{d}.pcap" for d in "0123456789"}
_KEY_CAPTURES.update({"*": "dtmf_2833_star.pcap", "#": "dtmf_2833_pound.pcap"})
SPEECH_CAPTURE = "g711a.pcap"  # 7 s of a voice in G.711 A-law (PCMA, payload type 8)

__all__ = [
    "LEAD",
    "OUTPUT",
    "AgentPhone",
    "AwaitHangup",
    "HangUp",
    "Key",
    "PromptClock",
    "SippError",
    "SippProcess",
    "Speak",
    "caller_sipp",
    "free_udp_port",
    "require_sipp",
    "write_caller",
]


class SippError(RuntimeError):
    pass


def require_sipp() -> None:
    """sipp and its captures, or an error saying what to install."""
    if shutil.which("sipp") is None:
        raise SippError("sipp is not installed: apt-get install sip-tester")
    missing = [
        name for name in (*_KEY_CAPTURES.values(), SPEECH_CAPTURE) if not (SHIPPED / name).is_file()
    ]
    if missing:
        raise SippError(f"sip-tester's captures are missing in {SHIPPED}: {', '.join(missing)}")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# sipp binds four media ports from the one it is given (audio and video, RTP and RTCP). Handed out
# in turn below the kernel's ephemeral range (32768-) and above Asterisk's RTP (10000-), so tens of
# concurrent callers never draw overlapping blocks.
_MEDIA_PORTS = itertools.cycle(range(22000 + 4 * (os.getpid() % 500), 32000, 4))


def free_media_ports() -> int:
    """The first of four free consecutive UDP ports, for one sipp's media."""
    for _ in range(2500):
        base = next(_MEDIA_PORTS)
        try:
            with contextlib.ExitStack() as probes:
                for port in range(base, base + 4):
                    probe = probes.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise SippError("no four free consecutive UDP ports for sipp's media")


# --- prompt lengths -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptClock:
    """How long the built prompts play, read from their wav files."""

    settings: Settings
    language: str = "zh"

    def seconds(self, *keys: str) -> float:
        total = 0.0
        for key in keys:
            path = built_sound_path(self.settings, self.language, key)
            with wave.open(str(path)) as sound:
                total += sound.getnframes() / sound.getframerate()
        return total

    def says(self, parts: Prompts, **values: Any) -> float:
        """How long the engine plays ``parts``: prompt keys, choices and read-back values expanded
        from ``values`` exactly as in a call (``hotline``, ``pension_balance``, ...)."""
        ctx = CallContext(hotline=str(values.get("hotline", "")), language=self.language)
        ctx.vars.update(values)
        return self.seconds(*expand(parts, ctx))

    def says_at_most(self, parts: Prompts, **candidates: Iterable[Any]) -> float:
        """The longest ``parts`` can play when each value is one of its ``candidates``."""
        total = 0.0
        for part in parts:
            if isinstance(part, str):
                total += self.seconds(part)
            elif isinstance(part, Once):  # at most: said, the first time in a call
                total += self.seconds(part.key)
            else:
                total += max(self.says((part,), **{part.var: v}) for v in candidates[part.var])
        return total


# --- captures -------------------------------------------------------------------------------------

_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")
_PCAP_MAGIC = 0xA1B2C3D4  # microsecond time stamps, little-endian


@dataclass(frozen=True)
class Frame:
    at: float  # seconds from the start of its capture
    data: bytes  # the link-layer frame
    rtp: int  # where the RTP header starts in ``data``

    @property
    def seq(self) -> int:
        value: int = struct.unpack_from(">H", self.data, self.rtp + 2)[0]
        return value

    @property
    def timestamp(self) -> int:
        value: int = struct.unpack_from(">I", self.data, self.rtp + 4)[0]
        return value


def read_capture(path: Path) -> list[Frame]:
    """The RTP frames of a classic pcap of Ethernet/IPv4/UDP packets (as sipp ships them)."""
    raw = path.read_bytes()
    magic, _, _, _, _, _, link = _PCAP_HEADER.unpack_from(raw)
    if magic != _PCAP_MAGIC or link != 1:
        raise SippError(f"{path}: not a little-endian Ethernet pcap")
    frames: list[Frame] = []
    offset, first = _PCAP_HEADER.size, None
    while offset < len(raw):
        sec, usec, length, _ = _PCAP_RECORD.unpack_from(raw, offset)
        offset += _PCAP_RECORD.size
        data = raw[offset : offset + length]
        offset += length
        stamp = sec + usec / 1e6
        first = stamp if first is None else first
        ip_header = (data[14] & 0x0F) * 4
        frames.append(Frame(stamp - first, data, 14 + ip_header + 8))
    return frames


def write_capture(path: Path, frames: Sequence[Frame]) -> None:
    out = bytearray(_PCAP_HEADER.pack(_PCAP_MAGIC, 2, 4, 0, 0, 65535, 1))
    for frame in frames:
        micro = round(frame.at * 1e6)
        sec, usec = divmod(micro, 1_000_000)
        out += _PCAP_RECORD.pack(sec, usec, len(frame.data), len(frame.data)) + frame.data
    path.write_bytes(bytes(out))


class RtpStream:
    """A caller's outgoing RTP: one SSRC, rising sequence numbers, timestamps on the call clock."""

    def __init__(self, ssrc: int = 0x12333000) -> None:
        self.ssrc = ssrc
        self.next_seq = 1000
        self.base = 80_000

    def timestamp(self, at: float) -> int:
        return (self.base + round(at * RATE)) & 0xFFFFFFFF

    def restamp(self, frames: Sequence[Frame], *, start: float, ts: int) -> list[Frame]:
        """``frames`` from a shipped capture, moved to ``start`` s in the new capture.

        Sequence numbers continue the stream's, keeping the capture's own gaps and repeats (an
        event's end is sent three times with one number); timestamps become ``ts`` plus the
        capture's own offsets, so one key keeps one timestamp.
        """
        first_seq, first_ts = frames[0].seq, frames[0].timestamp
        out = []
        for frame in frames:
            data = bytearray(frame.data)
            seq = (self.next_seq + frame.seq - first_seq) & 0xFFFF
            stamp = (ts + frame.timestamp - first_ts) & 0xFFFFFFFF
            struct.pack_into(">HII", data, frame.rtp + 2, seq, stamp, self.ssrc)
            out.append(Frame(start + frame.at, bytes(data), frame.rtp))
        self.next_seq = (self.next_seq + max(f.seq - first_seq for f in frames) + 1) & 0xFFFF
        return out

    def keys(self, entry: str, at: float) -> list[Frame]:
        """One entry (``"11010519491231002*#"``) as RFC 2833 events, DIGIT_PERIOD apart."""
        frames: list[Frame] = []
        for index, key in enumerate(entry):
            try:
                shipped = _shipped(_KEY_CAPTURES[key])
            except KeyError:
                raise SippError(f"no capture for key {key!r} in entry {entry!r}") from None
            start = index * DIGIT_PERIOD
            frames += self.restamp(shipped, start=start, ts=self.timestamp(at + start))
        return frames

    def speech(self, seconds: float, at: float) -> list[Frame]:
        """The first ``seconds`` of sipp's recorded voice."""
        shipped = [f for f in _shipped(SPEECH_CAPTURE) if f.at < seconds]
        return self.restamp(shipped, start=0.0, ts=self.timestamp(at))


_SHIPPED_CACHE: dict[str, list[Frame]] = {}


def _shipped(name: str) -> list[Frame]:
    if name not in _SHIPPED_CACHE:
        _SHIPPED_CACHE[name] = read_capture(SHIPPED / name)
    return _SHIPPED_CACHE[name]


# --- the caller's script --------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """Key ``entry`` (digits, ``*``, ``#``) ``after`` seconds after the previous step ended."""

    entry: str
    after: float
    note: str = ""


@dataclass(frozen=True)
class Speak:
    """Talk for ``seconds`` (sipp's recorded voice), ``after`` seconds after the previous step."""

    seconds: float
    after: float
    note: str = ""


@dataclass(frozen=True)
class HangUp:
    """The caller hangs up (BYE) ``after`` seconds after the last step."""

    after: float


@dataclass(frozen=True)
class AwaitHangup:
    """The caller stays on the line until Asterisk hangs up, at most ``within`` seconds."""

    within: float


Step = Key | Speak


@dataclass(frozen=True)
class CallerFiles:
    scenario: Path
    folder: Path
    seconds: float  # the longest the scenario can last once the call is answered


_SDP = """v=0
o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv"""

# UPDATE allowed: Asterisk then refreshes the connected line (agent answered) with an UPDATE,
# which sipp's -aa answers at any point of the script, rather than with a re-INVITE.
_ALLOW = "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE"


def _invite(user: str, cseq: int, auth: bool) -> str:
    authorization = "[authentication]\n" if auth else ""
    return f"""INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Tester {user}" <sip:{user}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:{user}@[local_ip]:[local_port]>
{authorization}Max-Forwards: 70
{_ALLOW}
User-Agent: hotline-tests sipp
Content-Type: application/sdp
Content-Length: [len]

{_SDP}
"""


def _cdata(text: str) -> str:
    return f"<![CDATA[\n{text}\n]]>"


def _caller_xml(user: str, media: list[str], ending: list[str], challenge: int) -> str:
    ack_401 = f"""ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: "Tester {user}" <sip:{user}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
"""
    ack = f"""ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Tester {user}" <sip:{user}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 2 ACK
Contact: <sip:{user}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
"""
    lines = [
        '<?xml version="1.0" encoding="ISO-8859-1" ?>',
        f'<scenario name="hotline caller {user}">',
        f'  <send retrans="500">{_cdata(_invite(user, 1, auth=False))}</send>',
        '  <recv response="100" optional="true"/>',
        f'  <recv response="{challenge}" auth="true"/>',
        f"  <send>{_cdata(ack_401)}</send>",
        f'  <send retrans="500">{_cdata(_invite(user, 2, auth=True))}</send>',
        '  <recv response="100" optional="true"/>',
        '  <recv response="180" optional="true"/>',
        '  <recv response="183" optional="true"/>',
        '  <recv response="200" rtd="true" rrs="true"/>',  # rrs: [next_url] from its Contact
        f"  <send>{_cdata(ack)}</send>",
        '  <nop><action><log message="answered"/></action></nop>',
        *media,
        *ending,
        "</scenario>",
    ]
    return "\n".join(lines) + "\n"


def _hang_up(user: str, pause_ms: int) -> list[str]:
    bye = f"""BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Tester {user}" <sip:{user}@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 3 BYE
Contact: <sip:{user}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
"""
    return [
        f'  <pause milliseconds="{pause_ms}"/>',
        '  <nop><action><log message="caller hangs up"/></action></nop>',
        f'  <send retrans="500">{_cdata(bye)}</send>',
        '  <recv response="200" crlf="true"/>',
    ]


def _await_hangup(pause_ms: int, within_ms: int) -> list[str]:
    ok = """SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
"""
    return [
        f'  <pause milliseconds="{pause_ms}"/>',
        '  <nop><action><log message="caller waits for the hotline to hang up"/></action></nop>',
        f'  <recv request="BYE" timeout="{within_ms}"/>',
        f"  <send>{_cdata(ok)}</send>",
        '  <nop><action><log message="hotline hung up"/></action></nop>',
    ]


def write_caller(
    folder: Path,
    *,
    user: str,
    steps: Sequence[Step],
    end: HangUp | AwaitHangup,
    challenge: int = 401,
) -> CallerFiles:
    """Write the caller's scenario and one capture per step into ``folder`` (emptied first).

    ``challenge``: Asterisk asks the caller to authenticate with 401; a proxy (Kamailio) with 407.

    The scenario plays each capture at its time: a pause of ``after`` seconds counted from the end
    of the previous step's sound, then the capture (sipp plays it in the background, so the next
    pause also covers the capture's own length).
    """
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "captures").mkdir(parents=True)
    stream = RtpStream()
    media: list[str] = []
    clock = 0.0  # where the scenario is: the end of the last pause
    sound_end = 0.0  # when the last capture stops playing
    for index, step in enumerate(steps, start=1):
        at = sound_end + step.after
        if isinstance(step, Key):
            frames = stream.keys(step.entry, at)
            shown = step.entry
        else:
            frames = stream.speech(step.seconds, at)
            shown = f"{step.seconds:g} s of speech"
        capture = folder / "captures" / f"{index:02d}.pcap"
        write_capture(capture, frames)
        length = frames[-1].at if frames else 0.0
        note = f"step {index} at {at:.2f} s: {shown}" + (f" ({step.note})" if step.note else "")
        media += [
            f'  <pause milliseconds="{round((at - clock) * 1000)}"/>',
            "  <nop><action>",
            f'    <exec play_pcap_audio="{capture}"/>',
            f'    <log message="{escape(note, {chr(34): "&quot;"})}"/>',
            "  </action></nop>",
        ]
        clock, sound_end = at, at + length + 0.05
    last_pause = round((sound_end - clock) * 1000)
    if isinstance(end, HangUp):
        ending = _hang_up(user, last_pause + round(end.after * 1000))
        total = sound_end + end.after + 10
    else:
        ending = _await_hangup(last_pause, round(end.within * 1000))
        total = sound_end + end.within + 10
    scenario = folder / "caller.xml"
    scenario.write_text(_caller_xml(user, media, ending, challenge))
    return CallerFiles(scenario, folder, total)


# --- running sipp ---------------------------------------------------------------------------------


@dataclass
class SippProcess:
    """One sipp run: started in the background, finished within a time limit, logs kept."""

    name: str
    folder: Path
    args: list[str]
    process: asyncio.subprocess.Process | None = None
    returncode: int | None = None
    sip_port: int = field(default_factory=free_udp_port)
    media_port: int = field(default_factory=free_media_ports)

    def files(self) -> dict[str, Path]:
        return {
            name: self.folder / f"{self.name}.{name}.log"
            for name in ("messages", "errors", "logs", "screen", "stderr", "stdout")
        }

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        files = self.files()
        for path in files.values():
            path.unlink(missing_ok=True)
        command = [
            "sipp",
            *self.args,
            "-i", "127.0.0.1",
            "-p", str(self.sip_port),
            "-mi", "127.0.0.1",
            "-mp", str(self.media_port),
            "-t", "u1",
            "-nostdin",
            "-trace_msg", "-message_file", str(files["messages"]),
            "-trace_err", "-error_file", str(files["errors"]),
            "-trace_logs", "-log_file", str(files["logs"]),
            "-trace_screen", "-screen_file", str(files["screen"]),
        ]  # fmt: skip
        shown = ["***" if prev == "-ap" else word for prev, word in pairwise(["", *command])]
        (self.folder / f"{self.name}.command").write_text(" ".join(shown) + "\n")
        with files["stdout"].open("wb") as out, files["stderr"].open("wb") as err:
            self.process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err, cwd=self.folder
            )

    async def finish(self, timeout: float) -> int:  # noqa: ASYNC109 - a bound, then it is killed
        """Wait for sipp to exit; after ``timeout`` seconds it is killed and SippError raised."""
        assert self.process is not None, "start() first"
        try:
            self.returncode = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.kill()
            message = f"{self.name}: sipp still running after {timeout:.0f} s"
            raise SippError(f"{message}\n{self.report()}") from None
        return self.returncode

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 5)
            self.returncode = self.process.returncode

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def text(self, which: str) -> str:
        path = self.files()[which]
        return path.read_text(errors="replace") if path.exists() else ""

    def log_lines(self) -> list[str]:
        return [line for line in self.text("logs").splitlines() if line.strip()]

    def report(self, tail: int = 40) -> str:
        """What to print when a call went wrong: exit status, sipp's log lines, errors, stderr."""
        parts = [f"--- sipp {self.name}: exit {self.returncode}, logs in {self.folder}"]
        for which in ("logs", "errors", "stderr"):
            lines = self.text(which).splitlines()
            if lines:
                parts.append(f"--- {which}:")
                parts += lines[-tail:]
        return "\n".join(parts)


def caller_sipp(
    files: CallerFiles, settings: Settings, *, number: str, user: str, name: str = "caller"
) -> SippProcess:
    """A sipp caller (one call) to ``number``, authenticating as tester ``user``."""
    args = [
        f"{settings.sip_host}:{settings.sip_port}",
        "-sf", str(files.scenario),
        "-s", number,
        "-au", user,
        "-ap", settings.sip_password,
        "-m", "1",
        "-l", "1",
        "-aa",
        "-timeout", f"{round(files.seconds + 30)}s",
        "-timeout_error",
    ]  # fmt: skip
    return SippProcess(name, files.folder, args)


# --- an agent's phone -----------------------------------------------------------------------------


@dataclass
class AgentPhone:
    """A sipp registered as agent ``user``: answers the calls the queue rings it with.

    The main scenario registers, then waits for the end of the shift: a NOTIFY on its own dialog
    that the test sends (``end_shift``), after which it unregisters and sipp exits. Requests
    outside that dialog run the out-of-call scenario: OPTIONS (Asterisk's qualify) get 200, an
    INVITE is answered, held until the other side hangs up.
    """

    settings: Settings
    folder: Path
    user: str = "7001"
    sipp: SippProcess = field(init=False)

    def __post_init__(self) -> None:
        args = [
            f"{self.settings.sip_host}:{self.settings.sip_port}",
            "-sf", str(SCENARIOS / "agent_register.xml"),
            "-oocsf", str(SCENARIOS / "agent_phone.xml"),
            "-au", self.user,
            "-ap", self.settings.sip_password,
            "-key", "agent", self.user,
            "-cid_str", "shift-%u@hotline-tests",
            "-m", "1",
            "-l", "1",
            "-aa",
            "-timeout", "300s",
            "-timeout_error",
        ]  # fmt: skip
        self.sipp = SippProcess(f"agent{self.user}", self.folder, args)

    async def start(self) -> None:
        await self.sipp.start()

    def answered(self) -> int:
        return sum("agent answered" in line for line in self.sipp.log_lines())

    def hung_up(self) -> int:
        return sum("agent call ended by the other side" in line for line in self.sipp.log_lines())

    async def calls_ended(self, within: float) -> bool:
        """Every call the phone answered has been hung up by the other side (its BYE answered).

        Asterisk hangs the agent up a moment after the caller: ending the shift before would
        cut the agent's call short.
        """
        deadline = time.monotonic() + within
        while self.answered() != self.hung_up() and self.sipp.running:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    async def end_shift(self, within: float) -> int | None:
        """End the shift: sipp unregisters and exits; its exit status (None: killed, too slow)."""
        if self.sipp.running:
            self._notify_end_of_shift()
        try:
            return await self.sipp.finish(within)
        except SippError:
            return None

    def _notify_end_of_shift(self) -> None:
        """The NOTIFY on the main dialog that ends the main scenario's wait."""
        target = ("127.0.0.1", self.sipp.sip_port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            own = sock.getsockname()[1]
            request = (
                f"NOTIFY sip:{self.user}@127.0.0.1:{target[1]} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{own};branch=z9hG4bK-end-of-shift\r\n"
                "From: <sip:supervisor@127.0.0.1>;tag=end-of-shift\r\n"
                f"To: <sip:{self.user}@127.0.0.1>\r\n"
                "Call-ID: shift-1@hotline-tests\r\n"  # the main dialog's (-cid_str, call 1)
                "CSeq: 1 NOTIFY\r\n"
                "Event: end-of-shift\r\n"
                "Max-Forwards: 70\r\n"
                "Content-Length: 0\r\n\r\n"
            )
            sock.sendto(request.encode(), target)
