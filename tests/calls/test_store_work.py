"""The database work of a call, counted through the node's own engine: each transaction is
several round trips to the database's thread or socket, the largest part of a call's CPU
(``bench/results/e2e_profile.md``), so a new one on a common path is caught here."""

from __future__ import annotations

from ivr.store import models
from tests.calls.conftest import RunningHotline
from tests.calls.test_full_calls import call, count, keyed_id, last_call, password
from tests.spies import TransactionSpy

# The call's start with the remembered language; the citizen by ID; the password check's claim and
# its settling; the balance with its row in the query log; the call's end. (The AMI bridge adds
# Asterisk's hang-up cause: not here, no AMI.)
BALANCE_CALL_TRANSACTIONS = 6


async def test_a_balance_call_takes_six_transactions(hotline: RunningHotline) -> None:
    citizen = hotline.citizens[0]
    with TransactionSpy(hotline.app.database.engine) as spy:
        result = await call(hotline, "12333", ["1", keyed_id(citizen), password(citizen), "1"])
        await hotline.settled()
        await hotline.app.records.settle()  # and any write left behind the call
    assert "hotline/pension_balance_is" in result.heard
    assert len(spy.transactions) == BALANCE_CALL_TRANSACTIONS, spy.transactions
    assert (await last_call(hotline)).outcome == "served"
    assert await count(hotline, models.BalanceQuery) == 1
