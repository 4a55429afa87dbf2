"""A caller who falls silent anywhere is offered an agent and, still silent, put through (the
dialplan takes the call to the agents in their hours, to a voice message outside them): the
hotline never hangs up on a caller who may still need help."""

from __future__ import annotations

from sqlalchemy import select

from ivr.domain.cards import CardStatus
from ivr.engine.model import Menu
from ivr.flows import FLOWS
from ivr.store import models
from ivr.store.seed import DemoCitizen
from tests.agipeer import run_call
from tests.calls.conftest import RunningHotline


def keyed(citizen: DemoCitizen) -> tuple[str, str]:
    return citizen.id_number.replace("X", "*") + "#", citizen.initial_password + "#"


def menus_that_wait() -> set[str]:
    """Every menu where silence is a no-input (not one that takes silence as its default)."""
    return {
        f"{flow.name}:{name}"
        for flow in FLOWS.values()
        for name, node in flow.nodes.items()
        if isinstance(node, Menu) and node.default is None
    }


async def silent_after(hotline: RunningHotline, line: str, entries: list[str]) -> set[str]:
    """Call, key ``entries``, then say nothing: the nodes where silence was met."""
    result = await run_call(
        "127.0.0.1", hotline.port, line, entries, recordings_dir=hotline.settings.recordings_dir
    )
    heard = [sound.removeprefix("hotline/") for sound in result.heard]
    assert "offer_agent" in heard and heard[-1] == "transfer_agent", (line, entries, heard[-3:])
    assert result.variables["HOTLINE_NEXT"] == "agent", (line, entries)
    await hotline.settled()
    async with hotline.app.database.read() as session:
        call_id = await session.scalar(select(models.Call.id).order_by(models.Call.id.desc()))
        silent = set(
            await session.scalars(
                select(models.CallStep.node).where(
                    models.CallStep.call_id == call_id, models.CallStep.kind == "no_input"
                )
            )
        )
    assert silent, (line, entries)
    return silent


async def test_a_silent_caller_in_every_menu_is_offered_an_agent_and_put_through(
    hotline: RunningHotline,
) -> None:
    cards = [c for c in hotline.citizens if c.card_status is CardStatus.NORMAL]
    identified, reporter = keyed(hotline.citizens[0]), keyed(cards[0])
    paths = {
        "12333": [
            [],
            ["1"],
            ["1", identified[0]],
            ["1", *identified],
            ["1", *identified, "4"],
            ["2"],
            ["2", "1", *reporter],
            ["2", "1", *reporter, "1"],  # the report is made: the menu after it
            ["2", "3", *reporter],  # lifting it
            ["2", "4"],
            ["3"],
            ["3", "2"],
        ],
        "96102": [[], ["4"], ["1", *reporter]],
    }
    silent: set[str] = set()
    for line, entries in ((line, e) for line, all_entries in paths.items() for e in all_entries):
        silent |= await silent_after(hotline, line, entries)
    assert menus_that_wait() <= silent
    assert {"identity:enter_id", "identity:enter_password", "12333:password_old"} <= silent
