"""The running hotline: database, records, engine and live calls, opened and closed as a pair."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ivr.agi.channel import AGIChannel
from ivr.config import Settings
from ivr.domain.hotlines import HOTLINES
from ivr.engine.context import CallContext
from ivr.engine.runner import Engine
from ivr.flows import build_engine
from ivr.flows.actions import Services
from ivr.runtime.agi_port import AgiPort
from ivr.runtime.call import run_call
from ivr.runtime.live import LiveCalls
from ivr.speech.catalog import DEFAULT_LANGUAGE
from ivr.store.database import Database, open_database
from ivr.store.records import Records

log = logging.getLogger(__name__)


@dataclass
class Hotline:
    settings: Settings
    database: Database
    records: Records
    engine: Engine
    live: LiveCalls = field(default_factory=LiveCalls)

    @classmethod
    async def open(cls, settings: Settings) -> Hotline:
        settings.recordings_dir.mkdir(parents=True, exist_ok=True)
        database = await open_database(settings.database_url)
        records = Records(database)
        services = Services(records=records, settings=settings, id_key=settings.hash_key())
        return cls(settings, database, records, build_engine(services))

    async def close(self) -> None:
        await self.database.close()

    def agi_routes(self) -> dict[str, Callable[[AGIChannel], Awaitable[None]]]:
        return {name: self._agi_handler(name) for name in HOTLINES}

    def _agi_handler(self, hotline: str) -> Callable[[AGIChannel], Awaitable[None]]:
        async def handle(channel: AGIChannel) -> None:
            ctx = CallContext(
                hotline=hotline,
                caller_id=channel.caller_id,
                uniqueid=channel.uniqueid,
                channel=channel.channel,
                language=DEFAULT_LANGUAGE,
            )
            port = AgiPort(channel, self.settings)
            await run_call(self.engine, self.records, port, ctx, live=self.live)

        handle.__name__ = f"hotline_{hotline}"
        return handle
