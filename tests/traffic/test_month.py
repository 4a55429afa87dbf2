"""The generated month looks like a centre's traffic, walks the real flows, keeps no secret, and
is the same for the same seed."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from ivr.domain.clock import local
from ivr.domain.outcomes import Outcome
from ivr.engine.model import End, Menu
from ivr.flows import FLOWS
from ivr.traffic.month import MENU_KEYS, Traffic, identities, random_ids

WEEK = (date(2026, 3, 2), date(2026, 3, 8))  # Monday to Sunday


def _week(calls: int = 3000, seed: int = 5) -> Traffic:
    people = identities(b"k" * 32, random_ids(seed, 100))
    return Traffic(calls=calls, first=WEEK[0], last=WEEK[1], seed=seed, people=people)


def test_the_calls_asked_for_are_made_busiest_in_working_hours_and_on_working_days() -> None:
    calls = [call for batch in _week().batches(700) for call in batch]
    assert len(calls) == 3000
    assert [c.started_at for c in calls] == sorted(c.started_at for c in calls)
    hours = Counter(local(c.started_at).hour for c in calls)
    assert hours[10] > 5 * hours[3]
    days = Counter(local(c.started_at).date() for c in calls)
    assert min(days[date(2026, 3, d)] for d in range(2, 7)) > days[date(2026, 3, 8)]
    lines = Counter(c.hotline for c in calls)
    assert lines["12333"] > 2 * lines["96102"] > 0


def test_each_call_walks_the_flows_and_ends_as_calls_end() -> None:
    calls = _week(1000).day(WEEK[0])
    nodes = {f"{flow.name}:{name}" for flow in FLOWS.values() for name in flow.nodes}
    outcomes = Counter(c.outcome for c in calls)
    assert outcomes[Outcome.SERVED] > outcomes[Outcome.ABANDONED] > 0
    ends = {n.outcome for f in FLOWS.values() for n in f.nodes.values() if isinstance(n, End)}
    assert set(outcomes) <= {o.value for o in Outcome} | ends
    for call in calls:
        assert call.steps and {s.node for s in call.steps} <= nodes
        assert [s.seq for s in call.steps] == list(range(1, len(call.steps) + 1))
        assert call.started_at < call.steps[0].at and call.steps[-1].at < call.ended_at
        assert (call.id_hash is None) == (call.id_masked is None)


def test_no_step_holds_a_clear_id_number_or_a_password() -> None:
    clear = re.compile(r"\d{15}|\d{17}[\dX]")
    keyed: Counter[str] = Counter()
    for call in _week(1000).day(WEEK[1]):
        for step in call.steps:
            assert not clear.search(step.key + step.detail), step
            if step.kind == "input" and step.node.endswith("password"):
                keyed[step.key] += 1
    assert keyed["***"] > 0 and set(keyed) <= {"***", "*"}


def test_the_same_seed_gives_the_same_calls_and_another_seed_others() -> None:
    assert _week(300).day(WEEK[0]) == _week(300).day(WEEK[0])
    assert _week(300).day(WEEK[0]) != _week(300, seed=6).day(WEEK[0])


def test_every_weighted_menu_is_a_menu_of_the_flows_and_offers_its_keys() -> None:
    """The weights follow the flows: a renamed menu or a removed key would silently skew the
    month (the walker falls back to even shares, or to a wrong key)."""
    for name, keys in MENU_KEYS.items():
        flow, node = name.split(":")
        menu = FLOWS[flow].nodes.get(node)
        assert isinstance(menu, Menu), name
        offered = set(menu.options) | ({""} if menu.default else set())
        assert set(keys) <= offered, (name, set(keys) - offered)
