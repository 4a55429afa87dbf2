"""Console benchmark at a real centre's volume: seed N calls (a realistic month, ``hotline db seed
--calls N``) on SQLite and on PostgreSQL, run the console (``hotline web``) as its own process, and
time each page and API request a supervisor uses from a client on loopback.

    .venv/bin/python bench/console_volume.py                     # smoke: 3,000 calls, both engines
    .venv/bin/python bench/console_volume.py --calls 1000000 --engines sqlite
    .venv/bin/python bench/console_volume.py --calls 200000 --engines postgresql --data /var/tmp/cv

Each request is sent ``--samples`` times one after another (after one untimed warm-up) and
reported as p50 / p95 / max against the target (p95 under 100 ms). The CSV export is timed whole
and to its first byte, and its rows are counted against the calls of that day in the database
(it must return every call asked for). ``hotline calls --last 50`` is timed as a whole process.
PostgreSQL is a throwaway server from the Debian binaries (``ivr.cluster.postgres``), stopped at
the end. With ``--data``, the seeded databases are kept there and reused by the next run with the
same number of calls (seeding a million calls takes a while). Results go to
``bench/results/console_volume.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.cluster.postgres import LocalPostgres  # noqa: E402
from ivr.config import Settings  # noqa: E402
from ivr.domain.clock import day_bounds, local_today  # noqa: E402
from ivr.store.database import open_database  # noqa: E402
from ivr.store.models import Call  # noqa: E402

TARGET_MS = 100.0
PASSWORD = "bench console volume"
_HIDDEN = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass(frozen=True)
class Timing:
    request: str
    path: str
    samples_ms: list[float]
    note: str = ""

    def percentile(self, q: float) -> float:
        data = sorted(self.samples_ms)
        return data[min(len(data) - 1, round(q / 100 * (len(data) - 1)))]

    def summary(self) -> dict[str, Any]:
        p95 = self.percentile(95)
        return {
            "request": self.request,
            "path": self.path,
            "samples": len(self.samples_ms),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(max(self.samples_ms), 1),
            "target_p95_ms": TARGET_MS,
            "met": p95 < TARGET_MS,
            "note": self.note,
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _env(data: Path, url: str) -> dict[str, str]:
    env = {**os.environ, "HOTLINE_DATA_DIR": str(data), "HOTLINE_LOG_LEVEL": "WARNING"}
    if url:
        env["HOTLINE_DB_URL"] = url
    return env


async def hotline(env: dict[str, str], *args: str) -> tuple[float, str]:
    """Run ``hotline args``; its wall time in seconds and its output. Fails loudly."""
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ivr.cli.main", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    elapsed = time.perf_counter() - began
    if process.returncode != 0:
        raise RuntimeError(f"hotline {' '.join(args)} failed: {out.decode()[-2000:]}")
    return elapsed, out.decode()


async def stored_calls(url: str) -> int:
    database = await open_database(url)
    try:
        async with database.read() as session:
            return int(await session.scalar(select(func.count()).select_from(Call)) or 0)
    finally:
        await database.close()


async def day_calls(url: str, day: date) -> int:
    start, end = day_bounds(day, day)
    database = await open_database(url)
    try:
        async with database.read() as session:
            query = select(func.count()).where(Call.started_at >= start, Call.started_at < end)
            return int(await session.scalar(query.select_from(Call)) or 0)
    finally:
        await database.close()


@asynccontextmanager
async def console(env: dict[str, str]) -> AsyncIterator[str]:
    """``hotline web`` on a free loopback port, stopped at the end; its base URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ivr.cli.main", "web", "--host", "127.0.0.1", "--port", str(port),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                if process.returncode is not None:
                    assert process.stderr is not None
                    raise RuntimeError((await process.stderr.read()).decode()[-2000:])
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
        yield base
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)


async def log_in(session: aiohttp.ClientSession, base: str) -> None:
    page = await (await session.get(f"{base}/login")).text()
    match = _HIDDEN.search(page)
    assert match, "the log-in form has a CSRF token"
    form = {"csrf_token": match.group(1), "username": "bench", "password": PASSWORD}
    response = await session.post(f"{base}/login", data=form, allow_redirects=False)
    if response.status != 303:
        raise RuntimeError(f"log-in failed: {response.status}")


async def timed(session: aiohttp.ClientSession, url: str) -> tuple[float, float, bytes]:
    """Whole time and time to the first byte of the body (ms), and the body."""
    began = time.perf_counter()
    async with session.get(url, allow_redirects=False) as response:
        first = await response.content.readany()
        first_ms = (time.perf_counter() - began) * 1000
        body = first + await response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status} {body[:300]!r}")
    return (time.perf_counter() - began) * 1000, first_ms, body


async def measure(
    session: aiohttp.ClientSession, base: str, requests: list[tuple[str, str]], samples: int
) -> list[Timing]:
    timings = []
    for name, path in requests:
        await timed(session, base + path)  # warm-up: the first read of cold pages
        spent = [(await timed(session, base + path))[0] for _ in range(samples)]
        timings.append(Timing(name, path, spent))
        print(f"    {name:<50} p50 {timings[-1].percentile(50):8.1f} ms", flush=True)
    return timings


async def probe(session: aiohttp.ClientSession, base: str) -> tuple[int, str]:
    """A call to open and a caller-number prefix, taken from the call log's first page."""
    calls = json.loads((await timed(session, f"{base}/api/calls?per_page=200"))[2])["calls"]
    caller = next(c["caller_id"] for c in calls if c["caller_id"])
    return calls[len(calls) // 2]["id"], caller[:7]


async def identified(url: str) -> tuple[str, str]:
    """The keyed hash and masked form of a caller who identified (what an ID search sends)."""
    database = await open_database(url)
    try:
        async with database.read() as session:
            query = select(Call.id_hash, Call.id_masked).where(Call.id_hash.is_not(None))
            row = (await session.execute(query.order_by(Call.id.desc()).limit(1))).one_or_none()
    finally:
        await database.close()
    return (row[0], row[1]) if row else ("", "")


def requests_for(call_id: int, prefix: str, idh: str, idm: str) -> list[tuple[str, str]]:
    today = local_today()
    month = f"from={today - timedelta(days=29)}&to={today}"
    search = [("call log, ID search", f"/calls?idh={idh}&idm={idm}")] if idh else []
    return [
        ("health probe (no database: the machine's floor)", "/healthz"),
        ("statistics page, 30 days", f"/stats?{month}"),
        ("statistics API, 30 days", f"/api/stats?{month}"),
        ("statistics page, default 7 days", "/stats"),
        ("statistics API, default 7 days", "/api/stats"),
        ("call log page 1", "/calls"),
        ("call log API page 1", "/api/calls"),
        ("call log filtered by outcome (abandoned)", "/calls?outcome=abandoned"),
        ("call log API filtered by outcome (failed)", "/api/calls?outcome=failed"),
        ("call log filtered by caller number prefix", f"/calls?caller={prefix}"),
        ("call log page 5, 30 days, 12333", f"/calls?{month}&hotline=12333&page=5"),
        *search,
        ("call detail page", f"/calls/{call_id}"),
        ("call detail API", f"/api/calls/{call_id}"),
    ]


async def export(
    session: aiohttp.ClientSession, base: str, url: str, samples: int
) -> tuple[Timing, Timing, dict[str, Any]]:
    """The CSV of yesterday: whole and first byte timed, rows counted against the database."""
    day = local_today() - timedelta(days=1)
    path = f"/calls.csv?from={day}&to={day}"
    whole, first, rows = [], [], 0
    for _ in range(samples):
        spent, first_ms, body = await timed(session, base + path)
        whole.append(spent)
        first.append(first_ms)
        rows = body.count(b"\n") - 1  # the header line
    expected = await day_calls(url, day)
    check = {
        "day": str(day),
        "rows": rows,
        "calls_that_day": expected,
        "complete": rows == expected,
    }
    note = f"{rows} rows of {expected} calls"
    return (
        Timing("CSV export, one day (whole)", path, whole, note),
        Timing("CSV export, one day (first byte)", path, first, note),
        check,
    )


async def cli_timing(env: dict[str, str], samples: int) -> Timing:
    spent = [(await hotline(env, "calls", "--last", "50"))[0] * 1000 for _ in range(samples)]
    return Timing("hotline calls --last 50 (whole process)", "cli", spent)


def sqlite_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("hotline.db*"))


async def run_engine(engine: str, args: argparse.Namespace, data: Path) -> dict[str, Any]:
    await asyncio.to_thread(data.mkdir, parents=True, exist_ok=True)
    postgres = None
    url = ""
    if engine == "postgresql":
        postgres = LocalPostgres(data / "cluster", "127.0.0.1", free_port())
        url = await postgres.start()
    try:
        env = _env(data, url)
        settings = Settings.load(env=env)
        database_url = settings.database_url
        calls = args.pg_calls if engine == "postgresql" and args.pg_calls else args.calls
        print(f"{engine}: {calls} calls", flush=True)
        seed_s = None
        await hotline(env, "db", "upgrade")
        if await stored_calls(database_url) != calls:
            if await stored_calls(database_url):
                raise RuntimeError(f"{data} holds another number of calls: use another --data")
            seed_s, _ = await hotline(
                env, "db", "seed", "--citizens", "10", "--calls", str(calls), "--days", "30"
            )
            print(f"  seeded in {seed_s:.0f} s", flush=True)
        if "bench " not in (await hotline(env, "users", "list"))[1]:
            await hotline(
                env, "users", "add", "bench", "--role", "supervisor", "--password", PASSWORD
            )
        size = None if url else await asyncio.to_thread(sqlite_bytes, data)
        jar = aiohttp.CookieJar(unsafe=True)  # cookies of a numeric address (loopback)
        async with console(env) as base, aiohttp.ClientSession(cookie_jar=jar) as session:
            await log_in(session, base)
            call_id, prefix = await probe(session, base)
            idh, idm = await identified(database_url)
            timings = await measure(
                session, base, requests_for(call_id, prefix, idh, idm), args.samples
            )
            whole, first, check = await export(session, base, database_url, args.samples)
            timings += [whole, first]
        timings.append(await cli_timing(env, max(3, args.samples // 4)))
        return {
            "engine": engine,
            "calls": calls,
            "seed_s": None if seed_s is None else round(seed_s, 1),
            "sqlite_bytes": size,
            "export": check,
            "requests": [t.summary() for t in timings],
        }
    finally:
        if postgres is not None:
            await postgres.stop()


def report(result: dict[str, Any]) -> None:
    print(f"\n{result['engine']}, {result['calls']} calls")
    print(f"  {'request':<50} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  p95 < 100 ms")
    for row in result["requests"]:
        met = "yes" if row["met"] else "NO"
        print(
            f"  {row['request']:<50} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['max_ms']:>8}"
            f"  {met} {row['note']}"
        )
    export_check = result["export"]
    print(f"  export complete: {export_check['complete']} ({export_check['rows']} rows)")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls to seed (default 3000)")
    parser.add_argument("--pg-calls", type=int, default=0, help="on PostgreSQL, if not --calls")
    parser.add_argument("--engines", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument("--samples", type=int, default=20, help="timed requests each (default 20)")
    parser.add_argument("--data", type=Path, help="keep the seeded databases here, reuse them")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/console_volume.json")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="console-volume-") as scratch:
        for engine in args.engines.split(","):
            data = (args.data or Path(scratch)) / engine
            results.append(await run_engine(engine, args, data))
            report(results[-1])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "cpus": os.cpu_count(), "runs": results}, indent=2) + "\n"
    )  # fmt: skip
    print(f"\nresults: {args.out}")
    # Missed targets are figures to report, not a failure; an export cut short is one.
    return 1 if any(not run["export"]["complete"] for run in results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
