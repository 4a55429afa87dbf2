"""Statistics (``/stats``; JSON at ``/api/stats``): volumes, outcomes, transfers, handling time,
containment, and the drop-off per menu node laid out as the flows define their nodes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.domain.clock import local_today
from ivr.domain.hotlines import HOTLINES
from ivr.store.stats import CallStats
from ivr.web.calls.filters import OUTCOMES
from ivr.web.plumbing.errors import Refusal
from ivr.web.plumbing.i18n import Language, Text, TextError, _l, language
from ivr.web.plumbing.labels import label
from ivr.web.plumbing.paging import day
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.serialize import stats_json
from ivr.web.state import console
from ivr.web.stats.charts import Describe, columns, hbars
from ivr.web.stats.dropoff import dropoff_by_flow

__all__ = ["routes"]

DEFAULT_DAYS = 7
MAX_DAYS = 366
# The flows' titles as the page shows them (a flow not listed shows the title it gives itself).
FLOW_TITLES: dict[str, Text] = {
    "12333": _l("12333 labour and social-security hotline"),
    "96102": _l("96102 social-security card line (24 h)"),
    "language": _l("Greeting and language choice (Mandarin; 7 English, 8 Spanish)"),
    "identity": _l("Identification: resident ID number and query password"),
    "identity_loss": _l("Identification for a loss report: ID number, password or statement"),
    "card_services": _l("Social-security card services (96102; 12333 key 2)"),
    "other": _l("Nodes not in the current flows"),
}

routes = Routes()


def _period(request: web.Request) -> tuple[date, date, str]:
    given_first, given_last = request.query.get("from", ""), request.query.get("to", "")
    try:
        last = day(given_last, "to") if given_last else local_today()
        first = day(given_first, "from") if given_first else last - timedelta(days=DEFAULT_DAYS - 1)
    except TextError as error:
        raise Refusal(400, error.text) from None
    if first > last or (last - first).days >= MAX_DAYS:
        raise Refusal(400, _l("A period is 1 to %(max)s days, first day first.", max=MAX_DAYS))
    hotline = request.query.get("hotline", "")
    if hotline and hotline not in HOTLINES:
        raise Refusal(400, _l("Unknown hotline %(hotline)s.", hotline=repr(hotline)))
    return first, last, hotline


async def _stats(request: web.Request) -> tuple[date, date, str, CallStats]:
    first, last, hotline = _period(request)
    stats = await console(request).stats.call_stats(first, last, hotline=hotline or None)
    return first, last, hotline, stats


@routes.get("/api/stats", roles=SUPERVISORS)
async def stats_api(request: web.Request) -> web.StreamResponse:
    _, _, _, stats = await _stats(request)
    return web.json_response(stats_json(stats, dropoff_by_flow(stats.dropoff)))


def _describer(lang: Language) -> Describe:
    def describe(series: str, category: str, value: float) -> str:
        return lang.text(
            _l("%(series)s, %(category)s: %(value)s", series=series, category=category, value=value)
        )

    return describe


@routes.get("/stats", roles=SUPERVISORS, menu=_l("Statistics"))
async def stats_page(request: web.Request) -> web.StreamResponse:
    first, last, hotline, stats = await _stats(request)
    lang = language(request)
    describe = _describer(lang)
    lines = [hotline] if hotline else list(HOTLINES)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    per_day = columns(
        [lang.month_day(d) for d in days],
        {line: [stats.per_day.get(line, {}).get(d, 0) for d in days] for line in lines},
        label_every=max(1, len(days) // 14),
        describe=describe,
    )
    per_hour = columns(
        [f"{h:02d}" for h in range(24)],
        {line: stats.per_hour.get(line, [0] * 24) for line in lines},
        label_every=2,
        describe=describe,
    )
    outcome_names = list(OUTCOMES) + sorted(
        {o for per in stats.outcomes.values() for o in per} - set(OUTCOMES)
    )
    outcome_chart = columns(
        [lang.text(label("outcome", o)) for o in outcome_names],
        {line: [stats.outcomes.get(line, {}).get(o, 0) for o in outcome_names] for line in lines},
        describe=describe,
    )
    flows = dropoff_by_flow(stats.dropoff)
    parts = (lang.text(label("outcome", "abandoned")), lang.text(label("outcome", "failed")))
    drop_charts = [
        (
            f,
            lang.text(FLOW_TITLES.get(f.flow, f.title)),
            hbars(
                [(n.name, (n.abandoned, n.failed)) for n in f.nodes],
                parts,
                describe=describe,
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
