"""Deterministic demo data: citizens with valid ID numbers, accounts, contributions and cards.

Everything is drawn from ``random.Random(seed)``, so the same seed gives the same people, numbers
and amounts (only the argon2 salts differ). Running it again adds nobody twice: a citizen whose ID
hash is already stored is skipped. The clear ID numbers and initial passwords are only returned
(for the CLI to print for testers); the database gets the keyed hash, the masked form and the
argon2 hash.

The first two demo citizens are the documented examples 11010519491231002X and 420102197305080012.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.domain import cards
from ivr.domain.cards import CardStatus, new_reference
from ivr.domain.clock import BEIJING as SHANGHAI
from ivr.domain.idnumber import ResidentId, check_character, id_hash
from ivr.domain.password import hash_password_async, initial_password
from ivr.domain.workdays import WorkCalendar, shipped_calendar
from ivr.store.cardnumbers import new_card_number
from ivr.store.database import Database
from ivr.store.models import (
    Base,
    Card,
    Citizen,
    ContributionRecord,
    MedicalAccount,
    MonthlyCredit,
    PensionAccount,
)
from ivr.store.report_rows import CARDS, apply_decision, card_state, open_report, report_state

__all__ = ["EXAMPLE_IDS", "DemoCitizen", "seed_demo"]

EXAMPLE_IDS = ("11010519491231002X", "420102197305080012")
_EXAMPLE_NAMES = ("王秀兰", "李建国")
AREA_CODES = ("110105", "110108", "420102", "440305", "310104", "330106", "510107", "320102")
AVERAGE_WAGE = Decimal(11_000)  # local average monthly wage, yuan
PENSION_RATE = Decimal("0.08")  # of the insured wage, to the personal pension account
MEDICAL_RATE = Decimal("0.02")  # the employee's own share, to the personal medical account
RETIREE_MEDICAL_CREDIT = Decimal("120.00")
_FEN = Decimal("0.01")
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红霞建国志明海燕宇浩然子涵欣怡梓轩晨阳"
)
# Card statuses seeded on purpose, by position (the examples at 0 and 1 stay normal).
_SPECIAL_CARDS = {
    2: CardStatus.PROVISIONALLY_LOST,
    3: CardStatus.FORMALLY_LOST,
    4: CardStatus.READY_FOR_PICKUP,
}


@dataclass(frozen=True)
class DemoCitizen:
    id_number: str = field(repr=False)  # clear: for testers' screens only, never stored
    masked: str
    name: str
    initial_password: str = field(repr=False)
    card_number: str
    card_status: CardStatus
    created: bool  # False when a previous run had stored this citizen already


@dataclass(frozen=True)
class _Plan:
    resident: ResidentId
    name: str
    card_number: str
    card_status: CardStatus
    card_issued_on: date
    insured_status: str
    base: Decimal
    months_paid: int
    last_paid_month: date
    credit_months: int
    pension_factor: Decimal
    medical_spent: Decimal


async def seed_demo(
    db: Database,
    *,
    citizens: int = 50,
    seed: int = 1,
    key: bytes,
    today: date,
    calendar: WorkCalendar | None = None,
) -> list[DemoCitizen]:
    """Store ``citizens`` demo citizens (those not stored yet) and return all of them.

    ``calendar``: the working days of the demo formal reports' pick-up dates (default: the
    shipped schedule)."""
    if calendar is None:
        calendar = await asyncio.to_thread(shipped_calendar)
    plans = _plans(seed, citizens, today)
    hashes = [id_hash(key, plan.resident) for plan in plans]
    async with db.read() as session:
        stored = set(
            await session.scalars(select(Citizen.id_hash).where(Citizen.id_hash.in_(hashes)))
        )
    todo = [(plan, h) for plan, h in zip(plans, hashes, strict=True) if h not in stored]
    # argon2 costs tens of milliseconds each: hash in worker threads, before taking the write lock.
    password_hashes = await asyncio.gather(
        *(hash_password_async(initial_password(plan.resident)) for plan, _ in todo)
    )
    now = datetime.combine(today, time(9, 0), SHANGHAI)
    async with db.write() as session:
        taken = set(
            await session.scalars(
                select(Card.number).where(Card.number.in_([p.card_number for p, _ in todo]))
            )
        )
        for (plan, hashed_id), password_hash in zip(todo, password_hashes, strict=True):
            citizen = Citizen(
                id_hash=hashed_id,
                id_masked=plan.resident.masked,
                name=plan.name,
                password_hash=password_hash,
                created_at=now.astimezone(UTC),
            )
            session.add(citizen)
            await session.flush()
            session.add_all(_accounts(citizen.id, plan, today))
            number = plan.card_number
            while number in taken:  # a clash with another seed's card: draw again
                number = new_card_number(random.Random(f"{seed}:{number}"))
            taken.add(number)
            card = Card(
                citizen_id=citizen.id,
                number=number,
                status=CardStatus.NORMAL,
                status_since=datetime.combine(plan.card_issued_on, time(10), SHANGHAI),
                issued_on=plan.card_issued_on,
            )
            session.add(card)
            await session.flush()
            if plan.card_status is not CardStatus.NORMAL:
                await session.run_sync(_lose_card, card, citizen, plan.card_status, now, calendar)
    return [
        DemoCitizen(
            id_number=plan.resident.number,
            masked=plan.resident.masked,
            name=plan.name,
            initial_password=initial_password(plan.resident),
            card_number=plan.card_number,
            card_status=plan.card_status,
            created=h not in stored,
        )
        for plan, h in zip(plans, hashes, strict=True)
    ]


def _plans(seed: int, count: int, today: date) -> list[_Plan]:
    """The first ``count`` demo people of ``seed``: a longer list starts with the shorter one."""
    rng = random.Random(seed)
    numbers: list[str] = list(EXAMPLE_IDS[:count])
    while len(numbers) < count:
        number = _random_id(rng)
        if number not in numbers:
            numbers.append(number)
    cards: set[str] = set()
    plans = []
    for index, number in enumerate(numbers):
        own = random.Random(f"{seed}/{index}")  # each person's draws, whatever the count
        name = _EXAMPLE_NAMES[index] if index < len(_EXAMPLE_NAMES) else _random_name(own)
        card_number = new_card_number(own)
        while card_number in cards:
            card_number = new_card_number(own)
        cards.add(card_number)
        special = _SPECIAL_CARDS.get(index)
        plans.append(_plan(own, ResidentId(number), name, card_number, special, today))
    return plans


def _plan(
    rng: random.Random,
    resident: ResidentId,
    name: str,
    card_number: str,
    special: CardStatus | None,
    today: date,
) -> _Plan:
    age = today.year - resident.birth_date.year
    last_month = _add_months(today.replace(day=1), -1)
    if age >= 60:
        status = "retired"
        last_paid = _add_months(resident.birth_date.replace(day=1), 60 * 12)
        months_paid = rng.randint(180, 420)
    else:
        status = "suspended" if rng.random() < 0.12 else "active"
        working_months = max(12, (age - 20) * 12)
        months_paid = rng.randint(12, working_months)
        last_paid = (
            _add_months(last_month, -rng.randint(3, 20)) if status == "suspended" else last_month
        )
    base = (AVERAGE_WAGE * Decimal(rng.uniform(0.6, 3.0))).quantize(Decimal(1))
    issued = today - timedelta(days=rng.randint(60, 3650))
    return _Plan(
        resident=resident,
        name=name,
        card_number=card_number,
        card_status=special or CardStatus.NORMAL,
        card_issued_on=issued,
        insured_status=status,
        base=base,
        months_paid=months_paid,
        last_paid_month=min(last_paid, last_month),
        credit_months=min(months_paid, rng.randint(12, 18)),
        pension_factor=Decimal(rng.uniform(0.9, 1.15)),
        medical_spent=Decimal(rng.uniform(0.0, 0.8)),
    )


def _accounts(citizen_id: int, plan: _Plan, today: date) -> list[Base]:
    pension_credit = (plan.base * PENSION_RATE).quantize(_FEN)
    rows: list[Base] = []
    months = [_add_months(plan.last_paid_month, -i) for i in range(plan.credit_months)]
    for month in months:
        rows.append(
            MonthlyCredit(
                citizen_id=citizen_id, account="pension", month=month, amount=pension_credit
            )
        )
    if plan.insured_status == "retired":
        medical_credit = RETIREE_MEDICAL_CREDIT
        last_month = _add_months(today.replace(day=1), -1)
        medical_months = [_add_months(last_month, -i) for i in range(12)]
    else:
        medical_credit = (plan.base * MEDICAL_RATE).quantize(_FEN)
        medical_months = months
    for month in medical_months:
        rows.append(
            MonthlyCredit(
                citizen_id=citizen_id, account="medical", month=month, amount=medical_credit
            )
        )
    credited = medical_credit * len(medical_months)
    rows += [
        PensionAccount(
            citizen_id=citizen_id,
            balance=(pension_credit * plan.months_paid * plan.pension_factor).quantize(_FEN),
        ),
        MedicalAccount(
            citizen_id=citizen_id,
            balance=(credited * (1 - plan.medical_spent)).quantize(_FEN),
            last_credit_amount=medical_credit,
            last_credit_on=medical_months[0].replace(day=15),
        ),
        ContributionRecord(
            citizen_id=citizen_id,
            insured_status=plan.insured_status,
            last_paid_month=plan.last_paid_month,
            contribution_base=plan.base,
            months_paid=plan.months_paid,
        ),
    ]
    return rows


def _lose_card(
    session: Session,
    card: Card,
    citizen: Citizen,
    status: CardStatus,
    now: datetime,
    calendar: WorkCalendar,
) -> None:
    """A loss report taken through the domain's steps until its card is ``status``, written as
    the hotline's and the console's steps write theirs (``ivr.store.report_rows``), in the
    seed's transaction."""
    connection = session.connection()
    days_ago = {CardStatus.PROVISIONALLY_LOST: 3, CardStatus.FORMALLY_LOST: 10}.get(status, 30)
    reported = now - timedelta(days=days_ago)
    owner = {
        "card_id": card.id,
        "citizen_id": citizen.id,
        "id_hash": citizen.id_hash,
        "id_masked": citizen.id_masked,
    }
    decision = cards.report_by_phone(card_state(card), now=reported)
    draw = partial(new_reference, reported, random.Random(reported.isoformat()))
    report = open_report(connection, owner, decision, "caller", reported, draw=draw)
    later: list[tuple[datetime, Callable[..., cards.Decision]]] = [
        (reported + timedelta(days=2), partial(cards.formalise, calendar=calendar)),
        (now - timedelta(days=1), cards.mark_card_made),
    ]
    for at, step in later:
        stored = connection.execute(select(CARDS).where(CARDS.c.id == card.id)).one()
        if stored.status is status:
            break
        decision = step(report_state(report), card_state(stored), now=at)
        report = apply_decision(connection, report.id, card.id, decision, "staff:demo", at)


def _random_id(rng: random.Random) -> str:
    area = rng.choice(AREA_CODES)
    born = date(1950, 1, 1) + timedelta(
        days=rng.randrange((date(2004, 12, 31) - date(1950, 1, 1)).days)
    )
    first17 = f"{area}{born:%Y%m%d}{rng.randrange(1, 1000):03d}"
    return first17 + check_character(first17)


def _random_name(rng: random.Random) -> str:
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(_SURNAMES) + given


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
