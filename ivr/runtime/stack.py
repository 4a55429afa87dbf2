"""The whole local stack for ``hotline up``: database, prompts, Asterisk, FastAGI, AMI bridge and
supervisor console, started in order and stopped in reverse."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import date
from typing import Any

from ivr.agi.server import FastAGIServer
from ivr.config import Settings
from ivr.prompts.build import build_prompts
from ivr.runtime.app import Hotline
from ivr.speech.catalog import Catalog
from ivr.store.database import upgrade_database
from ivr.store.seed import DemoCitizen, seed_demo

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Stack:
    settings: Settings
    hotline: Hotline
    agi: FastAGIServer
    testers: list[DemoCitizen]
    web_url: str | None = None
    parts: list[str] = dataclasses.field(default_factory=list)


async def prepare_data(settings: Settings, *, citizens: int = 50) -> list[DemoCitizen]:
    """Schema up to date, demo citizens present (idempotent), prompts built (incremental)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_database(settings.database_url)
    report = await build_prompts(settings, Catalog.load())
    if not report.ok:
        raise RuntimeError("some prompts could not be built:\n" + report.summary())
    hotline = await Hotline.open(settings)
    try:
        return await seed_demo(
            hotline.database, citizens=citizens, seed=1, key=settings.hash_key(), today=date.today()
        )
    finally:
        await hotline.close()


async def start_stack(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    asterisk: bool = True,
    web: bool = True,
    ami: bool = True,
) -> Stack:
    """Start every part; each registers its stop on ``stack`` (closed in reverse order)."""
    if asterisk:
        from ivr.telephony import (
            recordings_dir_in_asterisk,
            start_local_asterisk,
            stop_local_asterisk,
        )

        settings = dataclasses.replace(
            settings, asterisk_recordings_dir=str(recordings_dir_in_asterisk(settings))
        )
    testers = await prepare_data(settings)
    parts = ["database", "prompts"]
    if asterisk:
        await start_local_asterisk(settings)
        stack.push_async_callback(stop_local_asterisk, settings)
        parts.append("asterisk")
    hotline = await Hotline.open(settings)
    stack.push_async_callback(hotline.close)
    agi = FastAGIServer(hotline.agi_routes(), host=settings.agi_host, port=settings.agi_port)
    await agi.start()
    stack.push_async_callback(agi.stop)
    parts.append("fastagi")
    result = Stack(settings, hotline, agi, testers, parts=parts)
    if ami and asterisk:
        await _optional(stack, result, "ami bridge", _start_bridge)
    if web:
        await _optional(stack, result, "web console", _start_web)
    return result


async def _optional(
    stack: AsyncExitStack,
    result: Stack,
    name: str,
    start: Callable[[AsyncExitStack, Stack], Awaitable[Any]],
) -> None:
    await start(stack, result)
    result.parts.append(name)


async def _start_bridge(stack: AsyncExitStack, result: Stack) -> None:
    from ivr.ami.bridge import start_bridge

    bridge = await start_bridge(result.settings, result.hotline.records, result.hotline.live)
    stack.push_async_callback(bridge.close)
    result.hotline.live.attach_channels(bridge.snapshot)


async def _start_web(stack: AsyncExitStack, result: Stack) -> None:
    from ivr.web.app import start_web

    server = await start_web(result.settings, result.hotline.database, result.hotline.live)
    stack.push_async_callback(server.close)
    result.web_url = server.url
