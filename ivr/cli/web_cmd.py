"""``hotline web``: the supervisor console alone, against the hotline's database.

Live calls then come from the database (calls not ended yet); ``hotline up`` runs the console in
the hotline's own process instead, where it sees each call's menu position as it changes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from ivr.config import Settings
from ivr.store.database import open_database, upgrade_database
from ivr.web import start_web

log = logging.getLogger("hotline.web")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("web", help="run the supervisor console (web) alone")
    parser.add_argument("--host", help="listen address (default HOTLINE_WEB_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default HOTLINE_WEB_PORT or 8080)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(serve(settings, host=args.host, port=args.port))
    return 0


async def serve(settings: Settings, *, host: str | None, port: int | None) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_database(settings.database_url)  # at head already: nothing to do
    database = await open_database(settings.database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        server = await start_web(settings, database, host=host, port=port)
        try:
            log.info("supervisor console on %s (add accounts with `hotline users add`)", server.url)
            await stop.wait()
        finally:
            await server.close()
    finally:
        await database.close()
