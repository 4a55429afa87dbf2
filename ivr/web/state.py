"""What the console's handlers share, built once at start-up and frozen: settings, stores, keys.

Handlers reach it through ``console(request)``; nothing here is global, so two apps (tests, or
``hotline up`` next to ``hotline web``) never see each other's state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from ivr.config import Settings
from ivr.domain.retention import RetentionPolicy
from ivr.domain.workdays import WorkCalendar
from ivr.live.view import LiveView
from ivr.speech.catalog import Catalog
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackTasks
from ivr.store.console import ConsoleRecords
from ivr.store.records import Records
from ivr.store.stats import Statistics
from ivr.store.users import Accounts, SessionView

if TYPE_CHECKING:  # the languages' module reads the console state: no import at run time
    from ivr.web.plumbing.i18n import Languages

__all__ = ["CONSOLE", "SESSION", "Console", "console", "session_of"]


@dataclass(frozen=True)
class Console:
    settings: Settings
    records: Records
    calls: ConsoleRecords
    callbacks: CallbackTasks  # the voice messages' call-back queue
    accounts: Accounts
    audit: AuditLog
    stats: Statistics
    live: LiveView  # the live board of the hotline's process, or the database's unended calls
    calendar: WorkCalendar  # Chinese working days (the new card's pick-up date)
    retention: RetentionPolicy  # when recordings and call paths are deleted (pages tell it)
    catalog: Catalog
    languages: Languages  # the console's languages with their catalogues
    cookie_key: bytes  # signs the session cookies
    id_key: bytes  # the ID-number HMAC key (to look calls up by a typed ID number)
    dummy_hash: str  # checked for unknown users, so a login takes as long either way
    stopping: asyncio.Event  # set at shutdown: live streams end


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("session", SessionView)


def console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def session_of(request: web.Request) -> SessionView | None:
    return request.get(SESSION)
