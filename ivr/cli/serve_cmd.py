"""``hotline serve``: the FastAGI server for both hotlines (a hotline node, without a console)."""

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
from ivr.stack import start_node

log = logging.getLogger("hotline.serve")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run the FastAGI server for 12333 and 96102")
    parser.add_argument("--host", help="listen address (default HOTLINE_AGI_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default HOTLINE_AGI_PORT or 4573)")
    parser.add_argument(
        "--ami",
        action="store_true",
        help="also run the AMI bridge (hang-up causes, live channel state)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.host:
        settings = dataclasses.replace(settings, agi_host=args.host)
    if args.port is not None:
        settings = dataclasses.replace(settings, agi_port=args.port)
    asyncio.run(serve(settings, ami=args.ami))
    return 0


async def serve(settings: Settings, *, ami: bool = False) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        node = await start_node(settings, stack, ami=ami)
        freeze_start_up()
        host = settings.agi_host
        log.info(
            "FastAGI listening on %s:%s (agi://%s:%s/12333, /96102); database %s",
            host,
            node.agi.port,
            host,
            node.agi.port,
            _safe_url(settings.database_url),
        )
        if node.ops is not None:
            log.info("metrics and health: %s/metrics, /healthz, /readyz", node.ops.url)
        notify("READY=1", f"STATUS=FastAGI on {host}:{node.agi.port}")
        await stop.wait()
        notify("STOPPING=1")


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
