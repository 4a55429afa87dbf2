"""Live calls: who is calling now, on which hotline, where in the menus or the queue, for how long;
and, for a surge, how many calls the node refused lately because its lines were full.

The console reads a ``LiveView``: in the hotline's process the live board (a change shows at
once: the page is pushed a new list over server-sent events from ``/api/live/stream``); running
alone (``hotline web``), the call records not ended yet, polled. Each message is the whole list,
so a missed message costs nothing; the browser ticks the seconds itself.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.hotlines import HOTLINES
from ivr.live.board import LiveCall, LiveSnapshot, Stage
from ivr.live.fanout import Subscription
from ivr.web.callbacks import queue_counts
from ivr.web.plumbing.i18n import Language, Text, _l, language
from ivr.web.plumbing.labels import label
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.state import Console, console

__all__ = ["routes", "snapshot_json"]

KEEPALIVE_S = 15.0
_TICKING = ("seconds", "waiting_seconds")  # change by themselves: the browser ticks them

routes = Routes()


def where(call: LiveCall) -> Text | str:
    """Where the caller is, as a supervisor says it (a menu node by its name in the flow)."""
    node = (call.node or "").replace(":", " › ")
    match call.stage:
        case Stage.MENUS:
            return node or _l("starting the menus")
        case Stage.WAITING:
            return _l("waiting for an agent (%(queue)s)", queue=call.queue or "")
        case Stage.AGENT:
            return _l("with agent %(agent)s", agent=call.agent or "")
        case Stage.FALLBACK:
            return _l("fallback: apology, then agents")
        case Stage.LEAVING:
            return (
                _l("after the menus (last: %(node)s)", node=node) if node else _l("after the menus")
            )
        case Stage.REFUSED:
            return label("stage", Stage.REFUSED)  # as the call log says it, once it has ended
    return _l("connecting")


def call_json(call: LiveCall, lang: Language) -> dict[str, Any]:
    """A call in progress; ``where`` and ``language_name`` in the language of who asks."""
    return {
        "key": call.key,
        "hotline": call.hotline,
        "stage": call.stage.value,
        "where": lang.text(where(call)),
        "node": call.node,
        "queue": call.queue,
        "agent": call.agent,
        "call_id": call.call_id,
        "caller_id": call.caller_id,
        "language": call.language,
        "language_name": lang.text(label("call_language", call.language)) if call.language else "",
        "started_at": call.started_at.isoformat(),
        "seconds": call.seconds,
        "waiting_seconds": call.waiting_seconds,
    }


def snapshot_json(snap: LiveSnapshot, source: str, lang: Language) -> dict[str, Any]:
    """The board as readers get it: ``counts`` are the calls in progress per hotline (a call
    being refused is listed, not counted), ``refused`` the calls refused in the last minutes."""
    telephony = snap.telephony
    refused = snap.refused
    return {
        "source": source,
        "at": snap.at.isoformat(),
        "telephony": None
        if telephony is None
        else {
            "up": telephony.up,
            "since": telephony.since.isoformat(),
            "since_text": lang.text(_l("since %(time)s", time=lang.time(telephony.since))),
            "reason": telephony.reason,
        },
        "counts": snap.counts(HOTLINES),
        "refused": {
            "minutes": refused.minutes,
            "counts": refused.counts(HOTLINES),
            "total": refused.total,
        },
        "calls": [call_json(call, lang) for call in snap.calls],
    }


async def _snapshot(state: Console, lang: Language) -> dict[str, Any]:
    return snapshot_json(await state.live.snapshot(), state.live.source, lang)


@routes.get("/live", roles=SUPERVISORS, menu=_l("Live calls"))
async def live_page(request: web.Request) -> web.StreamResponse:
    context = {
        "snap": await _snapshot(console(request), language(request)),
        "callbacks": await queue_counts(request),
    }
    return aiohttp_jinja2.render_template("live.html", request, context)


@routes.get("/api/live", roles=SUPERVISORS)
async def live_json_api(request: web.Request) -> web.StreamResponse:
    return web.json_response(await _snapshot(console(request), language(request)))


def _fingerprint(snap: dict[str, Any]) -> str:
    """What makes a change worth sending (the refused count also falls as time passes)."""
    calls = [{k: v for k, v in c.items() if k not in _TICKING} for c in snap["calls"]]
    return json.dumps([calls, snap["refused"]])


@routes.get("/api/live/stream", roles=SUPERVISORS)
async def live_stream(request: web.Request) -> web.StreamResponse:
    state = console(request)
    lang = language(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # a reverse proxy must not hold the events back
        }
    )
    await response.prepare(request)
    last, quiet = "", 0.0
    loop = asyncio.get_running_loop()
    try:
        await response.write(b"retry: 3000\n\n")
        with state.live.subscribe() as changes:
            while not state.stopping.is_set():
                snap = await _snapshot(state, lang)
                mark = _fingerprint(snap)
                if mark != last:
                    data = json.dumps(snap, ensure_ascii=False)
                    await response.write(f"event: calls\ndata: {data}\n\n".encode())
                    last, quiet = mark, 0.0
                elif quiet >= KEEPALIVE_S:
                    await response.write(b": keep-alive\n\n")
                    quiet = 0.0
                began = loop.time()
                await _next_change(state, changes, state.live.refresh_seconds)
                quiet += loop.time() - began
    except ConnectionResetError:  # the supervisor closed the page
        pass
    return response


async def _next_change(state: Console, changes: Subscription[Any], seconds: float) -> None:
    """Until a call changes, shutdown begins, or ``seconds`` pass."""
    waiters = [
        asyncio.ensure_future(state.stopping.wait()),
        asyncio.ensure_future(changes.wait(seconds)),
    ]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    changes.drain()  # several changes at once: one snapshot covers them
