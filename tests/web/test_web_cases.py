"""Card cases: the counter's steps, each booked as ``staff:<name>``, audited, CSRF-checked."""

from __future__ import annotations

from sqlalchemy import select

from ivr.domain.cards import CardStatus, ReportStatus, pickup_date
from ivr.domain.clock import local_today
from ivr.store.models import AuditLogEntry, Card, LossReport
from tests.web.support import Client, Env, csrf_token, login


async def report(env: Env, status: ReportStatus) -> LossReport:
    async with env.hotline.database.read() as session:
        found = await session.scalar(
            select(LossReport).where(LossReport.status == status).order_by(LossReport.id)
        )
    assert found is not None
    return found


async def step(client: Client, reference: str, action: str, token: str) -> int:
    response = await client.post(
        f"/cases/{reference}/{action}", data={"csrf_token": token}, allow_redirects=False
    )
    return response.status


async def test_cases_page_lists_the_reports_by_state(client: Client, env: Env) -> None:
    assert await login(client, "clerk") == 303
    page = await client.get("/cases")
    html = await page.text()
    assert page.status == 200
    for status in ("needs_verification", "provisional", "formal", "card_made"):
        section = html.split(f'id="section-{status}"')[1].split("</section>")[0]
        assert (await report(env, ReportStatus(status))).reference in section, status
    unverified = await report(env, ReportStatus.NEEDS_VERIFICATION)
    assert f'src="/recordings/{unverified.statement_recording_id}"' in html
    for citizen in env.citizens:
        assert citizen.id_number not in html


async def test_formal_report_then_card_made_then_picked_up(client: Client, env: Env) -> None:
    provisional = await report(env, ReportStatus.PROVISIONAL)
    assert await login(client, "clerk") == 303
    token = await csrf_token(client)
    assert await step(client, provisional.reference, "formal", token) == 303
    page = await (await client.get("/cases")).text()
    expected = pickup_date(local_today(), env.hotline.calendar, env.settings.reissue_working_days)
    row = page.split(f'id="case-{provisional.reference}"')[1].split("</tr>")[0]
    assert f'class="pickup" data-date="{expected.isoformat()}"' in row
    assert await step(client, provisional.reference, "formal", token) == 409  # not twice
    assert await step(client, provisional.reference, "made", token) == 303
    assert await step(client, provisional.reference, "picked-up", token) == 303
    events = await env.hotline.records.report_events(provisional.reference)
    assert [(e.status, e.actor) for e in events[-3:]] == [
        (ReportStatus.FORMAL, "staff:clerk"),
        (ReportStatus.CARD_MADE, "staff:clerk"),
        (ReportStatus.PICKED_UP, "staff:clerk"),
    ]
    async with env.hotline.database.read() as session:
        audited = (
            await session.scalars(
                select(AuditLogEntry.action).where(AuditLogEntry.action.like("case_%"))
            )
        ).all()
        old_card = await session.get(Card, provisional.card_id)
    assert audited == ["case_formal", "case_formal", "case_made", "case_picked-up"]
    assert old_card is not None and old_card.replaced_by_id is not None


async def test_verify_an_unverified_report_against_the_persons_card(
    client: Client, env: Env
) -> None:
    unverified = await report(env, ReportStatus.NEEDS_VERIFICATION)
    assert await login(client, "sup") == 303
    token = await csrf_token(client)
    response = await client.post(
        f"/api/cases/{unverified.reference}/verify", headers={"X-CSRF-Token": token}
    )
    body = await response.json()
    assert response.status == 200 and body["status"] == "provisional"
    assert body["card"]["status"] == "provisionally_lost" and body["lapses_on"]
    assert body["events"][-1]["actor"] == "staff:sup"


async def test_lift_a_provisional_report_records_the_staff_member(client: Client, env: Env) -> None:
    provisional = await report(env, ReportStatus.PROVISIONAL)
    assert await login(client, "clerk") == 303
    assert await step(client, provisional.reference, "lift", await csrf_token(client)) == 303
    async with env.hotline.database.read() as session:
        card = await session.get(Card, provisional.card_id)
    assert card is not None and card.status is CardStatus.NORMAL
    events = await env.hotline.records.report_events(provisional.reference)
    assert events[-1].actor == "staff:clerk" and events[-1].status is ReportStatus.LIFTED


async def test_wrong_steps_are_refused_and_audited(client: Client, env: Env) -> None:
    formal = await report(env, ReportStatus.FORMAL)
    assert await login(client, "clerk") == 303
    token = await csrf_token(client)
    refused = await client.post(
        f"/api/cases/{formal.reference}/lift", headers={"X-CSRF-Token": token}
    )
    assert refused.status == 409 and "formal" in (await refused.json())["error"]
    assert await step(client, "999999999999", "formal", token) == 404
    assert await step(client, formal.reference, "explode", token) == 404
    async with env.hotline.database.read() as session:
        entry = await session.scalar(
            select(AuditLogEntry).where(AuditLogEntry.action == "case_lift")
        )
    assert entry is not None and entry.detail.startswith("refused")


async def test_auditors_cannot_act_on_cases(client: Client, env: Env) -> None:
    provisional = await report(env, ReportStatus.PROVISIONAL)
    assert await login(client, "aud") == 303
    assert await step(client, provisional.reference, "formal", await csrf_token(client)) == 403
