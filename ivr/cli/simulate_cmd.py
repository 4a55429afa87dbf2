"""``hotline simulate 12333|96102``: a call in the terminal, on the same flows and database."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ivr.config import Settings
from ivr.domain.hotlines import HOTLINES
from ivr.engine.context import CallContext
from ivr.sim.console import ConsolePort, parse_keys
from ivr.speech.catalog import Catalog
from ivr.stack import running_core
from ivr.store.database import upgrade_database


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("simulate", help="run a call flow in the terminal")
    parser.add_argument("hotline", choices=HOTLINES)
    parser.add_argument(
        "--keys",
        help='scripted call: one entry per input, "-" for silence, '
        'e.g. "1,11010519491231002*#,231002#,1"; keys beyond an input are keyed ahead',
    )
    parser.add_argument("--caller", default="13800000000", help="the calling number")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    ctx = asyncio.run(simulate(settings, args.hotline, args.keys, args.caller))
    print(f"call {ctx.call_id} ended: outcome={ctx.outcome} next={ctx.then or '-'} at {ctx.node}")
    return 0


async def simulate(settings: Settings, hotline: str, keys: str | None, caller: str) -> CallContext:
    settings.make_data_dir()
    await upgrade_database(settings.database_url)
    async with running_core(settings) as core:
        port = ConsolePort(
            Catalog.load(),
            settings.recordings_dir,
            entries=parse_keys(keys) if keys is not None else None,
        )
        ctx = core.runner.context(
            hotline,
            caller_id=caller,
            channel="Console/simulator",
            uniqueid=f"sim-{asyncio.get_running_loop().time():.6f}",
        )
        return await core.runner.run(port, ctx)
