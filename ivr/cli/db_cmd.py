"""``hotline db upgrade|seed``: schema migrations and deterministic demo data."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from typing import Any

from ivr.config import Settings
from ivr.store.database import open_database, upgrade_database
from ivr.store.seed import seed_demo


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database schema and demo data")
    db_commands = parser.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply schema migrations (Alembic)")
    upgrade.set_defaults(func=run_upgrade)
    seed = db_commands.add_parser("seed", help="fill deterministic demo data for testers")
    seed.add_argument("--citizens", type=int, default=50, help="how many citizens (default 50)")
    seed.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    seed.add_argument("--show", type=int, default=5, help="how many test IDs to print")
    seed.set_defaults(func=run_seed)


def run_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(upgrade_database(settings.database_url))
    print("database schema is up to date")
    return 0


def run_seed(args: argparse.Namespace, settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    demo = asyncio.run(_seed(settings, args.citizens, args.seed))
    print(f"seeded {len(demo)} demo citizens (seed {args.seed}). Some to call with:")
    print(f"  {'ID number (key * for X)':<24} {'password':<9} {'card':<20} name")
    for citizen in demo[: args.show]:
        keyed = citizen.id_number.replace("X", "*")
        print(
            f"  {keyed:<24} {citizen.initial_password:<9} {citizen.card_status:<20} {citizen.name}"
        )
    return 0


async def _seed(settings: Settings, citizens: int, seed: int) -> list[Any]:
    await upgrade_database(settings.database_url)
    database = await open_database(settings.database_url)
    try:
        return await seed_demo(
            database, citizens=citizens, seed=seed, key=settings.hash_key(), today=date.today()
        )
    finally:
        await database.close()
