"""The callers' 3-try lock-out under parallel calls for one ID number, through the real FastAGI
socket, on SQLite and PostgreSQL: no more passwords are ever checked than the limit allows, the
failures are counted exactly, and every caller hears what happened to the call.

``PasswordVerifier.verify`` is wrapped to see which passwords reach the argon2 check (and, in one
test, to hold those checks until the test lets them go); the server runs in this process.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from ivr.store import models
from ivr.store.seed import DemoCitizen
from tests.agipeer import PeerResult
from tests.calls.conftest import RunningHotline
from tests.calls.test_full_calls import call, keyed_id
from tests.spies import PasswordCheckSpy, spy_on_query_passwords

LIMIT = 3  # the default lock-out: three wrong passwords


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> PasswordCheckSpy:
    return spy_on_query_passwords(monkeypatch)


def wrong_passwords(citizen: DemoCitizen, count: int) -> list[str]:
    candidates = (f"{n:06d}" for n in range(100_000, 1_000_000, 7_919))
    return [pw for pw in candidates if pw != citizen.initial_password][:count]


def balance_query(
    hotline: RunningHotline, citizen: DemoCitizen, password: str
) -> asyncio.Task[PeerResult]:
    """A call that keys the ID and one password, then asks for the pension balance."""
    entries = ["1", keyed_id(citizen), password + "#", "1"]
    return asyncio.create_task(call(hotline, "12333", entries))


def heard(result: PeerResult) -> list[str]:
    return [name.removeprefix("hotline/") for name in result.heard]


async def security_events(hotline: RunningHotline, citizen: DemoCitizen) -> list[str]:
    async with hotline.app.database.read() as session:
        return list(
            await session.scalars(
                select(models.SecurityEvent.kind)
                .where(models.SecurityEvent.id_masked == citizen.masked)
                .order_by(models.SecurityEvent.id)
            )
        )


async def citizen_row(hotline: RunningHotline, citizen: DemoCitizen) -> models.Citizen:
    async with hotline.app.database.read() as session:
        row = await session.scalar(
            select(models.Citizen).where(models.Citizen.id_masked == citizen.masked)
        )
    assert row is not None
    return row


async def test_forty_parallel_wrong_passwords_check_only_three(
    hotline: RunningHotline, spy: PasswordCheckSpy
) -> None:
    citizen = hotline.citizens[1]
    results = await asyncio.gather(
        *(balance_query(hotline, citizen, pw) for pw in wrong_passwords(citizen, 40))
    )
    assert len(spy.checked) == LIMIT
    kinds = await security_events(hotline, citizen)
    assert kinds.count("password_failure") == LIMIT and kinds.count("locked") == 1
    row = await citizen_row(hotline, citizen)
    assert row.password_failures == LIMIT and row.locked_until is not None
    # Each caller heard what happened: two were told the password was wrong, the rest (the
    # third wrong password among them) that the account is locked.
    told = [heard(result) for result in results]
    assert sum("password_wrong" in sounds for sounds in told) == LIMIT - 2
    assert sum("password_wrong_last_try" in sounds for sounds in told) == 1  # warned of the lock
    assert sum("account_locked" in sounds for sounds in told) == 40 - (LIMIT - 1)
    assert not any("pension_balance_is" in sounds for sounds in told)


async def test_the_right_password_keyed_during_a_burst_hears_no_balance(
    hotline: RunningHotline, spy: PasswordCheckSpy
) -> None:
    """The audit's attack: 39 wrong passwords at once, the right one 20th."""
    citizen = hotline.citizens[1]
    wrong = wrong_passwords(citizen, 39)
    spy.hold()  # the checks under way stay under way while the right password comes in
    first = [balance_query(hotline, citizen, pw) for pw in wrong[:19]]
    await spy.until_started(LIMIT)
    right = balance_query(hotline, citizen, citizen.initial_password)
    rest = [balance_query(hotline, citizen, pw) for pw in wrong[19:]]
    # Refused at once with the fix; before it the right password waits behind the gate.
    await asyncio.wait({right}, timeout=10)
    spy.gate.set()
    results = await asyncio.gather(*first, right, *rest)
    assert citizen.initial_password not in spy.checked
    assert len(spy.checked) == LIMIT
    told = [heard(result) for result in results]
    assert "account_locked" in heard(right.result())
    assert not any("pension_balance_is" in sounds for sounds in told)
    kinds = await security_events(hotline, citizen)
    assert kinds.count("password_failure") == LIMIT and kinds.count("locked") == 1
    row = await citizen_row(hotline, citizen)
    assert row.password_failures == LIMIT and row.locked_until is not None
