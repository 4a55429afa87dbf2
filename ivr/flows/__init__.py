"""The two hotlines as flow definitions, and the engine that runs them with their actions."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.config import Settings
from ivr.domain.hotlines import HOTLINES
from ivr.domain.idnumber import mask_id_entry
from ivr.domain.outcomes import Outcome
from ivr.engine.checks import prompt_keys
from ivr.engine.model import End, Flow
from ivr.engine.runner import Engine, FlowError
from ivr.flows.actions import CHECK_PROMPTS, HotlineActions, Services
from ivr.flows.card_services import CARD_SERVICES, LOST_CARD_INFO
from ivr.flows.common import GREETING, IDENTITY, IDENTITY_FOR_LOSS
from ivr.flows.figures import figure_problems
from ivr.flows.hotline12333 import HOTLINE_12333
from ivr.flows.hotline96102 import HOTLINE_96102
from ivr.speech import readback
from ivr.speech.catalog import LANGUAGES, Catalog

FLOWS: Mapping[str, Flow] = {
    flow.name: flow
    for flow in (
        HOTLINE_12333,
        HOTLINE_96102,
        GREETING,
        IDENTITY,
        IDENTITY_FOR_LOSS,
        CARD_SERVICES,
        LOST_CARD_INFO,
    )
}
# Played outside the flows: by the call runner on a fault, by the dialplan when the server is down.
RUNTIME_PROMPTS = frozenset(
    {"technical_problem", "fallback_apology", "leave_message", "message_saved", "lines_busy"}
)


def required_sounds(language: str) -> set[str]:
    """Every sound the flows can ask for in ``language``: prompts and read-back fragments."""
    return (
        prompt_keys(FLOWS.values())
        | CHECK_PROMPTS
        | RUNTIME_PROMPTS
        | set(readback.fragment_keys(language))
    )


def check_catalog(catalog: Catalog) -> None:
    """Fail at start-up, not with dead air on a call, when a prompt is missing in some language."""
    for language in LANGUAGES:
        catalog.require(required_sounds(language), [language])


def check_outcomes(flows: Mapping[str, Flow]) -> None:
    """A hotline's own flow ends a call with an outcome the call log knows (sub-flows end with
    results of their own, which the flow that called them maps)."""
    known = set(Outcome)
    for line in HOTLINES:
        for name, node in flows[line].nodes.items():
            if isinstance(node, End) and node.outcome not in known:
                raise FlowError(f"{line}:{name} ends a call as {node.outcome!r}, not an outcome")


def check_figures(catalog: Catalog, settings: Settings) -> None:
    """Fail at start-up when a prompt states a policy figure the settings no longer have."""
    problems = figure_problems(catalog, settings)
    if problems:
        raise FlowError(
            "prompts state policy figures the settings do not have (change the texts in "
            "prompts/catalog.yaml with the settings):\n  " + "\n  ".join(problems)
        )


def build_engine(services: Services, catalog: Catalog | None = None) -> Engine:
    catalog = catalog or Catalog.load()
    check_catalog(catalog)
    check_figures(catalog, services.settings)
    check_outcomes(FLOWS)
    actions = HotlineActions(services)
    return Engine(FLOWS, actions.actions(), actions.checks(), mask_id_number=mask_id_entry)
