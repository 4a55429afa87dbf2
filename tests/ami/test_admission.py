"""The admission gate: what it tells Asterisk (through AMI) while password checks queue, and when
it stops. The real dialplan's side is tested in tests/telephony/test_telephony_capacity.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import pytest

from ivr.ami.admission import SHED_UNTIL, AdmissionGate
from ivr.ami.client import AMIClient
from ivr.ami.errors import AMIDisconnected

pytestmark = pytest.mark.asyncio


class FakeAMI:
    """The AMI client's two methods the gate uses: the actions sent, the login hook."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.down = False
        self.state_handlers: list[Callable[[bool], None]] = []

    async def action(self, name: str, **fields: Any) -> dict[str, str]:
        if self.down:
            raise AMIDisconnected(f"AMI not connected: {name} not sent")
        self.sent.append((name, fields))
        return {"Response": "Success"}

    def on_state(self, handler: Callable[[bool], None]) -> Callable[[], None]:
        self.state_handlers.append(handler)
        return lambda: self.state_handlers.remove(handler)

    def leases(self) -> list[int]:
        assert all(name == "Setvar" and f["Variable"] == SHED_UNTIL for name, f in self.sent)
        return [int(fields["Value"]) for _, fields in self.sent]


class Setup:
    def __init__(self) -> None:
        self.ami = FakeAMI()
        self.now = 1000.0
        self.crowded = False
        self.told: list[bool] = []
        self.gate = AdmissionGate(
            cast(AMIClient, self.ami),
            lambda: self.crowded,
            clock=lambda: self.now,
            closed=self.told.append,
        )

    async def at(self, now: float) -> None:
        self.now = now
        await self.gate.check()


async def test_an_uncrowded_node_tells_asterisk_nothing() -> None:
    s = Setup()
    for t in (1000.0, 1000.25, 1005.0):
        await s.at(t)
    assert s.ami.sent == [] and s.told == [] and not s.gate.shedding


async def test_while_crowded_the_lease_stays_ahead_and_runs_out_once_the_queue_clears() -> None:
    s = Setup()
    s.crowded = True
    await s.at(1000.4)
    assert s.ami.leases() == [1005]  # 4 s ahead of Asterisk's ${EPOCH}, whole seconds
    assert s.told == [True] and s.gate.shedding
    await s.at(1000.65)
    await s.at(1001.9)  # renewed only once less than 3 s are left
    assert s.ami.leases() == [1005]
    await s.at(1002.1)
    assert s.ami.leases() == [1005, 1007]
    s.crowded = False  # caught up: no more renewals, no action to open the door
    await s.at(1003.0)
    await s.at(1006.9)
    assert s.ami.leases() == [1005, 1007] and s.told == [True] and s.gate.shedding
    await s.at(1007.0)  # Asterisk lets calls in from this second on
    assert s.told == [True, False] and not s.gate.shedding
    await s.at(1008.0)
    assert s.told == [True, False]


async def test_without_ami_no_lease_is_taken_and_it_is_tried_again() -> None:
    s = Setup()
    s.crowded, s.ami.down = True, True
    await s.at(1000.0)
    assert s.ami.sent == [] and s.told == [] and not s.gate.shedding
    s.ami.down = False
    await s.at(1000.25)
    assert s.ami.leases() == [1005] and s.told == [True]


async def test_after_a_new_login_the_lease_is_set_again_at_once() -> None:
    s = Setup()
    s.crowded = True
    s.gate.start()
    try:
        await asyncio.sleep(0)  # its first look: the lease taken
        assert s.ami.leases() == [1004]
        (login,) = s.ami.state_handlers
        login(False)
        login(True)  # Asterisk restarted (or reloaded its dialplan): its globals are reset
        await s.at(1000.5)
        assert s.ami.leases() == [1004, 1005]
        assert s.told == [True]  # still the one closing
    finally:
        await s.gate.close()
    assert s.ami.state_handlers == [] and s.told == [True, False]


async def test_a_lease_too_short_to_renew_in_time_is_refused() -> None:
    with pytest.raises(ValueError, match="lease"):
        AdmissionGate(cast(AMIClient, FakeAMI()), lambda: True, lease=1.5)
