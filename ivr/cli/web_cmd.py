"""``hotline web``: the supervisor console alone, against the hotline's database.

Live calls then come from the database (call records not ended yet, of hotline processes that
are alive); ``hotline up`` runs the console in the hotline's own process instead, where it reads
the live board and sees each call's menu position and queue wait as they change.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
from contextlib import AsyncExitStack
from typing import Any

from ivr.cli.sdnotify import notify
from ivr.cli.startup import freeze_start_up
from ivr.config import Settings
from ivr.stack import start_console
from ivr.store.database import upgrade_database

log = logging.getLogger("hotline.web")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("web", help="run the supervisor console (web) alone")
    parser.add_argument("--host", help="listen address (default HOTLINE_WEB_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default HOTLINE_WEB_PORT or 8080)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.host:
        settings = dataclasses.replace(settings, web_host=args.host)
    if args.port is not None:
        settings = dataclasses.replace(settings, web_port=args.port)
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings) -> None:
    await asyncio.to_thread(settings.make_data_dir)
    await upgrade_database(settings.database_url)  # at head already: nothing to do
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        server = await start_console(settings, stack)
        freeze_start_up()
        log.info("supervisor console on %s (add accounts with `hotline users add`)", server.url)
        notify("READY=1", f"STATUS=console on {server.url}")
        await stop.wait()
        notify("STOPPING=1")
