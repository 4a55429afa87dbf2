"""Readiness: can this process do its work now? One rule, for every ``/readyz`` (the node's ops
server and the console's).

The parts, each probed when asked:

- ``database``: it answers (``SELECT 1``) within ``DATABASE_PROBE_SECONDS``;
- ``telephony``: the AMI link to Asterisk, as the live board has it from the AMI bridge. A process
  that follows Asterisk (``ami=True``: a node with its bridge) is not ready until the link is up;
  one that does not (the console alone, ``hotline serve`` without ``--ami``) says ``unknown`` and is
  not held back by it, unless a bridge told it the link is down;
- ``prompts`` (a node only): every sound the flows can play is built, in every language.

Ready when no part is down. The body says each part, and why telephony is down since when.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from ivr.config import Settings
from ivr.live.board import LiveSnapshot
from ivr.prompts.build import is_built
from ivr.speech.catalog import LANGUAGES

__all__ = ["DATABASE_PROBE_SECONDS", "BuiltPrompts", "Readiness", "ReadinessReport"]

# A database that does not answer a probe this fast is as good as down for a caller.
DATABASE_PROBE_SECONDS = 3.0

UP, DOWN, UNKNOWN = "up", "down", "unknown"


class LiveSource(Protocol):
    """Where the AMI link's state is read (``LiveBoard`` and ``LiveView`` fit)."""

    async def snapshot(self) -> LiveSnapshot: ...


class PromptsProbe(Protocol):
    async def missing(self) -> int:
        """How many (language, sound) pairs the flows can play are not built."""
        ...


@dataclass(frozen=True)
class ReadinessReport:
    ready: bool
    parts: Mapping[str, str]  # part -> up / down / unknown
    details: Mapping[str, object]  # why a part is down

    @property
    def http_status(self) -> int:
        return 200 if self.ready else 503

    def body(self) -> dict[str, object]:
        return {"ready": self.ready, **self.parts, **self.details}


class Readiness:
    def __init__(
        self,
        *,
        database: Callable[[], Awaitable[bool]],
        live: LiveSource,
        ami: bool = False,
        prompts: PromptsProbe | None = None,
    ) -> None:
        self._database = database
        self._live = live
        self._ami = ami
        self._prompts = prompts

    async def check(self) -> ReadinessReport:
        parts: dict[str, str] = {}
        details: dict[str, object] = {}
        parts["database"] = UP if await self._database_answers() else DOWN
        telephony = (await self._live.snapshot()).telephony
        if telephony is not None:
            parts["telephony"] = UP if telephony.up else DOWN
            if not telephony.up:
                details["telephony_down_since"] = telephony.since.isoformat()
                details["telephony_reason"] = telephony.reason
        elif self._ami:
            parts["telephony"] = DOWN
            details["telephony_reason"] = "AMI not connected yet"
        else:
            parts["telephony"] = UNKNOWN
        if self._prompts is not None:
            missing = await self._prompts.missing()
            parts["prompts"] = DOWN if missing else UP
            if missing:
                details["prompts_missing"] = missing
        return ReadinessReport(DOWN not in parts.values(), parts, details)

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(DATABASE_PROBE_SECONDS):
                return await self._database()
        except TimeoutError:
            return False


class BuiltPrompts:
    """Whether every sound the flows can play (``required(language)``) is built in every
    language (``hotline prompts build``; ``hotline up`` builds them). The files are looked at in a
    worker thread; once all are there they are not looked at again."""

    def __init__(
        self,
        settings: Settings,
        required: Callable[[str], Iterable[str]],
        languages: Collection[str] = LANGUAGES,
    ) -> None:
        self._settings = settings
        self._required = required
        self._languages = tuple(languages)
        self._complete = False

    async def missing(self) -> int:
        if self._complete:
            return 0
        count = await asyncio.to_thread(self._count_missing)
        self._complete = count == 0
        return count

    def _count_missing(self) -> int:
        return sum(
            not is_built(self._settings, language, key)
            for language in self._languages
            for key in self._required(language)
        )
