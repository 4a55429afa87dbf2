"""The FastAGI routes of the hotlines: ``agi://host:port/12333`` runs the 12333 flow, and so on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ivr.agi.channel import AGIChannel
from ivr.config import Settings
from ivr.domain.hotlines import HOTLINES
from ivr.runtime.agi_port import AgiPort, SoundJoiner
from ivr.runtime.call import CallRunner

__all__ = ["AgiHandler", "agi_routes"]

AgiHandler = Callable[[AGIChannel], Awaitable[None]]


def agi_routes(
    runner: CallRunner, settings: Settings, joined: SoundJoiner
) -> dict[str, AgiHandler]:
    """One handler per hotline: each call gets its own port and context; the joined prompts are
    shared by every call."""
    return {hotline: _handler(runner, settings, joined, hotline) for hotline in HOTLINES}


def _handler(
    runner: CallRunner, settings: Settings, joined: SoundJoiner, hotline: str
) -> AgiHandler:
    async def handle(channel: AGIChannel) -> None:
        ctx = runner.context(
            hotline,
            caller_id=channel.caller_id,
            uniqueid=channel.uniqueid,
            channel=channel.channel,
        )
        await runner.run(AgiPort(channel, settings, joined=joined), ctx)

    handle.__name__ = f"hotline_{hotline}"
    return handle
