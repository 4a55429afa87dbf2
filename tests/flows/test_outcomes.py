"""Every way a hotline flow ends a call is an outcome the call log, the filters and the statistics
know; the runtime's own (abandoned, interrupted, error) are too."""

from __future__ import annotations

import dataclasses

import pytest

from ivr.domain.outcomes import DROP_OFFS, Outcome
from ivr.engine.model import End
from ivr.engine.runner import FlowError
from ivr.flows import FLOWS, check_outcomes
from ivr.web.calls.filters import OUTCOMES


def test_the_hotlines_end_calls_with_known_outcomes_only() -> None:
    check_outcomes(FLOWS)
    ends = {n.outcome for line in ("12333", "96102") for n in FLOWS[line].nodes.values()
            if isinstance(n, End)}  # fmt: skip
    # a served caller goes back to a menu and ends the call by hanging up (the runtime's
    # outcome); a failed one is put through to an agent
    assert ends == {"agent", "voice_message", "failed"}


def test_an_unknown_outcome_is_refused_when_the_engine_is_built() -> None:
    flow = FLOWS["12333"]
    broken = dataclasses.replace(flow, nodes={**flow.nodes, "agent": End("transferred")})
    with pytest.raises(FlowError, match="12333:agent ends a call as 'transferred'"):
        check_outcomes({**FLOWS, "12333": broken})


def test_the_call_log_filters_offer_every_outcome_and_drop_off_leaves_interrupted_out() -> None:
    assert set(OUTCOMES) == set(Outcome) and "interrupted" in OUTCOMES
    assert Outcome.INTERRUPTED not in DROP_OFFS
