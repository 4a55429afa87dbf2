"""The pick-up certificate: printed from the formal report, with what the holder needs, again at
any time, each print audited."""

from __future__ import annotations

from sqlalchemy import select

from ivr.domain.cards import ReportStatus, pickup_date
from ivr.domain.clock import local_today
from ivr.store.models import AuditLogEntry, Citizen
from tests.web.support import Client, Env, csrf_token, login
from tests.web.test_web_cases import report, step


def field(html: str, name: str) -> str:
    return html.split(f'id="cert-{name}"')[1].split("</dd>")[0]


async def test_the_formal_report_leads_to_its_certificate_and_each_print_is_audited(
    client: Client, env: Env
) -> None:
    provisional = await report(env, ReportStatus.PROVISIONAL)
    ref = provisional.reference
    await login(client, "clerk")
    path = f"/cases/{ref}/certificate"
    assert (await client.get(path)).status == 404  # nothing to certify before the formal report
    assert await step(client, ref, "formal", await csrf_token(client)) == 303
    cases = await (await client.get(f"/cases?done=formal&ref={ref}")).text()
    assert f'id="print-new-certificate" href="{path}"' in cases

    page = await client.get(path)
    html = await page.text()
    assert page.status == 200
    async with env.hotline.database.read() as session:
        name = await session.scalar(
            select(Citizen.name).where(Citizen.id == provisional.citizen_id)
        )
    expected = pickup_date(local_today(), env.hotline.calendar, env.settings.reissue_working_days)
    assert ref in field(html, "reference") and name and name in field(html, "holder")
    assert field(html, "id").endswith(provisional.id_masked)
    assert f'data-date="{expected.isoformat()}"' in field(html, "pickup")
    assert env.settings.service_point in field(html, "service-point")
    assert "temporary voucher for medical treatment" in html
    assert 'href="/static/certificate.css"' in html
    for citizen in env.citizens:
        assert citizen.id_number not in html

    await client.get(path)  # a reprint
    async with env.hotline.database.read() as session:
        prints = (
            await session.scalars(
                select(AuditLogEntry).where(AuditLogEntry.action == "print_certificate")
            )
        ).all()
    assert [(p.actor, p.target) for p in prints] == [("clerk", f"report:{ref}")] * 2
    assert prints[0].detail == f"pick-up on {expected.isoformat()}"


async def test_the_certificate_in_chinese(client: Client, env: Env) -> None:
    formal = await report(env, ReportStatus.FORMAL)
    await login(client, "clerk")
    clerk = await env.accounts().find_user("clerk")
    assert clerk is not None
    await env.accounts().set_locale(clerk.id, "zh_Hans_CN")
    html = await (await client.get(f"/cases/{formal.reference}/certificate")).text()
    assert "社会保障卡领卡凭证" in html and "就医临时凭证" in html
    assert "年" in field(html, "pickup") and "星期" in field(html, "pickup")
