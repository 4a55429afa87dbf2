"""Statistics (``/stats``; JSON at ``/api/stats``): volumes, outcomes, transfers, handling time,
containment, and the drop-off per menu node laid out as the flows define their nodes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.clock import day_bounds, local_today, parse_day
from ivr.domain.hotlines import HOTLINES
from ivr.store.stats import CallStats
from ivr.web.calls.filters import OUTCOMES
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.serialize import stats_json
from ivr.web.state import console
from ivr.web.stats.charts import columns, hbars
from ivr.web.stats.dropoff import dropoff_by_flow

__all__ = ["routes"]

DEFAULT_DAYS = 7
MAX_DAYS = 366

routes = Routes()


def _period(request: web.Request) -> tuple[date, date, str]:
    given_first, given_last = request.query.get("from", ""), request.query.get("to", "")
    try:
        last = parse_day(given_last) if given_last else local_today()
        first = parse_day(given_first) if given_first else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    if first > last or (last - first).days >= MAX_DAYS:
        raise web.HTTPBadRequest(text=f"a period is 1 to {MAX_DAYS} days, first day first")
    hotline = request.query.get("hotline", "")
    if hotline and hotline not in HOTLINES:
        raise web.HTTPBadRequest(text=f"unknown hotline {hotline!r}")
    return first, last, hotline


async def _stats(request: web.Request) -> tuple[date, date, str, CallStats]:
    first, last, hotline = _period(request)
    start, end = day_bounds(first, last)
    assert start is not None and end is not None
    stats = await console(request).stats.call_stats(start, end, hotline=hotline or None)
    return first, last, hotline, stats


@routes.get("/api/stats", roles=SUPERVISORS)
async def stats_api(request: web.Request) -> web.StreamResponse:
    _, _, _, stats = await _stats(request)
    return web.json_response(stats_json(stats, dropoff_by_flow(stats.dropoff)))


@routes.get("/stats", roles=SUPERVISORS, menu="Statistics")
async def stats_page(request: web.Request) -> web.StreamResponse:
    first, last, hotline, stats = await _stats(request)
    lines = [hotline] if hotline else list(HOTLINES)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    per_day = columns(
        [d.strftime("%m-%d") for d in days],
        {line: [stats.per_day.get(line, {}).get(d, 0) for d in days] for line in lines},
        label_every=max(1, len(days) // 14),
    )
    per_hour = columns(
        [f"{h:02d}" for h in range(24)],
        {line: stats.per_hour.get(line, [0] * 24) for line in lines},
        label_every=2,
    )
    outcome_names = list(OUTCOMES) + sorted(
        {o for per in stats.outcomes.values() for o in per} - set(OUTCOMES)
    )
    outcome_chart = columns(
        outcome_names,
        {line: [stats.outcomes.get(line, {}).get(o, 0) for o in outcome_names] for line in lines},
    )
    flows = dropoff_by_flow(stats.dropoff)
    drop_charts = [
        (
            f,
            hbars(
                [(n.name, (n.abandoned, n.failed)) for n in f.nodes],
                ("hung up", "failed"),
            ),
        )
        for f in flows
    ]
    context: dict[str, Any] = {
        "first": first,
        "last": last,
        "hotline": hotline,
        "hotlines": HOTLINES,
        "stats": stats,
        "per_day": per_day,
        "per_hour": per_hour,
        "outcome_chart": outcome_chart,
        "drop_charts": drop_charts,
    }
    return aiohttp_jinja2.render_template("stats.html", request, context)
