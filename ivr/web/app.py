"""The console's app factory and a helper that serves it; start-up and clean-up come in pairs.

``create_app`` takes its dependencies (settings, the database, the live calls to read: the live
board in the hotline's process, the database's unended calls alone) and holds no global state:
what handlers need is built at start-up into one frozen ``Console`` (``ivr.web.state``). The
database belongs to the caller and is not closed here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from ivr.config import Settings
from ivr.domain.account_password import hash_password_async
from ivr.domain.retention import RetentionPolicy
from ivr.domain.workdays import WorkCalendar
from ivr.live.view import LiveView
from ivr.ops.server import HttpServer, serve
from ivr.speech.catalog import Catalog
from ivr.store.audit import AuditLog
from ivr.store.callbacks import CallbackTasks
from ivr.store.console import ConsoleRecords
from ivr.store.database import Database
from ivr.store.records import Records
from ivr.store.stats import Statistics
from ivr.store.users import Accounts
from ivr.web import (
    accounts,
    audit,
    auth,
    callbacks,
    citizens,
    health,
    language,
    openapi,
    prompts,
)
from ivr.web import live as live_calls
from ivr.web.calls import detail, export, log, recordings
from ivr.web.cases import certificate
from ivr.web.cases import page as cases
from ivr.web.plumbing.csrf import csrf_middleware
from ivr.web.plumbing.errors import client_errors
from ivr.web.plumbing.headers import name_server, security_headers
from ivr.web.plumbing.i18n import load_languages
from ivr.web.plumbing.menu import MENU, Menu
from ivr.web.plumbing.routing import Routes, add_routes
from ivr.web.plumbing.secret import load_secret
from ivr.web.plumbing.sessions import new_token, session_middleware
from ivr.web.plumbing.templating import context_processor, filters, install_gettext
from ivr.web.state import CONSOLE, Console
from ivr.web.stats import page as stats

__all__ = ["WebServer", "create_app", "start_web"]

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SHUTDOWN_TIMEOUT_S = 5.0
# Every page with its API; the menu lists the labelled pages in this order.
ROUTES: tuple[Routes, ...] = (
    auth.routes,
    live_calls.routes,
    log.routes,
    export.routes,
    detail.routes,
    recordings.routes,
    cases.routes,
    certificate.routes,
    callbacks.routes,
    citizens.routes,
    stats.routes,
    prompts.routes,
    accounts.routes,
    audit.routes,
    language.routes,
    openapi.routes,
    health.routes,
)


def create_app(
    settings: Settings, database: Database, *, live: LiveView, calendar: WorkCalendar
) -> web.Application:
    """The console; its state is built when the app starts (see ``_console_context``)."""
    app = web.Application(
        middlewares=[security_headers, client_errors, session_middleware, csrf_middleware]
    )
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        context_processors=[context_processor],
        filters=filters(),
    )
    install_gettext(env)
    add_routes(app, *ROUTES)
    app[MENU] = Menu.from_routes(ROUTES)
    app.router.add_static("/static", STATIC, name="static")
    app.on_response_prepare.append(name_server)
    app.cleanup_ctx.append(_console_context(settings, database, live, calendar))
    app.on_shutdown.append(_stop_streams)
    return app


def _console_context(
    settings: Settings, database: Database, live: LiveView, calendar: WorkCalendar
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        # Files are read in worker threads: the event loop may already serve calls.
        cookie_key = await asyncio.to_thread(load_secret, settings.data_dir)
        id_key = await asyncio.to_thread(settings.hash_key)
        catalog = await asyncio.to_thread(Catalog.load)
        languages = await asyncio.to_thread(load_languages)
        app[CONSOLE] = Console(
            settings=settings,
            records=Records(database),
            calls=ConsoleRecords(database),
            callbacks=CallbackTasks(database),
            accounts=Accounts(database),
            audit=AuditLog(database),
            stats=Statistics(database),
            live=live,
            calendar=calendar,
            retention=RetentionPolicy.from_settings(settings),
            catalog=catalog,
            languages=languages,
            cookie_key=cookie_key,
            id_key=id_key,
            dummy_hash=await hash_password_async(new_token()),
            stopping=asyncio.Event(),
        )
        yield  # nothing to undo: the database is the caller's to close

    return context


async def _stop_streams(app: web.Application) -> None:
    """Shutdown begins: the live event streams end instead of holding the server open."""
    if CONSOLE in app:
        app[CONSOLE].stopping.set()


WebServer = HttpServer  # a running console; ``close`` stops it (the database stays open)


async def start_web(
    settings: Settings,
    database: Database,
    live: LiveView,
    calendar: WorkCalendar,
    *,
    host: str | None = None,
    port: int | None = None,
) -> WebServer:
    """Serve the console on ``host:port`` (default: the settings; port 0 picks a free one)."""
    app = create_app(settings, database, live=live, calendar=calendar)
    return await serve(
        app,
        host=host or settings.web_host,
        port=settings.web_port if port is None else port,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        access_log=True,
    )
