"""Live calls: who is calling now, on which hotline, where in the menus, for how long.

In the hotline's process the console reads ``LiveCalls`` (node changes show within a second);
running alone (``hotline web``) it shows the database's calls that have not ended, polled, whose
menu node is known only when they end. The page updates itself over server-sent events from
``/api/live/stream``; each message is the whole list, so a missed message costs nothing.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.hotlines import HOTLINES
from ivr.store.types import utcnow
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.serialize import live_json
from ivr.web.state import Console, console

__all__ = ["routes", "snapshot"]

DB_WINDOW = timedelta(hours=2)  # older unended rows are calls of a process that died
TICK_S = 1.0  # how often the in-process list is compared for changes
DB_POLL_S = 3.0
KEEPALIVE_S = 15.0

routes = Routes()


async def snapshot(state: Console) -> dict[str, Any]:
    if state.live is not None:
        calls = [live_json(c) for c in sorted(state.live.snapshot(), key=lambda c: c.started_at)]
        mode = "live"
    else:
        now = utcnow()
        rows = await state.calls.unfinished_calls(since=now - DB_WINDOW)
        calls = [
            {
                "key": row.uniqueid,
                "call_id": row.id,
                "hotline": row.hotline,
                "language": row.language,
                "node": row.last_node or "",
                "started_at": row.started_at.isoformat(),
                "seconds": round((now - row.started_at).total_seconds(), 1),
            }
            for row in rows
        ]
        mode = "database"
    counts = {line: sum(1 for c in calls if c["hotline"] == line) for line in HOTLINES}
    return {"mode": mode, "counts": counts, "calls": calls}


@routes.get("/live", roles=SUPERVISORS, menu="Live calls")
async def live_page(request: web.Request) -> web.StreamResponse:
    return aiohttp_jinja2.render_template(
        "live.html", request, {"snap": await snapshot(console(request))}
    )


@routes.get("/api/live", roles=SUPERVISORS)
async def live_json_api(request: web.Request) -> web.StreamResponse:
    return web.json_response(await snapshot(console(request)))


def _fingerprint(snap: dict[str, Any]) -> str:
    """What makes a change worth sending (the seconds tick by themselves in the browser)."""
    return json.dumps([{k: v for k, v in c.items() if k != "seconds"} for c in snap["calls"]])


@routes.get("/api/live/stream", roles=SUPERVISORS)
async def live_stream(request: web.Request) -> web.StreamResponse:
    state = console(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # a reverse proxy must not hold the events back
        }
    )
    await response.prepare(request)
    queue = state.live.watch() if state.live is not None else None
    last, quiet = "", 0.0
    try:
        await response.write(b"retry: 3000\n\n")
        while not state.stopping.is_set():
            snap = await snapshot(state)
            mark = _fingerprint(snap)
            if mark != last:
                data = json.dumps(snap, ensure_ascii=False)
                await response.write(f"event: calls\ndata: {data}\n\n".encode())
                last, quiet = mark, 0.0
            elif quiet >= KEEPALIVE_S:
                await response.write(b": keep-alive\n\n")
                quiet = 0.0
            wait = TICK_S if queue is not None else DB_POLL_S
            await _wait(state, queue, wait)
            quiet += wait
    except ConnectionResetError:  # the supervisor closed the page
        pass
    finally:
        if queue is not None and state.live is not None:
            state.live.unwatch(queue)
    return response


async def _wait(
    state: Console, queue: asyncio.Queue[dict[str, Any]] | None, seconds: float
) -> None:
    """Until a call starts or ends, shutdown begins, or ``seconds`` pass."""
    waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(state.stopping.wait())]
    if queue is not None:
        waiters.append(asyncio.ensure_future(queue.get()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    if queue is not None:
        while not queue.empty():  # several changes at once: one snapshot covers them
            queue.get_nowait()
