"""The composition root: every long-lived object of a running hotline is built here, once, in
order, from the settings; each registers its stop on an ``AsyncExitStack`` so they unwind in
reverse (console, AMI bridge, FastAGI server, Asterisk, database).

    hotline up      start_stack    data ready (schema, prompts, demo seed), Asterisk, node, console
    hotline serve   start_node     the core, its FastAGI server (and the AMI bridge), the ops
                                   server (/metrics, /healthz, /readyz)
    hotline web     start_console  the console alone; live calls from the database
    tests           open_core      database, records, live board, engine and call runner (and the
                                   daily prune of the retention policy)

Data flows one way: the call runner and the AMI bridge publish into the live board, given to
them here at construction; the console reads the board (or the database) through ``LiveView``.
The node's metrics are built here too; the parts are given its bound methods as plain callables
(the runner's ``on_call_ended``, the FastAGI server's ``on_command``...), and the calls in
progress and the AMI link are read from the board when Prometheus scrapes.
Nothing built here is re-wired later, and nothing below this module imports it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date
from typing import TYPE_CHECKING

from ivr.agi.protocol import COMMAND_NAMES
from ivr.agi.server import FastAGIServer
from ivr.ami.admission import AdmissionGate
from ivr.ami.bridge import AMIBridge, start_bridge
from ivr.config import PRIVATE_DIR_MODE, Settings
from ivr.domain.callers import LanguageMemory
from ivr.domain.clock import local_today
from ivr.domain.retention import RetentionPolicy
from ivr.domain.verifier import PasswordVerifier
from ivr.domain.workdays import WorkCalendar, open_calendar
from ivr.flows import build_engine, required_sounds
from ivr.flows.actions import Services
from ivr.live.board import LiveBoard
from ivr.live.events import LiveEvent
from ivr.live.view import DatabaseLiveView, LiveView
from ivr.ops.metrics import NodeMetrics
from ivr.ops.readiness import BuiltPrompts, Readiness
from ivr.ops.server import OpsServer, start_ops
from ivr.prompts.build import build_prompts
from ivr.prompts.joined import JoinedPrompts
from ivr.runtime.agi_routes import AgiHandler, agi_routes
from ivr.runtime.call import CallRunner
from ivr.runtime.dialplan_messages import DialplanMessages
from ivr.runtime.heartbeat import Heartbeat
from ivr.runtime.housekeeping import Housekeeping
from ivr.runtime.live_relay import LiveReceiver, LiveSender, pg_connect
from ivr.speech.catalog import Catalog
from ivr.store.console import ConsoleRecords
from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.observe import OPERATIONS
from ivr.store.records import Records
from ivr.store.retention import Retention
from ivr.store.seed import DemoCitizen, seed_demo
from ivr.web import WebServer, start_web

if TYPE_CHECKING:
    from ivr.telephony.supervisor import AsteriskSupervisor

__all__ = [
    "Core",
    "Node",
    "Stack",
    "open_core",
    "running_core",
    "start_console",
    "start_node",
    "start_stack",
]

log = logging.getLogger(__name__)

DEMO_CITIZENS = 50
LivePublisher = Callable[[LiveEvent], None]


@dataclasses.dataclass(frozen=True)
class Core:
    """What a process that takes calls holds: one database, the live board, the call runner."""

    settings: Settings
    database: Database
    records: Records
    board: LiveBoard
    publish: LivePublisher  # where producers push live events: the board (and the relay)
    runner: CallRunner
    calendar: WorkCalendar  # Chinese working days, read once: the console's card steps use it
    metrics: NodeMetrics  # this process's registry: what the parts tell, what the board shows
    verifier: PasswordVerifier  # query passwords, on threads of their own
    joined: JoinedPrompts  # prompts played in a row, joined into one sound for every call

    def agi_routes(self) -> dict[str, AgiHandler]:
        return agi_routes(self.runner, self.settings, self.joined)


async def open_core(settings: Settings, stack: AsyncExitStack) -> Core:
    await asyncio.to_thread(settings.make_data_dir)
    await asyncio.to_thread(settings.recordings_dir.mkdir, mode=PRIVATE_DIR_MODE, exist_ok=True)
    board = LiveBoard()
    metrics = NodeMetrics(board.current, commands=COMMAND_NAMES, operations=OPERATIONS)
    database = await open_database(
        settings.database_url, on_statement=metrics.db_operation, on_error=metrics.db_error
    )
    stack.push_async_callback(database.close)
    records = Records(database)
    publish: LivePublisher = board.publish
    on_dead: Callable[[str], None] = _no_console
    if database.dialect == "postgresql":  # nodes share it: every console sees every node's calls
        sender = LiveSender(pg_connect(settings.database_url), settings.node, board)
        await sender.start()
        stack.push_async_callback(sender.close)
        publish, on_dead = tee(board.publish, sender.publish), sender.node_gone
    # This process's run: calls a crash leaves open are closed by the next start (or a node
    # sharing the database). Stopped after the calls end, before the database closes.
    heartbeat = Heartbeat(
        records,
        node=settings.node,
        interval=settings.heartbeat_interval,
        stale_after=settings.heartbeat_stale_after,
        on_dead=on_dead,
    )
    await heartbeat.start()
    stack.push_async_callback(heartbeat.close)
    # The retention policy's daily prune; stopped before the heartbeat and the database.
    housekeeping = Housekeeping(Retention(database, settings))
    await housekeeping.start()
    stack.push_async_callback(housekeeping.close)
    # Recordings kept in the database too when several nodes may share it.
    archive_recordings = database.dialect == "postgresql"
    # Messages the dialplan records when no agent takes the call: into the records.
    messages = DialplanMessages(
        records, settings.recordings_dir, settings.data_dir, archive=archive_recordings
    )
    await messages.start()
    stack.push_async_callback(messages.close)
    id_key = await asyncio.to_thread(settings.hash_key)
    calendar = await _calendar(settings)
    catalog = await asyncio.to_thread(Catalog.load)  # files: off the event loop
    # argon2id on a pool of its own: a burst of logins never delays another caller's command.
    # Closed after the FastAGI server (pushed later, so stopped first) has ended the calls.
    verifier = PasswordVerifier.from_settings(settings)
    stack.push_async_callback(verifier.close)
    languages = LanguageMemory(id_key, RetentionPolicy.from_settings(settings))
    services = Services(
        records=records,
        settings=settings,
        id_key=id_key,
        verifier=verifier,
        languages=languages,
        archive_recordings=archive_recordings,
        password_checked=metrics.password_checked,
    )
    engine = build_engine(services, catalog)
    runner = CallRunner(
        engine,
        records,
        publish=publish,
        run=heartbeat,
        on_call_ended=metrics.call_ended,
        node=settings.node,
        languages=languages,
    )
    joined = JoinedPrompts(settings.prompts_dir)
    return Core(
        settings, database, records, board, publish, runner, calendar, metrics, verifier, joined
    )


def _no_console(node: str) -> None:
    """Nobody to tell of a dead node: one node, its own console reads its own board."""


def tee(*publishers: LivePublisher) -> LivePublisher:
    """One producer's events to several places (this node's board and the other consoles)."""

    def publish(event: LiveEvent) -> None:
        for each in publishers:
            each(event)

    return publish


async def _calendar(settings: Settings) -> WorkCalendar:
    """The shipped and the operator's holiday schedules (files: off the event loop)."""
    return await asyncio.to_thread(open_calendar, settings.holiday_schedule_file, local_today())


@asynccontextmanager
async def running_core(settings: Settings) -> AsyncIterator[Core]:
    """``open_core`` for one ``async with`` block (tests, one-shot commands)."""
    async with AsyncExitStack() as stack:
        yield await open_core(settings, stack)


@dataclasses.dataclass(frozen=True)
class Node:
    """A hotline node: the core, its FastAGI server, the AMI bridge and the admission gate when
    it follows Asterisk, and its ops server (None when ``HOTLINE_OPS_HOST`` is empty)."""

    core: Core
    agi: FastAGIServer
    bridge: AMIBridge | None
    gate: AdmissionGate | None
    ops: OpsServer | None


async def start_node(
    settings: Settings, stack: AsyncExitStack, *, ami: bool, core: Core | None = None
) -> Node:
    core = core or await open_core(settings, stack)
    agi = FastAGIServer(
        core.agi_routes(),
        host=settings.agi_host,
        port=settings.agi_port,
        command_timeout=settings.agi_reply_seconds,
        max_connections=settings.agi_max_connections,
        on_command=core.metrics.agi_command,
        on_refused=core.metrics.agi_refused,
    )
    await agi.start()
    stack.push_async_callback(agi.stop)  # before the database closes: calls end their records
    bridge = gate = None
    if ami:
        bridge = await start_bridge(
            settings, core.records, core.publish, call_ended=core.metrics.call_ended
        )
        stack.push_async_callback(bridge.close)
        # Past saturation new calls are refused while password checks queue (on the bridge's
        # AMI link); stopped before it.
        verifier = core.verifier
        gate = AdmissionGate(
            bridge.client, lambda: verifier.crowded, closed=core.metrics.admission_closed
        )
        gate.start()
        stack.push_async_callback(gate.close)
    ops = await _start_ops(settings, stack, core, ami=ami)
    return Node(core, agi, bridge, gate, ops)


async def _start_ops(
    settings: Settings, stack: AsyncExitStack, core: Core, *, ami: bool
) -> OpsServer | None:
    """The node's /metrics, /healthz and /readyz; ready once it follows Asterisk (``ami``) and
    every prompt is built."""
    if not settings.ops_host:
        return None
    readiness = Readiness(
        database=core.database.ping,
        live=core.board,
        ami=ami,
        prompts=BuiltPrompts(settings, required_sounds),
    )
    ops = await start_ops(core.metrics, readiness, host=settings.ops_host, port=settings.ops_port)
    stack.push_async_callback(ops.close)
    return ops


async def start_console(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    database: Database | None = None,
    live: LiveView | None = None,
    calendar: WorkCalendar | None = None,
) -> WebServer:
    """The supervisor console; alone (nothing given) it opens its own database, reads live calls
    from it, and reads the holiday schedules its card steps count working days with."""
    if calendar is None:
        calendar = await _calendar(settings)
    if database is None:
        database = await open_database(settings.database_url)
        stack.push_async_callback(database.close)
    if live is None and database.dialect == "postgresql":
        # The nodes tell their calls through the database: this console's board hears them all.
        board = LiveBoard()
        receiver = LiveReceiver(pg_connect(settings.database_url), board, own_node=settings.node)
        await receiver.start()
        stack.push_async_callback(receiver.close)
        live = board
    elif live is None:
        live = DatabaseLiveView(
            ConsoleRecords(database), stale_after=settings.heartbeat_stale_after
        )
    server = await start_web(settings, database, live, calendar)
    stack.push_async_callback(server.close)
    return server


@dataclasses.dataclass(frozen=True)
class Stack:
    """What ``hotline up`` runs, and what its welcome message tells."""

    settings: Settings
    node: Node
    testers: list[DemoCitizen]
    parts: list[str]
    web: WebServer | None
    asterisk: AsteriskSupervisor | None  # restarts Asterisk when it dies; may give up


async def start_stack(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    asterisk: bool = True,
    web: bool = True,
    ami: bool = True,
    seed: bool = True,
) -> Stack:
    """Every part of the local hotline, in order; each registers its stop on ``stack``."""
    if asterisk:
        from ivr.telephony import recordings_dir_in_asterisk

        settings = dataclasses.replace(
            settings, asterisk_recordings_dir=str(recordings_dir_in_asterisk(settings))
        )
    await _prepare_data(settings)
    core = await open_core(settings, stack)
    testers = []
    if seed:
        testers = await seed_demo(
            core.database,
            citizens=DEMO_CITIZENS,
            seed=1,
            key=await asyncio.to_thread(settings.hash_key),
            today=date.today(),
            calendar=core.calendar,
        )
    parts = ["database", "prompts"]
    supervisor = None
    if asterisk:
        from ivr.telephony import LocalAsterisk
        from ivr.telephony.supervisor import AsteriskSupervisor

        supervisor = AsteriskSupervisor(LocalAsterisk(settings))
        await supervisor.start()
        stack.push_async_callback(supervisor.close)
        parts.append("asterisk")
    node = await start_node(settings, stack, ami=ami and asterisk, core=core)
    parts.append("fastagi")
    if node.bridge is not None:
        parts.append("ami bridge")
    console = None
    if web:
        console = await start_console(
            settings,
            stack,
            database=core.database,
            # on PostgreSQL other nodes may share the database: the console hears them all
            live=None if core.database.dialect == "postgresql" else core.board,
            calendar=core.calendar,
        )
        parts.append("web console")
    return Stack(settings, node, testers, parts, console, supervisor)


async def _prepare_data(settings: Settings) -> None:
    """Schema up to date and prompts built (incremental): what a call needs before the first."""
    await asyncio.to_thread(settings.make_data_dir)
    await upgrade_database(settings.database_url)
    catalog = await asyncio.to_thread(Catalog.load)
    report = await build_prompts(settings, catalog)
    if not report.ok:
        raise RuntimeError("some prompts could not be built:\n" + report.summary())
