"""The pick-up certificate (领卡凭证) of a formal loss report: a page to print (its own print
stylesheet), given to the holder at the counter. It names the report, the holder (name, masked
ID number), the day of the formal report and the day the new card can be collected (Chinese
working days, computed when the report was recorded), the service point, and says that it serves
as a temporary voucher for medical treatment until then. It can be printed again at any time;
each opening of the page is a print, audited.
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.store.types import utcnow
from ivr.web.plumbing.auditing import audit
from ivr.web.plumbing.errors import Refusal
from ivr.web.plumbing.i18n import _l
from ivr.web.plumbing.roles import CASEWORK
from ivr.web.plumbing.routing import Routes
from ivr.web.state import console

__all__ = ["certificate_path", "routes"]

routes = Routes()


def certificate_path(reference: str) -> str:
    return f"/cases/{reference}/certificate"


@routes.get(r"/cases/{reference:\d{1,12}}/certificate", roles=CASEWORK)
async def certificate_page(request: web.Request) -> web.StreamResponse:
    reference = request.match_info["reference"]
    state = console(request)
    found = await state.calls.certificate(reference)
    if found is None:
        raise Refusal(
            404, _l("No formal report is recorded on %(reference)s.", reference=reference)
        )
    await audit(
        request,
        "print_certificate",
        target=f"report:{reference}",
        detail=f"pick-up on {found.pickup_on.isoformat()}",
    )
    context: dict[str, Any] = {
        "cert": found,
        "service_point": state.settings.service_point,
        "working_days": state.settings.reissue_working_days,
        "printed_at": utcnow(),
    }
    return aiohttp_jinja2.render_template("certificate.html", request, context)
