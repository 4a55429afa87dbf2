"""The FastAGI layer against its peers: one recorded 12333 balance call replayed by three servers.

    .venv/bin/python bench/agi_replay.py --calls 1000 --runs 2

This process plays Asterisk: it connects every call at once, sends each one's header block, then
answers each command with the reply Asterisk gave in the recorded call (``agi_replay_call.json``,
13 commands; ``--record`` derives it again from a real call through ``hotline serve`` and the
project's Asterisk emulator). Three servers, each in its own process on loopback, send the same
commands with no database, no hashing and no flow, so what differs is the AGI layer alone:

- ``bare``: a minimal readline/write loop over asyncio streams, the floor;
- ``ivr.agi``: the hotline's FastAGIServer and AGIChannel, through the typed helpers the engine
  uses (stream_file, wait_for_digit and get_data with the ID and password keys sensitive,
  set_variable), with the production reply allowance (``agi_reply_seconds``);
- ``panoramisk``: panoramisk 1.4's FastAGI Application and ``send_command``.

Per-command latency is the time from a reply sent to the next command received (the first
command, after the header block, is left out); CPU per call is the server process's CPU time
over the run (``/proc/<pid>/task/*/schedstat``) divided by the calls. The servers run
interleaved, ``--runs`` rounds of the three, each round in another order, and every figure is
also given as a ratio to the bare responder of the same round, because the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bare_responder import answer_call  # noqa: E402
from ivr.agi import AGIChannel, FastAGIServer  # noqa: E402
from ivr.config import Settings  # noqa: E402
from tests.agipeer import header_block, split_args  # noqa: E402

CALL_FILE = Path(__file__).resolve().parent / "agi_replay_call.json"
SERVERS = ("bare", "ivr.agi", "panoramisk")
SCRIPT = "12333"


@dataclass(frozen=True)
class Exchange:
    command: str  # the command line as Asterisk received it, without its newline
    reply: bytes  # Asterisk's reply, newline included


def load_call(path: Path) -> list[Exchange]:
    data = json.loads(path.read_text())
    return [Exchange(command, reply.encode()) for command, reply in data["exchanges"]]


# -- the three servers (each runs in its own process: ``--serve NAME``) ---------------------------
async def serve_bare(port: int, call: list[Exchange]) -> asyncio.Server:
    payload = [(exchange.command + "\n").encode() for exchange in call]
    return await asyncio.start_server(
        functools.partial(answer_call, payload), "127.0.0.1", port, backlog=4096
    )


Step = Callable[[AGIChannel], Awaitable[object]]


def hotline_steps(call: list[Exchange]) -> list[Step]:
    """Each recorded command as the engine sends it: through the channel's typed helpers, the
    keys of the ID number and the password read as sensitive."""
    steps: list[Step] = []
    entering = False
    for exchange in call:
        argv = split_args(exchange.command)
        words = tuple(word.upper() for word in argv[:3])
        if words[:2] == ("STREAM", "FILE"):
            entering = argv[2].endswith(("enter_id", "enter_password"))
            name, escape = argv[2], argv[3]
            steps.append(lambda ch, n=name, e=escape: ch.stream_file(n, e))
        elif words == ("WAIT", "FOR", "DIGIT"):
            timeout, sensitive = int(argv[3]), entering
            steps.append(lambda ch, t=timeout, s=sensitive: ch.wait_for_digit(t, sensitive=s))
        elif words[:2] == ("GET", "DATA"):  # the rest of the entry, in one listen
            file, timeout, most, sensitive = argv[2], int(argv[3]), int(argv[4]), entering
            steps.append(
                lambda ch, f=file, t=timeout, m=most, s=sensitive: ch.get_data(f, t, m, sensitive=s)
            )
        elif words[:2] == ("SET", "VARIABLE"):
            name, value = argv[2], argv[3]
            steps.append(lambda ch, n=name, v=value: ch.set_variable(n, v))
        else:
            line = exchange.command.split()
            steps.append(lambda ch, w=tuple(line): ch.command(*w))
    return steps


async def serve_hotline(port: int, call: list[Exchange]) -> FastAGIServer:
    steps = hotline_steps(call)

    async def balance(channel: AGIChannel) -> None:
        for step in steps:
            await step(channel)

    server = FastAGIServer(
        {SCRIPT: balance},
        port=port,
        backlog=4096,
        command_timeout=Settings.agi_reply_seconds,  # as ``hotline serve`` runs it
    )
    await server.start()
    return server


async def serve_panoramisk(port: int, call: list[Exchange]) -> asyncio.Server:
    from panoramisk.fast_agi import Application, Request

    commands = [exchange.command for exchange in call]

    async def balance(request: Request) -> None:
        for command in commands:
            await request.send_command(command)

    app = Application()
    app.add_route(SCRIPT, balance)
    return await asyncio.start_server(app.handler, "127.0.0.1", port, backlog=4096)


async def serve(name: str, port: int, call: list[Exchange]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if name == "ivr.agi":
        server = await serve_hotline(port, call)
        print("ready", flush=True)
        await stop.wait()
        await server.stop(grace=1.0)
        return
    starter = serve_bare if name == "bare" else serve_panoramisk
    plain = await starter(port, call)
    async with plain:
        print("ready", flush=True)
        await stop.wait()


# -- Asterisk's side -----------------------------------------------------------------------------
class ReplayedCall(asyncio.Protocol):
    """One call as Asterisk plays it: each command line checked against the recording and
    answered with the recorded reply. A plain protocol, not streams: the emulator's own cost is
    kept small, since it shares the machine with the server it measures."""

    def __init__(self, call: list[Exchange], header: bytes) -> None:
        self._expected = [(exchange.command + "\n").encode() for exchange in call]
        self._replies = [exchange.reply for exchange in call]
        self._header = header
        self._buffer = b""
        self._index = 0
        self._sent_at = 0.0
        self.latencies: list[float] = []
        self.error = ""
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def start(self) -> None:
        assert self._transport is not None
        self._transport.write(self._header)

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        while (end := self._buffer.find(b"\n") + 1) > 0:
            line, self._buffer = self._buffer[:end], self._buffer[end:]
            now = time.perf_counter()
            index = self._index
            if index >= len(self._expected) or line != self._expected[index]:
                self._finish(f"command {index + 1}: {line[:80]!r}")
                return
            if index:
                self.latencies.append(now - self._sent_at)
            self._transport.write(self._replies[index])
            self._sent_at = time.perf_counter()
            self._index += 1

    def eof_received(self) -> bool:
        self._finish("" if self._index == len(self._expected) else "closed early")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(f"connection lost: {exc}")

    def _finish(self, error: str) -> None:
        if self.done.done():
            return
        self.error = error
        self.done.set_result(not error)
        if self._transport is not None:
            self._transport.close()


class _AnsweringWriter:
    """A writer whose every command is answered at once into ``reader``: no socket, no peer."""

    def __init__(self, reader: asyncio.StreamReader, reply: bytes) -> None:
        self.reader, self.reply = reader, reply

    def write(self, data: bytes) -> None:
        self.reader.feed_data(self.reply)

    async def drain(self) -> None:
        pass


async def python_cost_us(commands: int = 50_000) -> dict[str, float]:
    """Each layer's own Python work per command (a STREAM FILE), without the socket: the part of
    the burst's CPU a layer can change. Measured in this process, one layer after the other."""
    from panoramisk.fast_agi import Request

    reply = b"200 result=0 endpos=16000\n"
    line = b'STREAM FILE "hotline/d3" "0123456789*#"\n'

    async def bare(reader: asyncio.StreamReader, writer: _AnsweringWriter) -> None:
        writer.write(line)
        await writer.drain()
        await reader.readline()

    async def hotline(channel: AGIChannel) -> None:
        await channel.stream_file("hotline/d3", "0123456789*#")

    async def panoramisk(request: Request) -> None:
        await request.send_command('STREAM FILE "hotline/d3" "0123456789*#"')

    costs: dict[str, float] = {}
    for name in SERVERS:
        reader = asyncio.StreamReader()
        writer = _AnsweringWriter(reader, reply)
        env = {"agi_uniqueid": "1.1"}
        channel = AGIChannel(reader, writer, env, command_timeout=Settings.agi_reply_seconds)  # type: ignore[arg-type]
        request = Request(None, env, reader, writer)
        started = time.process_time()
        for _ in range(commands):
            if name == "bare":
                await bare(reader, writer)
            elif name == "ivr.agi":
                await hotline(channel)
            else:
                await panoramisk(request)
        costs[name] = round((time.process_time() - started) / commands * 1e6, 2)
    return costs


def cpu_seconds(pid: int) -> float:
    """CPU time of a process so far, all its threads (Linux /proc, in nanoseconds)."""
    return (
        sum(
            int(task.joinpath("schedstat").read_text().split()[0])
            for task in Path(f"/proc/{pid}/task").iterdir()
        )
        / 1e9
    )


def percentile(values: list[float], q: float) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, int(q / 100 * len(data)))] if data else float("nan")


async def measure(
    name: str, port: int, pid: int, calls: int, call: list[Exchange]
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    cpu_before = cpu_seconds(pid)
    headers = [
        header_block(
            "127.0.0.1",
            port,
            SCRIPT,
            caller_id="13800000000",
            uniqueid=f"1700000000.{n}",
            channel=f"PJSIP/6001-{n:08x}",
            language="zh",
        )
        for n in range(calls)
    ]
    replayed = [ReplayedCall(call, header) for header in headers]
    # every call connected before the first header block goes out
    await asyncio.gather(
        *(loop.create_connection(lambda r=r: r, "127.0.0.1", port) for r in replayed)
    )
    started = time.perf_counter()
    for r in replayed:
        r.start()
    outcomes = await asyncio.gather(*(r.done for r in replayed))
    wall = time.perf_counter() - started
    await asyncio.sleep(0.2)  # the server closes its side of the last calls
    cpu = cpu_seconds(pid) - cpu_before
    completed = sum(outcomes)
    latencies = [
        s * 1000 for r, ok in zip(replayed, outcomes, strict=True) if ok for s in r.latencies
    ]
    errors = sorted({r.error for r in replayed if r.error})
    return {
        "server": name,
        "calls": calls,
        "completed": completed,
        "commands": len(latencies),
        "wall_s": round(wall, 3),
        "calls_per_s": round(completed / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "mean_ms": round(statistics.fmean(latencies), 3) if latencies else float("nan"),
        "cpu_ms_per_call": round(cpu * 1000 / max(completed, 1), 3),
        "errors": errors[:5],
    }


async def start_server(name: str, call_file: Path) -> tuple[asyncio.subprocess.Process, int]:
    from bench.agi_load import free_port

    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", name, "--port", str(port), "--call", str(call_file),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    if (await asyncio.wait_for(process.stdout.readline(), 60)).strip() != b"ready":
        raise RuntimeError(f"the {name} server did not start")
    # no probe connection: panoramisk's header loop spins for ever on one closed without a byte
    return process, port


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    call = load_call(args.call)
    servers: dict[str, tuple[asyncio.subprocess.Process, int]] = {}
    rounds: list[list[dict[str, Any]]] = []
    try:
        for name in SERVERS:
            servers[name] = await start_server(name, args.call)
        for number in range(args.runs):
            order = SERVERS[number % 3 :] + SERVERS[: number % 3]  # none always first
            runs = {}
            for name in order:
                process, port = servers[name]
                runs[name] = await measure(name, port, process.pid, args.calls, call)
            rounds.append([runs[name] for name in SERVERS])
    finally:
        for process, _ in servers.values():
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), 30)
    for runs in rounds:
        bare = runs[0]
        for run in runs:
            run["ratio"] = {
                "p50": round(run["p50_ms"] / bare["p50_ms"], 2),
                "p99": round(run["p99_ms"] / bare["p99_ms"], 2),
                "calls_per_s": round(run["calls_per_s"] / bare["calls_per_s"], 2),
                "cpu_per_call": round(run["cpu_ms_per_call"] / bare["cpu_ms_per_call"], 2),
            }
    return {
        "python_us_per_command": await python_cost_us(),
        "calls": args.calls,
        "commands_per_call": len(call),
        "cores": os.cpu_count(),
        "reply_allowance_s": Settings.agi_reply_seconds,
        "rounds": rounds,
        "medians": medians(rounds),
    }


def medians(rounds: list[list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Each server's figures and ratios, the median over the rounds (the machine is shared: one
    round can be slowed by another process)."""
    figures = ("p50_ms", "p99_ms", "calls_per_s", "cpu_ms_per_call")
    ratios = ("p50", "p99", "calls_per_s", "cpu_per_call")
    result: dict[str, dict[str, float]] = {}
    for name in SERVERS:
        runs = [run for runs in rounds for run in runs if run["server"] == name]
        summary = {key: round(statistics.median(r[key] for r in runs), 3) for key in figures}
        for key in ratios:
            summary[f"x_{key}"] = round(statistics.median(r["ratio"][key] for r in runs), 2)
        result[name] = summary
    return result


def report(result: dict[str, Any]) -> None:
    print(
        f"{result['calls']} calls connected at once, {result['commands_per_call']} AGI commands "
        f"each, {result['cores']} cores; ratios to the bare responder of the same round"
    )
    print(
        f"{'server':<12}{'done':>6}{'p50 ms':>9}{'p99 ms':>9}{'calls/s':>9}{'CPU ms/call':>12}"
        f"{'p50 x':>7}{'p99 x':>7}{'rate x':>8}{'CPU x':>7}"
    )
    for runs in result["rounds"]:
        for r in runs:
            x = r["ratio"]
            print(
                f"{r['server']:<12}{r['completed']:>6}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                f"{r['calls_per_s']:>9.1f}{r['cpu_ms_per_call']:>12.2f}{x['p50']:>7.2f}"
                f"{x['p99']:>7.2f}{x['calls_per_s']:>8.2f}{x['cpu_per_call']:>7.2f}"
            )
            for error in r["errors"]:
                print(f"    error: {error}")
    costs = ", ".join(f"{name} {us:.2f}" for name, us in result["python_us_per_command"].items())
    print(f"each layer's own Python work per command, no socket (us): {costs}")
    print(f"median of {len(result['rounds'])} rounds:")
    for name, m in result["medians"].items():
        print(
            f"{name:<12}{'':>6}{m['p50_ms']:>9.2f}{m['p99_ms']:>9.2f}{m['calls_per_s']:>9.1f}"
            f"{m['cpu_ms_per_call']:>12.2f}{m['x_p50']:>7.2f}{m['x_p99']:>7.2f}"
            f"{m['x_calls_per_s']:>8.2f}{m['x_cpu_per_call']:>7.2f}"
        )


async def record() -> dict[str, Any]:
    """Derive the call again: one real balance call through ``hotline serve`` (seeded demo
    database, the Mandarin prompts built so that prompts in a row are joined as in production),
    its commands as received and the emulator's replies to them."""
    import tempfile
    from datetime import date

    from sqlalchemy import func, select

    from bench.agi_load import LANGUAGE, build_call_prompts, entries_for, free_port, wait_for_port
    from ivr.store import models
    from ivr.store.database import open_database, upgrade_database
    from ivr.store.seed import seed_demo
    from tests.agipeer import CallerScript, run_call

    workdir = Path(tempfile.mkdtemp(prefix="hotline-replay-"))
    env = {**os.environ, "HOTLINE_DATA_DIR": str(workdir / "var"), "HOTLINE_OPS_PORT": "0"}
    env["HOTLINE_LOG_LEVEL"] = "WARNING"
    settings = Settings.load(env=env)
    settings.data_dir.mkdir(parents=True)
    await build_call_prompts(settings)
    await upgrade_database(settings.database_url)
    database = await open_database(settings.database_url)
    citizens = await seed_demo(
        database, citizens=1, seed=1, key=settings.hash_key(), today=date.today()
    )
    await database.close()
    port = free_port()
    hotline = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ivr.cli.main", "serve", "--port", str(port), cwd=ROOT, env=env
    )
    try:
        await wait_for_port(port, hotline)
        entries = entries_for(citizens[0])
        probe = await run_call(  # the dialplan sets the channel language (zh) before the AGI
            "127.0.0.1", port, SCRIPT, entries, language=LANGUAGE, hang_up_when_done=True
        )
    finally:
        hotline.terminate()
        await hotline.wait()
    database = await open_database(settings.database_url)
    try:
        async with database.read() as session:
            queries = await session.scalar(select(func.count()).select_from(models.BalanceQuery))
    finally:
        await database.close()
    if queries != 1:
        raise RuntimeError("the call did not reach the balance")
    caller = CallerScript(entries)  # the emulator again, to read back each reply it gave
    exchanges = [[line, caller.respond(line)] for line in probe.commands]
    return {"entries": entries, "exchanges": exchanges}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000, help="calls at once (default 1000)")
    parser.add_argument("--runs", type=int, default=2, help="rounds of the three (default 2)")
    parser.add_argument("--call", type=Path, default=CALL_FILE, help="the recorded call (JSON)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "agi_replay.json")
    parser.add_argument("--record", action="store_true", help="derive --call again, then stop")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.port, load_call(args.call)))
        return 0
    if args.record:
        document = asyncio.run(record())
        args.call.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
        print(f"recorded {len(document['exchanges'])} commands to {args.call}")
        return 0
    result = asyncio.run(bench(args))
    report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    complete = all(r["completed"] == r["calls"] for runs in result["rounds"] for r in runs)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
