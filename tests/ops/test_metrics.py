"""Each metric of a node moves when its event happens, on real calls through the FastAGI socket,
and what ``/metrics`` serves parses as Prometheus reads it."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from prometheus_client import REGISTRY
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from sqlalchemy import text

from ivr.agi.protocol import COMMAND_NAMES
from ivr.domain.hotlines import HOTLINES
from ivr.domain.outcomes import Outcome
from ivr.live.board import LiveBoard
from ivr.live.events import ChannelChanged, ChannelRefused, TelephonyChanged
from ivr.ops.metrics import NodeMetrics
from ivr.stack import start_node
from ivr.store.observe import OPERATIONS
from tests.agipeer import PeerResult, run_call
from tests.calls.test_faults import closed_port
from tests.calls.test_full_calls import keyed_id, password
from tests.ops.conftest import (
    RunningNode,
    Samples,
    StartNode,
    endpoints,
    node_settings,
    until,
    value,
)


async def balance_call(node: RunningNode, pin: str | None = None, **kw: object) -> PeerResult:
    citizen = node.citizens[0]
    entries = ["-", "1", keyed_id(citizen), pin or password(citizen), "1"]
    return await run_call(
        "127.0.0.1", node.agi_port, "12333", entries, hang_up_when_done=True, **kw
    )  # type: ignore[arg-type]


def changed(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def commands_named(result: PeerResult, name: str) -> int:
    return sum(1 for command in result.commands if command.startswith(name + " "))


async def recorded_outcome(node: RunningNode) -> str:
    async with node.node.core.database.read() as session:
        outcome = await session.scalar(text("SELECT outcome FROM calls ORDER BY id DESC LIMIT 1"))
    return str(outcome)


async def test_a_served_call_is_counted_timed_and_its_password_and_queries_too(
    node: RunningNode,
) -> None:
    before = await node.ops.scrape()
    result = await balance_call(node)
    await node.settled()
    after = await node.ops.scrape()
    assert "hotline/pension_balance_is" in result.heard
    # the call, by hotline and outcome, as its record says it ended
    assert await recorded_outcome(node) == "served"
    for outcome in Outcome:
        counted = changed(before, after, "hotline_calls_total", hotline="12333", outcome=outcome)
        assert counted == (1 if outcome == Outcome.SERVED else 0)
    assert changed(before, after, "hotline_calls_total", hotline="96102", outcome="served") == 0
    # every AGI command Asterisk received was timed, under its name
    names = {"STREAM FILE", "WAIT FOR DIGIT", "GET DATA", "SET VARIABLE", "ANSWER", "EXEC"}
    for name in names:
        count = changed(before, after, "hotline_agi_command_seconds_count", command=name)
        assert count == commands_named(result, name)
    assert sum(commands_named(result, name) for name in names) == len(result.commands)
    assert commands_named(result, "STREAM FILE") > 0
    assert changed(before, after, "hotline_agi_command_seconds_sum", command="STREAM FILE") > 0
    # one right password, verified once
    passwords = "hotline_password_verifications_total"
    assert changed(before, after, passwords, hotline="12333", result="right") == 1
    assert changed(before, after, passwords, hotline="12333", result="wrong") == 0
    assert changed(before, after, "hotline_password_verification_seconds_count") == 1
    assert changed(before, after, "hotline_password_verification_seconds_sum") > 0
    # the call's record was written and its balance read; nothing failed
    for operation in ("select", "insert", "update"):
        assert changed(before, after, "hotline_db_operation_seconds_count", operation=operation) > 0
    assert not any(name == "hotline_db_errors_total" and n for (name, _), n in after.items())


async def test_a_wrong_password_is_counted_as_wrong(node: RunningNode) -> None:
    before = await node.ops.scrape()
    result = await balance_call(node, pin="000000#")
    await node.settled()
    after = await node.ops.scrape()
    assert "hotline/password_wrong" in result.heard
    passwords = "hotline_password_verifications_total"
    assert changed(before, after, passwords, hotline="12333", result="wrong") == 1
    assert changed(before, after, passwords, hotline="12333", result="right") == 0
    assert changed(before, after, "hotline_password_verification_seconds_count") == 1
    outcome = await recorded_outcome(node)
    assert changed(before, after, "hotline_calls_total", hotline="12333", outcome=outcome) == 1


async def test_calls_in_progress_are_read_from_the_live_board(node: RunningNode) -> None:
    async def in_progress(count: int) -> bool:
        samples = await node.ops.scrape()
        return value(samples, "hotline_calls_in_progress", hotline="12333") == count

    assert await in_progress(0)
    call = asyncio.create_task(balance_call(node, audio_seconds=0.1))  # prompts take time
    await until(lambda: in_progress(1))
    assert value(await node.ops.scrape(), "hotline_calls_in_progress", hotline="96102") == 0
    await call
    await node.settled()
    assert await in_progress(0)


def test_a_call_the_dialplan_refuses_is_no_call_in_progress() -> None:
    """Past ``HOTLINE_MAX_CALLS`` the caller hears that the lines are busy for a few seconds: the
    dialplan's cap no longer counts the call, nor does the gauge."""
    board = LiveBoard()
    metrics = NodeMetrics(board.current, commands=COMMAND_NAMES, operations=OPERATIONS)
    at = board.current().at
    board.publish(ChannelChanged("1.1", "96102", "13800000000", "Ring", at))
    board.publish(ChannelChanged("1.2", "96102", "13800000001", "Ring", at))
    board.publish(ChannelRefused("1.2", "96102", at))
    sample = metrics.registry.get_sample_value("hotline_calls_in_progress", {"hotline": "96102"})
    assert sample == 1


async def test_a_connection_beyond_the_cap_is_counted_as_refused(
    database_url: str, tmp_path: Path, start: StartNode
) -> None:
    node = await start(node_settings(tmp_path, database_url, agi_max_connections=1))
    held = asyncio.create_task(balance_call(node, audio_seconds=0.1))
    await until(lambda: _active(node, 1))
    refused = await run_call("127.0.0.1", node.agi_port, "12333", ["-"])
    assert refused.commands == []  # closed before a word: Asterisk's fallback takes the call
    samples = await node.ops.scrape()
    assert value(samples, "hotline_agi_connections_refused_total") == 1
    assert "hotline/pension_balance_is" in (await held).heard
    await node.settled()
    samples = await node.ops.scrape()
    assert value(samples, "hotline_agi_connections_refused_total") == 1
    assert value(samples, "hotline_calls_total", hotline="12333", outcome="served") == 1


async def _active(node: RunningNode, count: int) -> bool:
    return node.node.agi.active_calls == count


async def test_a_failing_query_is_counted_as_a_database_error(node: RunningNode) -> None:
    async with node.node.core.database.write() as session:
        await session.execute(text("DROP TABLE pension_accounts"))
    before = await node.ops.scrape()
    result = await balance_call(node)
    await node.settled()
    after = await node.ops.scrape()
    assert result.heard[-1] == "hotline/technical_problem"
    assert changed(before, after, "hotline_db_errors_total", operation="select") == 1
    assert changed(before, after, "hotline_calls_total", hotline="12333", outcome="error") == 1


async def test_a_database_that_refuses_connections_is_counted_as_connect_errors(
    tmp_path: Path,
) -> None:
    url = f"postgresql://hotline:x@127.0.0.1:{closed_port()}/hotline"
    async with AsyncExitStack() as stack:  # connecting is lazy: the call finds it down
        node = await start_node(node_settings(tmp_path, url), stack, ami=False)
        before = await endpoints(node).scrape()
        result = await run_call("127.0.0.1", node.agi.port, "12333", ["1"])
        after = await endpoints(node).scrape()
    assert result.heard == ["hotline/technical_problem"]
    assert changed(before, after, "hotline_db_errors_total", operation="connect") >= 1
    assert changed(before, after, "hotline_calls_total", hotline="12333", outcome="error") == 1


async def test_a_fresh_node_exposes_every_series_at_zero(node: RunningNode) -> None:
    """Bound at start: a rate over a node that has taken no call yet is 0, not missing."""
    samples = await node.ops.scrape()
    for hotline in HOTLINES:
        for outcome in Outcome:
            key = ("hotline_calls_total", frozenset({("hotline", hotline), ("outcome", outcome)}))
            assert samples[key] == 0
        for result in ("right", "wrong"):
            key = (
                "hotline_password_verifications_total",
                frozenset({("hotline", hotline), ("result", result)}),
            )
            assert samples[key] == 0
    for command in COMMAND_NAMES:
        assert (
            samples[("hotline_agi_command_seconds_count", frozenset({("command", command)}))] == 0
        )
    for operation in ("connect", "select", "insert", "update", "delete"):
        errors = ("hotline_db_errors_total", frozenset({("operation", operation)}))
        assert samples[errors] == 0
        timed = ("hotline_db_operation_seconds_count", frozenset({("operation", operation)}))
        assert timed in samples


async def test_the_exposition_parses_as_openmetrics_with_the_documented_types(
    node: RunningNode,
) -> None:
    await balance_call(node)
    await node.settled()
    status, content_type, body = await node.ops.get(
        "/metrics", Accept="application/openmetrics-text; version=1.0.0"
    )
    assert status == 200 and content_type.startswith("application/openmetrics-text")
    types = {family.name: family.type for family in openmetrics_families(body)}
    assert types == types | {
        "hotline_calls": "counter",
        "hotline_calls_in_progress": "gauge",
        "hotline_agi_command_seconds": "histogram",
        "hotline_agi_connections_refused": "counter",
        "hotline_password_verifications": "counter",
        "hotline_password_verification_seconds": "histogram",
        "hotline_db_operation_seconds": "histogram",
        "hotline_db_errors": "counter",
        "hotline_ami_connected": "gauge",
    }
    status, content_type, body = await node.ops.get("/metrics")
    assert status == 200 and content_type.startswith("text/plain")


def test_each_node_metrics_has_its_own_registry() -> None:
    first, second = LiveBoard(), LiveBoard()
    names = {"commands": COMMAND_NAMES, "operations": OPERATIONS}
    one, two = NodeMetrics(first.current, **names), NodeMetrics(second.current, **names)
    one.call_ended("12333", "served")
    second.publish(TelephonyChanged(True, second.current().at, "AMI connected"))
    assert one.registry.get_sample_value(
        "hotline_calls_total", {"hotline": "12333", "outcome": "served"}
    ) == 1  # fmt: skip
    assert two.registry.get_sample_value(
        "hotline_calls_total", {"hotline": "12333", "outcome": "served"}
    ) == 0  # fmt: skip
    assert one.registry.get_sample_value("hotline_ami_connected") == 0
    assert two.registry.get_sample_value("hotline_ami_connected") == 1
    assert REGISTRY.get_sample_value("hotline_calls_total", {"hotline": "12333"}) is None
