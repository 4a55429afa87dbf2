"""``hotline serve``: the FastAGI server for both hotlines."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from ivr.agi.server import FastAGIServer
from ivr.ami.bridge import start_bridge
from ivr.config import Settings
from ivr.runtime.app import Hotline

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
    asyncio.run(
        serve(
            settings,
            host=args.host or settings.agi_host,
            port=args.port if args.port is not None else settings.agi_port,
            ami=args.ami,
        )
    )
    return 0


async def serve(settings: Settings, *, host: str, port: int, ami: bool = False) -> None:
    hotline = await Hotline.open(settings)
    server = FastAGIServer(hotline.agi_routes(), host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bridge = None
    try:
        await server.start()
        if ami:
            bridge = await start_bridge(settings, hotline.records, hotline.live)
        log.info(
            "FastAGI listening on %s:%s (agi://%s:%s/12333, /96102); database %s",
            host,
            server.port,
            host,
            server.port,
            _safe_url(settings.database_url),
        )
        await stop.wait()
    finally:
        if bridge is not None:
            await bridge.close()
        await server.stop()
        await hotline.close()


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
