"""Load benchmark: N concurrent synthetic calls, each a full 12333 balance check, against
``hotline serve``, beside a bare asyncio AGI responder measured in the same run as the baseline.

    .venv/bin/python bench/agi_load.py --calls 500

Both servers run as their own processes on loopback; this process plays the callers with the
project's Asterisk emulator (tests/agipeer.py). Per-command latency is the time from a reply sent
to the next command received: the server's own work (engine, database, password hash), not the
caller's listening time (``--audio`` seconds per prompt played out, excluded). The result is
reported as absolute figures and as ratios to the baseline, because the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import Process
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.config import Settings  # noqa: E402
from ivr.store.database import open_database, upgrade_database  # noqa: E402
from ivr.store.seed import DemoCitizen, seed_demo  # noqa: E402
from tests.agipeer import PeerResult, run_call  # noqa: E402


@dataclass(frozen=True)
class Run:
    name: str
    calls: int
    completed: int
    wall_s: float
    latencies_ms: list[float]
    by_command: dict[str, list[float]]
    # the reply after the password entry: the server verified it (argon2, slow by design)
    verify_ms: list[float]

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        data = sorted(self.latencies_ms if values is None else values)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q / 100 * len(data)))]

    def summary(self) -> dict[str, float | int | str]:
        return {
            "server": self.name,
            "calls": self.calls,
            "completed": self.completed,
            "calls_per_s": round(self.completed / self.wall_s, 1),
            "commands": len(self.latencies_ms),
            "p50_ms": round(self.percentile(50), 3),
            "p99_ms": round(self.percentile(99), 3),
            "max_ms": round(max(self.latencies_ms, default=float("nan")), 3),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 3) if self.latencies_ms else 0,
            "p99_without_verify_ms": round(self.percentile(99, self.other_ms()), 3),
            "verify_p50_ms": round(self.percentile(50, self.verify_ms), 3),
            "verify_p99_ms": round(self.percentile(99, self.verify_ms), 3),
        }

    def other_ms(self) -> list[float]:
        verify = list(self.verify_ms)
        rest = list(self.latencies_ms)
        for value in verify:
            rest.remove(value)
        return rest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for_port(port: int, process: Process, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {seconds} s")


def entries_for(citizen: DemoCitizen) -> list[str]:
    keyed = citizen.id_number.replace("X", "*") + "#"
    return ["1", keyed, citizen.initial_password + "#", "1"]


def label(command: str) -> str:
    words = command.split()
    if words[:2] == ["STREAM", "FILE"] and len(words) > 2:
        return "STREAM FILE " + words[2].strip('"')
    return " ".join(words[:3])


async def load(
    name: str, port: int, citizens: list[DemoCitizen], calls: int, audio: float, ramp: float
) -> Run:
    rng = random.Random(1)

    async def one(index: int) -> PeerResult | None:
        await asyncio.sleep(rng.uniform(0, ramp))  # calls arrive over the ramp, then overlap
        citizen = citizens[index % len(citizens)]
        try:
            return await run_call(
                "127.0.0.1",
                port,
                "12333",
                entries_for(citizen),
                audio_seconds=audio,
                timeout=600,
                hang_up_when_done=True,
            )
        except (OSError, TimeoutError):
            return None

    started = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in range(calls)))
    wall = time.perf_counter() - started
    latencies: list[float] = []
    verify: list[float] = []
    by_command: dict[str, list[float]] = defaultdict(list)
    completed = 0
    for result in results:
        if result is None:
            continue
        if any(sound.endswith("pension_balance_is") for sound in result.heard):
            completed += 1
        verified = False
        for command, seconds in zip(result.commands[1:], result.latencies, strict=False):
            latencies.append(seconds * 1000)
            by_command[label(command)].append(seconds * 1000)
            if not verified and "hotline/query_menu" in command:
                verify.append(seconds * 1000)  # the first reply after the password entry
                verified = True
    return Run(name, calls, completed, wall, latencies, dict(by_command), verify)


def argon2_cost_ms() -> float:
    """CPU time of one password verification, measured here and now."""
    from ivr.domain.password import hash_password, verify_password

    stored = hash_password("135790")
    started = time.perf_counter()
    for _ in range(10):
        verify_password(stored, "135790")
    return (time.perf_counter() - started) * 100


async def main_async(args: argparse.Namespace) -> int:
    argon2_ms = argon2_cost_ms()
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(workdir / "var"),
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_OPS_PORT": "0",  # the node's metrics server on any free port
        # every call of the run at once, however many: the cap is the setting's to choose
        "HOTLINE_AGI_MAX_CONNECTIONS": str(max(args.calls, Settings.agi_max_connections)),
    }
    settings = Settings.load(env=env)
    settings.data_dir.mkdir(parents=True)
    await upgrade_database(settings.database_url)
    database = await open_database(settings.database_url)
    citizens = await seed_demo(
        database, citizens=args.citizens, seed=1, key=settings.hash_key(), today=date.today()
    )
    await database.close()

    hotline_port, bare_port = free_port(), free_port()
    hotline = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ivr.cli.main",
        "serve",
        "--port",
        str(hotline_port),
        cwd=ROOT,
        env=env,
    )
    bare: Process | None = None
    try:
        await wait_for_port(hotline_port, hotline)
        probe = await run_call(
            "127.0.0.1", hotline_port, "12333", entries_for(citizens[0]), hang_up_when_done=True
        )
        if not any(s.endswith("pension_balance_is") for s in probe.heard):
            raise RuntimeError("the probe call did not reach the balance: the bench is invalid")
        commands_file = workdir / "commands.json"
        commands_file.write_text(json.dumps(probe.commands))
        bare = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "bare_responder.py"),
            "--port",
            str(bare_port),
            "--commands",
            str(commands_file),
            stdout=asyncio.subprocess.DEVNULL,
        )
        await wait_for_port(bare_port, bare)
        runs = []
        for name, port in (("bare asyncio responder", bare_port), ("hotline serve", hotline_port)):
            runs.append(await load(name, port, citizens, args.calls, args.audio, args.ramp))
    finally:
        for process in (hotline, bare):
            if process is not None and process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), 30)

    baseline, measured = runs
    print(
        f"{args.calls} concurrent calls, {len(probe.commands)} AGI commands each, "
        f"{args.audio:.2f} s per prompt, arrivals over {args.ramp:.1f} s, "
        f"{os.cpu_count()} cores"
    )
    print(f"{'server':<24}{'done':>6}{'calls/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for run in runs:
        s = run.summary()
        print(
            f"{s['server']:<24}{s['completed']:>6}{s['calls_per_s']:>9}{s['p50_ms']:>9}"
            f"{s['p99_ms']:>9}{s['max_ms']:>9}"
        )
    other = measured.other_ms()
    print(
        f"hotline without the password-verifying reply: p99 {measured.percentile(99, other):.2f}"
        f" ms; that reply (argon2id, {argon2_ms:.1f} ms of CPU each): p50 "
        f"{measured.percentile(50, measured.verify_ms):.2f} ms, p99 "
        f"{measured.percentile(99, measured.verify_ms):.2f} ms"
    )
    ratio_p50 = measured.percentile(50) / max(baseline.percentile(50), 1e-9)
    ratio_p99 = measured.percentile(99) / max(baseline.percentile(99), 1e-9)
    print(f"hotline / baseline: p50 x{ratio_p50:.1f}, p99 x{ratio_p99:.1f}")
    print("slowest commands of the hotline (p99 ms, what the server did before sending them):")
    slow = sorted(measured.by_command.items(), key=lambda kv: -measured.percentile(99, kv[1]))
    for command, values in slow[:5]:
        print(f"  {measured.percentile(99, values):8.2f}  {command}  (n={len(values)})")
    target = measured.percentile(99) < args.target_p99_ms and measured.completed == args.calls
    target_other = measured.percentile(99, other) < args.target_p99_ms
    print(
        f"target: {args.calls} calls completed with p99 < {args.target_p99_ms} ms per command:"
        f" {'met' if target else 'NOT met'} (all commands); "
        f"{'met' if target_other else 'NOT met'} (all but the password-verifying reply)"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "agi_load.json").write_text(
        json.dumps(
            {
                "runs": [r.summary() for r in runs],
                "ratio_p50": ratio_p50,
                "ratio_p99": ratio_p99,
                "argon2_ms": argon2_ms,
                "target_met": target,
                "target_met_without_verify": target_other,
            },
            indent=2,
        )
    )
    return 0 if measured.completed == args.calls else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=500, help="concurrent calls (default 500)")
    parser.add_argument("--citizens", type=int, default=50, help="distinct callers (default 50)")
    parser.add_argument(
        "--audio",
        type=float,
        default=0.5,
        help="seconds each prompt plays / each silence lasts (default 0.5)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=5.0,
        help="calls start uniformly over this many seconds (default 5)",
    )
    parser.add_argument("--target-p99-ms", type=float, default=10.0)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
