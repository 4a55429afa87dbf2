"""``hotline db upgrade|seed|prune``: schema migrations, deterministic demo data (``--calls N``: a
realistic month of calls besides, for volume tests), and the retention policy applied by hand (the
running hotline applies it daily)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import date, timedelta
from typing import Any

from ivr.config import Settings
from ivr.domain.clock import local_today
from ivr.domain.workdays import open_calendar
from ivr.store.database import open_database, upgrade_database
from ivr.store.retention import PruneReport, Retention
from ivr.store.seed import seed_demo
from ivr.store.types import utcnow
from ivr.traffic.month import Traffic, identities, random_ids, write_traffic

CALLERS_PER_IDENTITY = 20  # calls per identified person, on average, over the seeded days


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database schema and demo data")
    db_commands = parser.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply schema migrations (Alembic)")
    upgrade.set_defaults(func=run_upgrade)
    seed = db_commands.add_parser("seed", help="fill deterministic demo data for testers")
    seed.add_argument("--citizens", type=int, default=50, help="how many citizens (default 50)")
    seed.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    seed.add_argument("--show", type=int, default=5, help="how many test IDs to print")
    seed.add_argument(
        "--calls",
        type=int,
        default=0,
        help="also write this many finished calls over the last --days days (default none)",
    )
    seed.add_argument(
        "--days", type=int, default=30, help="the days the calls spread over, up to yesterday"
    )
    seed.set_defaults(func=run_seed)
    prune = db_commands.add_parser(
        "prune",
        help="delete the recordings and call paths past their retention (audited)",
        description="Delete what the retention policy says is due now: recordings older than "
        "HOTLINE_RECORDING_RETENTION_DAYS (unless their loss report is open or their voice "
        "message not handled yet) and the paths of calls older than "
        "HOTLINE_CALL_PATH_RETENTION_DAYS. Each deletion is audited under your login name.",
    )
    prune.add_argument(
        "--dry-run", action="store_true", help="only tell what would be deleted; delete nothing"
    )
    prune.set_defaults(func=run_prune)


def run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    settings.make_data_dir()
    asyncio.run(upgrade_database(settings.database_url))
    print("database schema is up to date")
    return 0


def run_seed(args: argparse.Namespace, settings: Settings) -> int:
    settings.make_data_dir()
    if args.calls < 0 or args.days < 1:
        print("hotline: --calls must be 0 or more and --days 1 or more", file=sys.stderr)
        return 2
    demo = asyncio.run(_seed(settings, args.citizens, args.seed))
    print(f"seeded {len(demo)} demo citizens (seed {args.seed}). Some to call with:")
    print(f"  {'ID number (key * for X)':<24} {'password':<9} {'card':<20} name")
    for citizen in demo[: args.show]:
        keyed = citizen.id_number.replace("X", "*")
        print(
            f"  {keyed:<24} {citizen.initial_password:<9} {citizen.card_status:<20} {citizen.name}"
        )
    if args.calls:
        written = asyncio.run(_seed_calls(settings, args.calls, args.days, args.seed))
        print(f"wrote {written} calls over the {args.days} days up to yesterday")
    return 0


async def _seed(settings: Settings, citizens: int, seed: int) -> list[Any]:
    await upgrade_database(settings.database_url)
    database = await open_database(settings.database_url)
    try:
        calendar = await asyncio.to_thread(
            open_calendar, settings.holiday_schedule_file, date.today()
        )
        return await seed_demo(
            database,
            citizens=citizens,
            seed=seed,
            key=settings.hash_key(),
            today=date.today(),
            calendar=calendar,
        )
    finally:
        await database.close()


async def _seed_calls(settings: Settings, calls: int, days: int, seed: int) -> int:
    """A month (``days``) of calls up to yesterday, local time, with their paths and rollups."""
    today = local_today()
    calendar = await asyncio.to_thread(open_calendar, settings.holiday_schedule_file, today)
    people = identities(
        settings.hash_key(), random_ids(seed, max(10, calls // CALLERS_PER_IDENTITY))
    )
    traffic = Traffic(
        calls=calls,
        first=today - timedelta(days=days),
        last=today - timedelta(days=1),
        seed=seed,
        people=people,
        calendar=calendar,
    )
    database = await open_database(settings.database_url)
    try:
        shown = [0]

        def progress(written: int) -> None:  # about every tenth of the way
            if written == calls or written - shown[0] >= calls / 10:
                shown[0] = written
                print(f"  {written} of {calls} calls written", file=sys.stderr)

        return await write_traffic(database, traffic, progress=progress)
    finally:
        await database.close()


def run_prune(args: argparse.Namespace, settings: Settings) -> int:
    settings.make_data_dir()
    report = asyncio.run(_prune(settings, dry_run=args.dry_run, actor=operator()))
    if args.dry_run:
        print(f"would delete {report.summary()} (dry run: nothing deleted)")
    else:
        print(f"deleted {report.summary()}")
    _print_ids(report)
    return 0


def operator() -> str:
    """Who runs the command, as the audit log names them (the person behind sudo)."""
    name = os.environ.get("SUDO_USER")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # a container's user without a name
            name = f"uid-{os.getuid()}"
    return f"operator:{name}"


async def _prune(settings: Settings, *, dry_run: bool, actor: str) -> PruneReport:
    database = await open_database(settings.database_url)
    try:
        retention = Retention(database, settings)
        now = utcnow()
        return await retention.due(now) if dry_run else await retention.prune(now, actor=actor)
    finally:
        await database.close()


def _print_ids(report: PruneReport, most: int = 20) -> None:
    for label, ids in (("recordings", report.recordings), ("call paths", report.call_paths)):
        if ids:
            more = f" and {len(ids) - most} more" if len(ids) > most else ""
            print(f"  {label}: {', '.join(map(str, ids[:most]))}{more}")
