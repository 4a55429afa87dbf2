"""Demo data: deterministic, idempotent, plausible, and never a clear ID number in the database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import String, Text, func, select

from ivr.domain.cards import CardStatus, ReportStatus
from ivr.domain.idnumber import ResidentId, id_hash
from ivr.domain.password import verify_password
from ivr.store.database import Database, open_database, upgrade_database
from ivr.store.models import Base, Citizen, ContributionRecord, MedicalAccount, MonthlyCredit
from ivr.store.records import Records
from ivr.store.seed import EXAMPLE_IDS, DemoCitizen, seed_demo
from tests.store.support import KEY

TODAY = date(2025, 3, 3)


def _plain(people: list[DemoCitizen]) -> list[DemoCitizen]:
    return [replace(p, created=True) for p in people]


async def test_seed_is_deterministic_and_idempotent(db: Database, tmp_path: Path) -> None:
    first = await seed_demo(db, citizens=12, seed=7, key=KEY, today=TODAY)
    assert all(p.created for p in first)
    again = await seed_demo(db, citizens=12, seed=7, key=KEY, today=TODAY)
    assert not any(p.created for p in again)
    assert _plain(again) == _plain(first)
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Citizen)) == 12
    grown = await seed_demo(db, citizens=14, seed=7, key=KEY, today=TODAY)
    assert [p.created for p in grown] == [False] * 12 + [True, True]
    assert _plain(grown[:12]) == _plain(first)

    other_url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    await upgrade_database(other_url)
    other = await open_database(other_url)
    try:
        elsewhere = await seed_demo(other, citizens=12, seed=7, key=KEY, today=TODAY)
    finally:
        await other.close()
    assert elsewhere == first
    different = await seed_demo(db, citizens=12, seed=8, key=KEY, today=TODAY)
    assert [p.id_number for p in different][:2] == list(EXAMPLE_IDS)
    assert [p.id_number for p in different][2:] != [p.id_number for p in first][2:]


async def test_seeded_people_are_plausible(db: Database) -> None:
    people = await seed_demo(db, citizens=50, seed=1, key=KEY, today=TODAY)
    assert len(people) == 50
    assert [p.id_number for p in people[:2]] == list(EXAMPLE_IDS)
    assert len({p.id_number for p in people}) == 50
    assert any(p.id_number.endswith("X") for p in people)
    for person in people:
        resident = ResidentId(person.id_number)  # valid check character, real date
        assert person.masked == resident.masked
        assert person.initial_password == person.id_number[-7:-1]
        assert len(person.card_number) == 9
    births = [ResidentId(p.id_number).birth_date.year for p in people[2:]]
    assert min(births) >= 1950 and max(births) <= 2004
    assert {p.card_status for p in people[2:5]} == {
        CardStatus.PROVISIONALLY_LOST,
        CardStatus.FORMALLY_LOST,
        CardStatus.READY_FOR_PICKUP,
    }
    assert all(p.card_status is CardStatus.NORMAL for p in people[:2] + people[5:])
    assert any(not p.card_number.isdigit() for p in people)

    records = Records(db)
    example = await records.find_citizen(id_hash(KEY, EXAMPLE_IDS[0]))
    assert example is not None
    assert example.id_masked == "110105********002X"
    assert verify_password(example.password_hash, people[0].initial_password)

    pension_credits = (
        select(func.count())
        .where(MonthlyCredit.citizen_id == Citizen.id, MonthlyCredit.account == "pension")
        .scalar_subquery()
    )
    async with db.read() as session:
        by_status = select(ContributionRecord.insured_status, func.count()).group_by(
            ContributionRecord.insured_status
        )
        statuses = {status: count for status, count in await session.execute(by_status)}
        fewest_credits = await session.scalar(select(func.min(pension_credits)))
        credit_days = set(await session.scalars(select(MedicalAccount.last_credit_on)))
    assert statuses.get("retired", 0) >= 1 and statuses.get("suspended", 0) >= 1
    assert statuses.get("active", 0) > 25
    assert fewest_credits is not None and fewest_credits >= 12
    assert date(2025, 2, 15) in credit_days  # the 15th of last month
    assert all(day is not None and day.day == 15 for day in credit_days)

    for person in people[2:5]:
        citizen = await records.find_citizen(id_hash(KEY, person.id_number))
        assert citizen is not None
        card = await records.card_for(citizen.id, today=TODAY)
        assert card is not None and card.status is person.card_status
        report = await records.open_report_for(card.id, today=TODAY)
        assert report is not None
        expected = {
            CardStatus.PROVISIONALLY_LOST: ReportStatus.PROVISIONAL,
            CardStatus.FORMALLY_LOST: ReportStatus.FORMAL,
            CardStatus.READY_FOR_PICKUP: ReportStatus.CARD_MADE,
        }[person.card_status]
        assert report.status is expected
        if expected is not ReportStatus.PROVISIONAL:
            assert report.pickup_on is not None
        assert card.settlement_stopped_at == report.reported_at  # since the phone report
        events = await records.report_events(report.reference)
        path = [ReportStatus.PROVISIONAL, ReportStatus.FORMAL, ReportStatus.CARD_MADE]
        assert [e.status for e in events] == path[: path.index(expected) + 1]


async def test_no_clear_id_number_is_stored(db: Database) -> None:
    people = await seed_demo(db, citizens=20, seed=3, key=KEY, today=TODAY)
    secrets = {p.id_number for p in people} | {p.id_number[:17] for p in people}
    texts: list[str] = []
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
            if not columns:
                continue
            for row in await session.execute(select(*columns)):
                texts.extend(str(value) for value in row if value is not None)
        hashes = list(await session.scalars(select(Citizen.password_hash)))
    assert texts
    dump = "\n".join(texts)
    leaks = [s for s in secrets if s in dump]
    assert leaks == []
    assert all(h.startswith("$argon2id$") for h in hashes)
