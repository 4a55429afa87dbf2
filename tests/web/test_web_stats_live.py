"""Statistics, live calls (in-process and from the database), the event stream, OpenAPI, prompts."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar

from ivr.domain.account_password import hash_password_async
from ivr.flows import FLOWS
from ivr.live.events import (
    ChannelChanged,
    ChannelEnded,
    ChannelRefused,
    FlowEnded,
    FlowMoved,
    FlowStarted,
)
from ivr.sim.console import write_tone
from ivr.stack import start_console
from ivr.store.types import utcnow
from ivr.store.users import Role
from tests.ami.conftest import transcript_events
from tests.web.support import PASSWORD, Client, Env, ami_bridge, login


async def test_statistics_figures_and_dropoff_in_flow_order(client: Client) -> None:
    assert await login(client, "sup") == 303
    stats = await (await client.get("/api/stats")).json()
    figures = {f["hotline"]: f for f in stats["hotlines"]}
    assert figures["12333"]["calls"] == 3 and figures["96102"]["calls"] == 2
    assert figures["12333"]["agent_transfers"] == 1
    assert figures["12333"]["containment"] == pytest.approx(1 / 3)
    assert figures["96102"]["containment"] == pytest.approx(1.0)
    assert figures["12333"]["avg_handling_s"] is not None
    assert sum(stats["per_hour"]["12333"]) == 3
    assert sum(stats["per_day"]["96102"].values()) == 2
    assert stats["outcomes"]["12333"] == {"served": 1, "agent": 1, "abandoned": 1}
    flows = [f["flow"] for f in stats["dropoff"]]
    assert flows == list(FLOWS)  # the order of the flow definitions
    main = stats["dropoff"][0]["nodes"]
    defined = [f"12333:{name}" for name in FLOWS["12333"].nodes]
    assert [n["node"] for n in main] == [n for n in defined if n in {m["node"] for m in main}]
    assert next(n for n in main if n["node"] == "12333:main")["abandoned"] == 1
    page = await client.get("/stats", params={"hotline": "12333"})
    html = await page.text()
    # Volumes per day, per hour, outcomes, and a drop-off chart for the one flow with drop-offs.
    assert page.status == 200 and html.count("<svg") == 4
    assert 'id="dropoff-12333"' in html and "No caller gave up here." in html
    assert (
        await client.get("/stats", params={"from": "2025-02-01", "to": "2025-01-01"})
    ).status == 400


async def test_live_calls_in_process(client: Client, env: Env) -> None:
    board = env.hotline.board
    board.publish(FlowStarted("live-1", "96102", None, "13800000000", "en", "", utcnow()))
    board.publish(FlowMoved("live-1", "card_services:menu", "en"))
    assert await login(client, "sup") == 303
    snap = await (await client.get("/api/live")).json()
    assert snap["source"] == "board" and snap["counts"] == {"12333": 0, "96102": 1}
    (call,) = snap["calls"]
    assert (call["node"], call["stage"], call["language"]) == ("card_services:menu", "menus", "en")
    assert call["where"] == "card_services › menu"
    html = await (await client.get("/live")).text()
    assert "card_services › menu" in html
    # The caller leaves the menus for the agents' queue: Asterisk's side says so.
    board.publish(
        ChannelChanged("live-1", "96102", "13800000000", "Up", utcnow(), queue="hotline-agents",
                       waiting_since=utcnow())
    )  # fmt: skip
    board.publish(FlowEnded("live-1", "agent", "agent"))
    (call,) = (await (await client.get("/api/live")).json())["calls"]
    assert call["stage"] == "waiting" and call["where"] == "waiting for an agent (hotline-agents)"
    assert "waiting for an agent" in await (await client.get("/live")).text()
    board.publish(ChannelEnded("live-1", 16, "Normal Clearing"))
    assert (await (await client.get("/api/live")).json())["calls"] == []


BUSY_PROMPT = "hotline/lines_busy,noanswer"  # what a refused caller hears (early media)


def text_of(html: str, element_id: str) -> str:
    """The text of the element with this id (one with no element inside)."""
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found, f"no #{element_id} in the page"
    return found.group(1).strip()


def live_row(html: str, key: str) -> str:
    found = re.search(rf'<tr data-key="{re.escape(key)}".*?</tr>', html, re.S)
    assert found, f"no live row {key}"
    return found.group(0)


async def test_a_call_refused_past_the_cap_shows_as_refused_and_counts_as_refused(
    client: Client, env: Env
) -> None:
    """The node is full: the AMI events Asterisk 22 sent for a call it refused (recorded in
    ``tests/telephony/test_telephony_capacity.py``), through the node's AMI bridge."""
    events = transcript_events("refused_call.ami")
    refused = "1700000000.202"  # the ;2 half, which runs the dialplan
    bridge = ami_bridge(env)
    # The call the node holds.
    env.hotline.publish(FlowStarted("taken-1", "12333", None, "13800000000", "zh", "", utcnow()))
    busy = next(i for i, e in enumerate(events) if e.get("AppData") == BUSY_PROMPT)
    for event in events[: busy + 1]:
        bridge.feed(event)
    assert await login(client, "sup") == 303

    snap = await (await client.get("/api/live")).json()
    calls = {call["key"]: call for call in snap["calls"]}
    assert set(calls) == {"taken-1", refused}  # the caller hears "lines busy": still listed
    assert (calls[refused]["stage"], calls[refused]["hotline"]) == ("refused", "96102")
    assert calls[refused]["where"] == "refused: lines busy"
    # In the language of the busy prompt it hears, like any caller in the flow.
    language = (calls[refused]["language"], calls[refused]["language_name"])
    assert language == ("zh", "Mandarin")
    assert snap["counts"] == {"12333": 1, "96102": 0}  # in progress: the one the node took
    assert snap["refused"] == {"minutes": 15, "counts": {"12333": 0, "96102": 1}, "total": 1}
    html = await (await client.get("/live")).text()
    row = live_row(html, refused)
    assert 'data-stage="refused"' in row and "refused: lines busy" in row
    assert "<td>Mandarin</td>" in row
    assert text_of(html, "live-total") == "1" and text_of(html, "refused-total") == "1"
    assert "refused: lines busy, last 15 min" in html
    # The console speaks Chinese to its staff, as the call log says the outcome.
    await env.accounts().add_user(
        "xiaoming", Role.SUPERVISOR, await hash_password_async(PASSWORD), now=utcnow()
    )
    chinese = await env.client()
    try:
        assert await login(chinese, "xiaoming") == 303
        html = await (await chinese.get("/live")).text()
        assert "线路已满，拒接" in live_row(html, refused)
        assert "<td>普通话</td>" in live_row(html, refused)
        assert "线路已满，拒接（近 15 分钟）" in html
        live = await (await chinese.get("/api/live")).json()
        assert {c["key"]: c["where"] for c in live["calls"]}[refused] == "线路已满，拒接"
    finally:
        await chinese.close()

    for event in events[busy + 1 :]:  # the prompt ends; the call is refused (486, cause 17)
        bridge.feed(event)
    await bridge.settle()
    snap = await (await client.get("/api/live")).json()
    assert [call["key"] for call in snap["calls"]] == ["taken-1"]
    assert snap["refused"]["total"] == 1  # gone from the list, still counted
    html = await (await client.get("/live")).text()
    assert text_of(html, "refused-total") == "1" and refused not in html
    log = await (await client.get("/api/calls", params={"outcome": "refused"})).json()
    assert [row["uniqueid"] for row in log["calls"]] == [refused]  # its one record


async def test_live_stream_sends_the_list_and_each_change(client: Client, env: Env) -> None:
    assert await login(client, "sup") == 303
    response = await client.get("/api/live/stream")
    assert response.headers["Content-Type"] == "text/event-stream"

    async def next_event() -> dict[str, Any]:
        data = ""
        while True:
            line = (await asyncio.wait_for(response.content.readline(), 5)).decode()
            if line.startswith("data: "):
                data = line[6:]
            elif line == "\n" and data:
                parsed: dict[str, Any] = json.loads(data)
                return parsed

    assert (await next_event())["calls"] == []
    board = env.hotline.board
    board.publish(FlowStarted("live-2", "12333", 9, "13800000000", "zh", "", utcnow()))
    board.publish(FlowMoved("live-2", "12333:main", "zh"))
    event = await next_event()
    assert [c["key"] for c in event["calls"]] == ["live-2"]
    board.publish(FlowMoved("live-2", "12333:query_menu", "zh"))  # pushed at once, no polling
    event = await next_event()
    assert event["calls"][0]["node"] == "12333:query_menu"
    board.publish(FlowEnded("live-2", "served", None))
    assert (await next_event())["calls"] == []
    # A refusal told of a call not listed (another node's, replayed): the count alone changes.
    board.publish(ChannelRefused("gone-1", "96102", utcnow()))
    event = await next_event()
    assert event["calls"] == [] and event["refused"]["counts"]["96102"] == 1
    response.close()


@pytest.fixture
async def alone(env: Env) -> AsyncIterator[ClientSession]:
    """The console as ``hotline web`` runs it (composition root), with no node in its process."""
    async with AsyncExitStack() as stack:
        settings = dataclasses.replace(env.settings, web_port=0, node_name="console")
        server = await start_console(settings, stack)
        # unsafe: keep the session cookie of a server named by its IP address (127.0.0.1)
        jar = CookieJar(unsafe=True)
        async with ClientSession(server.url, cookie_jar=jar) as session:
            yield session


async def live_calls_once_any(console: ClientSession) -> dict[str, Any]:
    """``/api/live`` once it lists a call (relayed calls arrive a moment later)."""
    async with asyncio.timeout(10):
        while True:
            snap: dict[str, Any] = await (await console.get("/api/live")).json()
            if snap["calls"]:
                return snap
            await asyncio.sleep(0.1)


async def test_live_calls_of_a_node_elsewhere_reach_a_console_running_alone(
    alone: ClientSession, env: Env
) -> None:
    """On SQLite (one machine) the console reads the calls of live runs from the database; on
    PostgreSQL (nodes on several machines) each node tells its calls through it (live relay)."""
    records = env.hotline.records
    started = utcnow() - timedelta(seconds=30)
    run = env.hotline.runner.current_run.run_id  # this process's run, alive: its calls are live
    call_id = (
        await records.start_call(
            "12333", "13900000000", "db-live", "SIP/x", "zh", started, run_id=run
        )
    ).call_id
    await records.start_call(
        "96102", "13900000001", "stale", "SIP/y", "zh", utcnow() - timedelta(hours=5)
    )
    dead = await records.start_run("other-node", 1, utcnow() - timedelta(minutes=5))
    await records.start_call("12333", "13900000002", "cut", "SIP/z", "zh", started, run_id=dead)
    relayed = env.hotline.database.dialect == "postgresql"
    if relayed:  # what the node's call runner pushes when the call starts
        env.hotline.publish(
            FlowStarted("db-live", "12333", call_id, "139****0000", "zh", "12333:main", started)
        )
    assert await login(alone, "sup") == 303  # type: ignore[arg-type]
    snap = await live_calls_once_any(alone)
    assert snap["source"] == ("board" if relayed else "database")
    # A 5-hour-old row without a run is not live, nor is a call of a process that went silent.
    assert [c["call_id"] for c in snap["calls"]] == [call_id]
    assert snap["calls"][0]["seconds"] >= 30


async def test_a_console_running_alone_counts_the_calls_refused_lately(
    alone: ClientSession, env: Env
) -> None:
    """On SQLite the console reads the refused calls' records (the AMI bridge writes each as it
    hangs up); on PostgreSQL each node tells its refusals through the database (live relay)."""
    relayed = env.hotline.database.dialect == "postgresql"
    now = utcnow()
    refusals = (("old", "12333", 16), ("r1", "12333", 14), ("r2", "96102", 1))  # minutes ago
    for uniqueid, hotline, minutes_ago in refusals:
        started = now - timedelta(minutes=minutes_ago)
        await env.hotline.records.record_refused(
            hotline=hotline, caller_id="13900000000", uniqueid=uniqueid, linkedid=uniqueid,
            channel="PJSIP/6001-1", language="zh", started_at=started,
            ended_at=started + timedelta(seconds=4), cause=17, cause_text="User busy", duration_s=4,
        )  # fmt: skip
        if relayed:  # what the node's AMI bridge pushes when the dialplan refuses the call
            env.hotline.publish(ChannelRefused(uniqueid, hotline, started))
    assert await login(alone, "sup") == 303  # type: ignore[arg-type]
    async with asyncio.timeout(10):
        while True:
            snap: dict[str, Any] = await (await alone.get("/api/live")).json()
            if snap["refused"]["total"] >= 2:
                break
            await asyncio.sleep(0.1)
    assert snap["source"] == ("board" if relayed else "database")
    assert snap["refused"] == {"minutes": 15, "counts": {"12333": 1, "96102": 1}, "total": 2}
    assert snap["calls"] == [] and snap["counts"] == {"12333": 0, "96102": 0}


async def test_openapi_describes_every_api_route(client: Client) -> None:
    assert await login(client, "aud") == 303
    spec = await (await client.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    app = client.app
    assert app is not None
    routes = {
        r.resource.canonical.replace(r"{call_id:\d+}", "{call_id}").replace(
            r"{reference:\d{1,12}}", "{reference}"
        )
        for r in app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/")
    }
    assert routes - {"/api/openapi.json"} == set(spec["paths"])


async def test_prompts_page_plays_built_sounds_only(client: Client, env: Env) -> None:
    built = env.settings.prompts_dir / "zh" / "hotline" / "greeting_12333.wav"
    await asyncio.to_thread(write_tone, built, 0.5)
    assert await login(client, "sup") == 303
    html = await (await client.get("/prompts")).text()
    assert 'src="/prompts/audio/zh/greeting_12333.wav"' in html
    assert "欢迎致电一二三三三" in html and "English, press seven." in html
    sound = await client.get("/prompts/audio/zh/greeting_12333.wav")
    assert sound.status == 200 and (await sound.read())[:4] == b"RIFF"
    assert (await client.get("/prompts/audio/en/greeting_12333.wav")).status == 404  # not built
    for bad in ("/prompts/audio/xx/greeting_12333.wav", "/prompts/audio/zh/..%2Fsecret.wav"):
        assert (await client.get(bad)).status == 404
