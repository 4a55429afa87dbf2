"""The end-to-end load run: the whole stack (``hotline up``) under Poisson SIP calls, step by step.

The stack runs as ``hotline up --detach`` does (local Asterisk in its chroot, the hotline process
with FastAGI, AMI bridge and console, SQLite; default settings) in a data folder of its own with
spare ports, Asterisk's ``full.log`` also taking the keys (``HOTLINE_ASTERISK_KEY_LOG``: each key
beside the prompts, with ms). For each load step, sipp callers (one per call, RFC 2833 keys
scripted from the built prompts: the cluster tests' ``Wave``) arrive at ``rate`` calls per second
with exponential gaps for ``--duration`` seconds: balance checks on 12333, and a share of
provisional loss reports on 96102. Both processes' CPU use while idle is measured first.

Reported per step:

- calls offered / answered (sipp saw the 200 OK) / completed (sipp ended well and the record says
  served) / refused (the node was full, ``max_calls``: the caller was told the lines are busy and
  the call was not answered; a clean refusal, not a failure) / failed, and whether every call has
  exactly one record;
- CPU seconds per call of Asterisk and of the hotline process (``/proc/<pid>/stat``, over the
  steady part: from one call length after the first arrival to the last; calls counted as the
  share of each record's span inside that window), the hotline's event-loop thread, its password
  pool's threads (argon2id, one verification a call: the threads below the process's priority)
  and its other threads apart, and the whole without the password pool's CPU;
- key-to-next-prompt latency from ``full.log`` (the last key before a prompt to that prompt);
- peak RSS of both, and each one's CPU use in cores.

The steps run in the order given and stop at the first with a failed call: the highest rate with
none is what this machine holds. ``--max-calls`` sets the node's cap (default: the node's own,
60 calls at once per core); above the saturation load calls should then be refused, not fail.
Which process saturates first: each one's use against what it can have (the hotline's event loop
one core; Asterisk, threaded, every core), extrapolated to the rate at which it would be used up.
``--profile RATE`` samples the hotline process with py-spy during that step
(``bench/results/e2e_profile.txt``, collapsed stacks, and a summary).

    .venv/bin/python bench/e2e_load.py --rates 0.5 1 2 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import re
import resource
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from ivr.config import Settings  # noqa: E402
from ivr.domain.cards import CardStatus  # noqa: E402
from ivr.domain.password import hash_password, verify_password  # noqa: E402
from ivr.store import models  # noqa: E402
from ivr.store.database import Database, open_database  # noqa: E402
from ivr.store.seed import DemoCitizen, seed_demo  # noqa: E402
from tests.acceptance.upstack import UpStack  # noqa: E402
from tests.cluster.load import Wave  # noqa: E402
from tests.telephony import sipkit  # noqa: E402
from tests.telephony.sipkit import PromptClock  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CITIZENS = 400  # callers in turn: no two calls at once key the same ID (its lock-out counts them)
SAMPLE_S = 0.5  # how often /proc is read
IDLE_S = 10.0
# py-spy samples a second: the event loop is busy a tenth of the time or less, so at 50 a minute's
# step holds too few of its samples to split by part.
PROFILE_HZ = 400
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- the node under load --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Node:
    """One ``hotline up`` as a wave of calls sees it (``tests.cluster.load.Switchboard``)."""

    settings: Settings
    database: Database
    prompts: PromptClock
    challenge: int = 401  # Asterisk asks the caller itself

    def caller_settings(self) -> Settings:
        return self.settings


@dataclasses.dataclass(frozen=True)
class Sample:
    at: float  # time.time()
    cpu: float  # seconds, user + system, every thread
    main: float  # the main thread's (the hotline's event loop)
    below: float  # the threads running below the main thread's priority (the password pool)
    rss: int  # bytes


def _stat(path: Path) -> list[str]:
    return path.read_text().rpartition(")")[2].split()  # fields from the state on (3rd)


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def sample(pid: int) -> Sample:
    fields = _stat(Path(f"/proc/{pid}/stat"))
    main = _stat(Path(f"/proc/{pid}/task/{pid}/stat"))
    below = 0.0
    # The password pool's threads are the only ones the hotline runs below its own priority
    # (ivr.domain.verifier.NICENESS): their CPU is argon2id's as this process pays it, busy cores
    # and cold caches included, which one verification timed alone understates.
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            thread = _stat(task / "stat")
            if int(thread[16]) > int(main[16]):
                below += _cpu(thread)
    return Sample(time.time(), _cpu(fields), _cpu(main), below, int(fields[21]) * PAGE)


@dataclasses.dataclass
class Sampler:
    """Both processes' CPU and memory every SAMPLE_S seconds, for the whole run."""

    pids: dict[str, int]
    samples: dict[str, list[Sample]] = dataclasses.field(default_factory=lambda: defaultdict(list))

    async def run(self) -> None:
        while True:
            for name, pid in self.pids.items():
                with contextlib.suppress(OSError):
                    self.samples[name].append(sample(pid))
            await asyncio.sleep(SAMPLE_S)

    def at(self, name: str, moment: float) -> Sample:
        """The sample nearest ``moment``."""
        return min(self.samples[name], key=lambda s: abs(s.at - moment))

    def peak_rss(self, name: str, start: float, end: float) -> int:
        return max(s.rss for s in self.samples[name] if start <= s.at <= end)


# --- key-to-next-prompt from Asterisk's log -------------------------------------------------------

_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]")
_KEY = re.compile(r"DTMF end '.' received on (\S+?),")
_PROMPT = re.compile(r"<(\S+?)> Playing '")


def key_to_prompt(lines: Iterator[str]) -> list[float]:
    """Seconds from the last key a channel received to the prompt it then started, for each
    prompt that followed a key (a prompt after a time-out or after another prompt has none)."""
    last_key: dict[str, datetime] = {}
    gaps = []
    for line in lines:
        stamp = _STAMP.match(line)
        if stamp is None:
            continue
        if key := _KEY.search(line):
            last_key[key.group(1)] = datetime.fromisoformat(stamp.group(1))
        elif (prompt := _PROMPT.search(line)) and prompt.group(1) in last_key:
            keyed = last_key.pop(prompt.group(1))
            gaps.append((datetime.fromisoformat(stamp.group(1)) - keyed).total_seconds())
    return gaps


_REFUSAL = re.compile(r"Executing \[busy@hotline-flow:\d+\] Verbose\(.*: refused, ([^\"]*)\"\)")


def refusal_reasons(lines: list[str]) -> dict[str, int]:
    """Why the dialplan refused each call: the cap (``... calls at once already``) or the
    admission gate (``password checks queued on the hotline``), from its log line in busy."""
    reasons: Counter[str] = Counter()
    for line in lines:
        if found := _REFUSAL.search(line):
            reason = found.group(1)
            reasons["cap" if reason.endswith("calls at once already") else reason] += 1
    return dict(reasons)


# The node's own timings (its /metrics histograms, summed over their labels): how long it took to
# send each AGI command after Asterisk's reply, and each password check with its wait for a thread.
# Slow callers with fast replies here are Asterisk's (or the load generator's) doing.
NODE_HISTOGRAMS = {
    "agi_reply": "hotline_agi_command_seconds",
    "password_check": "hotline_password_verification_seconds",
}
Buckets = dict[str, dict[float, float]]


async def node_buckets(settings: Settings) -> Buckets:
    """Each histogram's cumulative bucket counts, from the node's ``/metrics``."""
    url = f"http://{settings.ops_host}:{settings.ops_port}/metrics"
    async with ClientSession() as client, client.get(url) as response:
        text = await response.text()
    found: Buckets = {key: defaultdict(float) for key in NODE_HISTOGRAMS}
    for family in text_string_to_metric_families(text):
        for key, name in NODE_HISTOGRAMS.items():
            if family.name != name:
                continue
            for sample in family.samples:
                if sample.name == name + "_bucket":
                    found[key][float(sample.labels["le"])] += sample.value
    return found


def bucket_summary(before: dict[float, float], after: dict[float, float]) -> dict[str, Any]:
    """The step's share of a histogram: its count, the bucket bounds its p50 and p99 fall
    within (at most so many ms), and how many took over a second."""
    delta = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = delta.get(float("inf"), 0.0)

    def at_most_ms(share: float) -> float | None:
        bound = next((le for le, n in delta.items() if total and n >= share * total), None)
        return None if bound is None or bound == float("inf") else bound * 1000

    return {
        "count": int(total),
        "p50_ms_at_most": at_most_ms(0.5),
        "p99_ms_at_most": at_most_ms(0.99),
        "over_1s": int(total - delta.get(1.0, total)),
    }


def key_log(settings: Settings) -> Path:
    found = sorted((settings.data_dir / "asterisk").glob("**/full.log"))
    if not found:
        raise SystemExit(f"no full.log under {settings.data_dir / 'asterisk'}")
    return found[0]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- one load step --------------------------------------------------------------------------------


@dataclasses.dataclass
class Callers:
    """Demo citizens handed out in turn; a loss report takes one whose card is still normal."""

    balance: list[DemoCitizen]
    cards: list[DemoCitizen]
    turn: int = 0

    def next_balance(self) -> DemoCitizen:
        self.turn += 1
        return self.balance[self.turn % len(self.balance)]


def verification_cpu_s() -> float:
    """CPU seconds of one password verification (argon2id, the stored hash's parameters)."""
    stored = hash_password("231002")
    costs = []
    for _ in range(5):
        before = time.process_time()
        verify_password(stored, "231002")
        costs.append(time.process_time() - before)
    return statistics.median(costs)


def _utc(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def calls_within(rows: list[models.Call], start: float, end: float) -> float:
    """How many calls' worth of work fell in [start, end]: each record's share of its span."""
    worth = 0.0
    for row in rows:
        if row.ended_at is None:
            continue
        began, ended = _utc(row.started_at), _utc(row.ended_at)
        if ended > began:
            worth += max(0.0, min(end, ended) - max(start, began)) / (ended - began)
    return worth


async def profile(pid: int, seconds: float, out: Path, hz: int) -> asyncio.subprocess.Process:
    """py-spy sampling the hotline for ``seconds`` at ``hz`` (collapsed stacks; not blocking the
    target)."""
    py_spy = Path(sys.executable).parent / "py-spy"
    return await asyncio.create_subprocess_exec(
        str(py_spy), "record", "--pid", str(pid), "--duration", str(round(seconds)),
        "--rate", str(hz), "--nonblocking", "--threads", "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def step(
    node: Node,
    sampler: Sampler,
    callers: Callers,
    *,
    rate: float,
    duration: float,
    loss_share: float,
    rng: random.Random,
    verification: float,
    profile_to: Path | None,
    profile_hz: int,
) -> dict[str, Any]:
    log = key_log(node.settings)
    log_offset = log.stat().st_size
    timings_before = await node_buckets(node.settings)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wave = Wave(node, f"rate-{rate:g}", folder=sipkit.OUTPUT / "e2e")
    kinds: Counter[str] = Counter()
    spy = None
    began = time.time()
    if profile_to is not None:
        spy = await profile(sampler.pids["hotline"], duration, profile_to, profile_hz)
    due = time.monotonic()
    stop = due + duration
    while (due := due + rng.expovariate(rate)) < stop:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        if callers.cards and rng.random() < loss_share:
            kinds["loss report (96102)"] += 1
            await wave.loss_report(callers.cards.pop())
        else:
            kinds["balance check (12333)"] += 1
            await wave.balance_check(callers.next_balance())
    last_arrival = time.time()
    sipp = await wave.finish(600)
    rows = await wave.settled(120)
    ended = time.time()
    timings_after = await node_buckets(node.settings)
    if spy is not None:
        await spy.wait()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    generator_cpu = used.ru_utime + used.ru_stime - children.ru_utime - children.ru_stime

    answered = sum(1 for p in wave.placed if "answered" in p.sipp.text("logs"))
    outcomes = Counter(r.outcome for r in rows)
    completed = min(sipp.get("ok", 0), outcomes["served"])
    refused = outcomes["refused"]
    offered = len(wave.placed)

    # The steady part: one call length after the first arrival, to the last arrival.
    spans = [_utc(r.ended_at) - _utc(r.started_at) for r in rows if r.ended_at is not None]
    call_s = statistics.median(spans) if spans else 0.0
    start = min(began + call_s, (began + last_arrival) / 2)
    worth = calls_within(rows, start, last_arrival)
    cpu: dict[str, float] = {}
    cores: dict[str, float] = {}
    for name in ("asterisk", "hotline"):
        first, last = sampler.at(name, start), sampler.at(name, last_arrival)
        wall = max(last.at - first.at, 1e-9)
        cpu[name] = (last.cpu - first.cpu) / worth if worth else 0.0
        cores[name] = (last.cpu - first.cpu) / wall
        if name == "hotline":
            cpu["hotline_event_loop"] = (last.main - first.main) / worth if worth else 0.0
            cores["hotline_event_loop"] = (last.main - first.main) / wall
            cpu["hotline_password_pool"] = (last.below - first.below) / worth if worth else 0.0
            cores["hotline_password_pool"] = (last.below - first.below) / wall
    cpu["hotline_other_threads"] = (
        cpu["hotline"] - cpu["hotline_event_loop"] - cpu["hotline_password_pool"]
    )
    # What the pool's threads used, measured; one verification timed alone if they used none
    # (a pool that could not lower its priority is not told apart from the other threads).
    verifying = cpu["hotline_password_pool"] or verification
    cpu["hotline_without_verification"] = cpu["hotline"] - verifying
    cores["load_generator_sipp"] = generator_cpu / max(ended - began, 1e-9)

    with log.open(errors="replace") as text:
        text.seek(log_offset)
        lines = text.readlines()
    gaps = key_to_prompt(iter(lines))
    ratio = cpu["hotline"] / cpu["asterisk"] if cpu["asterisk"] else None
    ratio_bare = cpu["hotline_without_verification"] / cpu["asterisk"] if cpu["asterisk"] else None
    return {
        "rate_per_s": rate,
        "seconds": duration,
        "offered": offered,
        "kinds": dict(kinds),
        "answered": answered,
        "completed": completed,
        "refused": refused,
        "refused_because": refusal_reasons(lines),
        "failed": offered - completed - refused,
        "sipp": dict(sipp),
        "records": len(rows),
        "one_record_each": len(rows) == offered,
        "outcomes": dict(outcomes),
        "call_seconds_median": round(call_s, 1),
        "steady_window_s": round(last_arrival - start, 1),
        "calls_in_window": round(worth, 1),
        "cpu_per_call_s": {k: round(v, 4) for k, v in cpu.items()},
        "hotline_over_asterisk": None if ratio is None else round(ratio, 3),
        "hotline_over_asterisk_without_verification": (
            None if ratio_bare is None else round(ratio_bare, 3)
        ),
        "cores_used": {k: round(v, 3) for k, v in cores.items()},
        "key_to_prompt_ms": {
            "samples": len(gaps),
            "p50": round(percentile(gaps, 0.5) * 1000, 1) if gaps else None,
            "p99": round(percentile(gaps, 0.99) * 1000, 1) if gaps else None,
            "max": round(max(gaps) * 1000, 1) if gaps else None,
        },
        "node_timings": {
            key: bucket_summary(timings_before[key], timings_after[key]) for key in NODE_HISTOGRAMS
        },
        "peak_rss_mib": {
            name: round(sampler.peak_rss(name, began, ended) / 2**20, 1)
            for name in ("asterisk", "hotline")
        },
    }


# --- the profile ----------------------------------------------------------------------------------


def summarise_profile(raw: Path, top: int = 25) -> dict[str, Any]:
    """Shares of the samples: by function where the CPU was (self), and by module anywhere in
    the stack (inclusive), from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("thread ", "process "))]
        n = int(count)
        total += n
        if frames:
            own[frames[-1]] += n
        for module in {_module(f) for f in frames}:
            modules[module] += n
    share = 100.0 / total if total else 0.0
    return {
        "samples": total,
        "self_percent": {f: round(n * share, 1) for f, n in own.most_common(top)},
        "inclusive_percent_by_module": {
            m: round(n * share, 1) for m, n in modules.most_common(top)
        },
    }


def _module(frame: str) -> str:
    """``handle (/…/ivr/agi/server.py:120)`` -> ``ivr/agi/server.py``; a library by its name."""
    where = frame[frame.rfind("(") + 1 : frame.rfind(":")] if "(" in frame else frame
    if "site-packages/" in where:
        return where.split("site-packages/", 1)[1].split("/")[0]
    if "/lib/python3" in where:
        return "stdlib " + where.split("/lib/python3", 1)[1].split("/")[1]
    return where.removeprefix(str(ROOT) + "/")


# --- the run --------------------------------------------------------------------------------------


def saturation(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The highest rate held with no failed call, and which process would run out first: each
    process's CPU use against what it can use, extrapolated linearly in the rate."""
    held = [s for s in steps if s["failed"] == 0]
    top = held[-1] if held else steps[0]
    rate = top["rate_per_s"]
    ceilings = {"hotline_event_loop": 1.0, "asterisk": float(os.cpu_count() or 1)}
    at_full = {
        name: round(rate * ceiling / top["cores_used"][name], 2)
        for name, ceiling in ceilings.items()
        if top["cores_used"][name] > 0
    }
    first = min(at_full, key=lambda name: at_full[name]) if at_full else None
    failing = next((s for s in steps if s["failed"]), None)
    return {
        "held_rate_per_s": held[-1]["rate_per_s"] if held else None,
        "first_failed_rate_per_s": failing["rate_per_s"] if failing else None,
        "estimated_full_at_rate_per_s": at_full,
        "saturates_first": first,
        # How much of its ceiling each used where calls began to fail: well under 1, calls
        # failed for another reason than that process running out of CPU.
        "share_of_ceiling_at_first_failure": (
            {n: round(failing["cores_used"][n] / c, 3) for n, c in ceilings.items()}
            if failing
            else None
        ),
        "note": (
            "use of each process's own ceiling at the highest rate held (the hotline's event "
            "loop: 1 core; Asterisk: every core), extrapolated; sipp callers and other work share "
            "the same cores, so the machine may run out before either does"
        ),
    }


async def idle_cores(sampler: Sampler) -> dict[str, float]:
    """Each process's CPU use (in cores) with no call, over IDLE_S seconds."""
    start = time.time()
    await asyncio.sleep(IDLE_S)
    used = {}
    for name in sampler.pids:
        first, last = sampler.at(name, start), sampler.at(name, time.time())
        used[name] = round((last.cpu - first.cpu) / max(last.at - first.at, 1e-9), 4)
    return used


def fresh_records(data_dir: Path) -> None:
    """A new database for each run (loss reports change the demo cards), keeping the built
    prompts and keys."""
    for path in data_dir.glob("hotline.db*"):
        path.unlink()
    shutil.rmtree(data_dir / "recordings", ignore_errors=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    sipkit.require_sipp()
    data_dir = args.data.resolve()
    if data_dir.exists():
        fresh_records(data_dir)
    # The default heartbeat (the acceptance tests' UpStack beats every second).
    cap = {} if args.max_calls is None else {"max_calls": str(args.max_calls)}
    stack = UpStack(
        data_dir, asterisk_key_log="1", heartbeat_seconds=str(Settings.heartbeat_seconds), **cap
    )
    await stack.up()
    try:
        settings = stack.settings
        database = await open_database(settings.database_url)
        try:
            citizens = await seed_demo(
                database, citizens=CITIZENS, seed=1, key=settings.hash_key(), today=date.today()
            )
            cards = [c for c in citizens if c.card_status is CardStatus.NORMAL]
            share = len(cards) // 4  # a quarter of the normal cards go to loss reports
            callers = Callers([c for c in citizens if c not in cards[:share]], cards[:share])
            node = Node(settings, database, PromptClock(settings, "zh"))
            asterisk = stack.asterisk_pid()
            assert asterisk is not None, stack.up_log()
            sampler = Sampler({"asterisk": asterisk, "hotline": stack.up_pid()})
            sampling = asyncio.create_task(sampler.run())
            verification = verification_cpu_s()
            idle = await idle_cores(sampler)
            rng = random.Random(args.seed)
            steps = []
            for rate in args.rates:
                profile_to = args.profile_out if rate == args.profile else None
                result = await step(
                    node, sampler, callers, rate=rate, duration=args.duration,
                    loss_share=args.loss_share, rng=rng, verification=verification,
                    profile_to=profile_to, profile_hz=args.profile_hz,
                )  # fmt: skip
                print(json.dumps(result), flush=True)
                steps.append(result)
                if profile_to is not None and profile_to.exists():
                    result["profile"] = summarise_profile(profile_to)
                if result["failed"]:
                    break
            sampling.cancel()
        finally:
            await database.close()
    finally:
        await stack.down()
    return {
        "measured": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "duration_s": args.duration,
        "loss_share": args.loss_share,
        "verification_cpu_s": round(verification, 4),
        "idle_cores": idle,
        "steps": steps,
        "saturation": saturation(steps),
    }


def table(report: dict[str, Any]) -> str:
    head = (
        "| calls/s | offered | answered | completed | refused | failed | Asterisk CPU/call | "
        "hotline CPU/call | ratio | without verification | key→prompt p50 / p99 | peak RSS "
        "Asterisk / hotline |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for s in report["steps"]:
        cpu, lat, rss = s["cpu_per_call_s"], s["key_to_prompt_ms"], s["peak_rss_mib"]
        rows.append(
            f"| {s['rate_per_s']:g} | {s['offered']} | {s['answered']} | {s['completed']} | "
            f"{s['refused']} | {s['failed']} | {cpu['asterisk'] * 1000:.0f} ms | "
            f"{cpu['hotline'] * 1000:.0f} ms | "
            f"{s['hotline_over_asterisk']} | {s['hotline_over_asterisk_without_verification']} | "
            f"{lat['p50']} / {lat['p99']} ms | {rss['asterisk']:.0f} / {rss['hotline']:.0f} MiB |"
        )
    sat = report["saturation"]
    tail = (
        f"\nHeld with no failed call: {sat['held_rate_per_s']} calls/s; first failure at "
        f"{sat['first_failed_rate_per_s']}; saturates first: {sat['saturates_first']} "
        f"(estimated full at {sat['estimated_full_at_rate_per_s']} calls/s); share of each "
        f"one's CPU ceiling used where calls began to fail: "
        f"{sat['share_of_ceiling_at_first_failure']}. One password "
        f"verification: {report['verification_cpu_s'] * 1000:.0f} ms of CPU."
    )
    return "\n".join([head, *rows]) + "\n" + tail + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of arrivals a step")
    parser.add_argument("--loss-share", type=float, default=0.2, help="share of loss reports")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--max-calls", type=int, help="the node's cap on calls at once")
    parser.add_argument("--profile", type=float, help="py-spy on the hotline during this rate")
    parser.add_argument("--profile-hz", type=int, default=PROFILE_HZ, help="py-spy's rate")
    parser.add_argument("--profile-out", type=Path, default=RESULTS / "e2e_profile.txt")
    parser.add_argument("--data", type=Path, default=ROOT / "test-output" / "bench-e2e" / "var")
    parser.add_argument("--out", type=Path, default=RESULTS / "e2e_load.json")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    args.out.with_suffix(".md").write_text(table(report))
    print("\n" + table(report))
    return 0 if report["saturation"]["held_rate_per_s"] is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
