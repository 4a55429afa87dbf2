"""The counter's steps on a card case (a loss report), each booked and audited.

Which status allows which step is the domain's rule (``ivr.domain.cards.STEPS``); this module
names the steps for the counter. Each is booked in the report's history as
``staff:<username>`` and in the audit log, refused attempts included:

- verify: a report made by recorded statement is matched to the current card of the person whose
  ID hash it carries (looked up here, never typed), and becomes provisional (settlement stops);
- formal: the formal loss report; the pick-up date is 15 working days on (Chinese calendar);
- made / picked-up: the new card is ready, then collected (the lost card is replaced);
- lift: the card was found before the formal report: back to normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from ivr.domain.cards import CardNotInUse, Step, StepRefused, check_step, step_allowed
from ivr.domain.clock import local_now
from ivr.store.console import CaseView
from ivr.store.errors import CardNotReportable, ReportStateError, StoreError
from ivr.web.plumbing.auditing import audit, staff_actor
from ivr.web.plumbing.errors import Refusal
from ivr.web.plumbing.i18n import Text, TextError, _l
from ivr.web.plumbing.labels import label
from ivr.web.state import console

__all__ = ["ACTIONS", "CaseAction", "CaseActionError", "perform"]


@dataclass(frozen=True)
class CaseAction:
    label: Text
    step: Step
    done: Text  # the notice after it, with the report's %(reference)s

    def offered_on(self, case: CaseView) -> bool:
        return step_allowed(self.step, case.status)


ACTIONS: dict[str, CaseAction] = {
    "verify": CaseAction(
        _l("Verify against the card"), Step.VERIFY, _l("Report verified: %(reference)s.")
    ),
    "formal": CaseAction(
        _l("Record formal report"), Step.FORMALISE, _l("Formal report recorded: %(reference)s.")
    ),
    "lift": CaseAction(_l("Lift (card found)"), Step.LIFT, _l("Report lifted: %(reference)s.")),
    "made": CaseAction(
        _l("New card made"), Step.CARD_MADE, _l("New card marked made: %(reference)s.")
    ),
    "picked-up": CaseAction(
        _l("Picked up"), Step.PICKED_UP, _l("New card marked picked up: %(reference)s.")
    ),
}
# What each step does, for a refusal: "the report is lifted: cannot formalise it".
_DOING: dict[Step, Text] = {
    Step.VERIFY: _l("verify it against the card"),
    Step.LIFT: _l("lift it"),
    Step.FORMALISE: _l("record the formal report"),
    Step.CARD_MADE: _l("mark its new card made"),
    Step.PICKED_UP: _l("mark its new card picked up"),
}


class CaseActionError(TextError):
    """The step cannot be taken on this report now; the message says why."""


def refusal_text(error: Exception) -> Text:
    """Why a step was refused, in words the counter reads (the domain's refusal, translated)."""
    refused = error.__cause__ if isinstance(error, StoreError) else error
    if isinstance(error, TextError):
        return error.text
    if isinstance(refused, StepRefused):
        doing = _DOING.get(refused.step, _l("take this step"))
        if isinstance(refused, CardNotInUse):
            return _l(
                "The card is %(card)s: cannot %(doing)s.",
                card=label("card", refused.card_status),
                doing=doing,
            )
        if refused.status is None:
            return _l("There is no open report: cannot %(doing)s.", doing=doing)
        return _l(
            "The report is %(status)s: cannot %(doing)s.",
            status=label("report", refused.status),
            doing=doing,
        )
    if isinstance(error, CardNotReportable | ReportStateError):
        return _l("Not possible in the report's state.")
    return _l("The step could not be recorded.")


async def perform(request: web.Request, reference: str, action: str) -> CaseView:
    """Take ``action`` on the report; book and audit it. A 404 ``Refusal`` for no such report."""
    state = console(request)
    step = ACTIONS.get(action)
    if step is None:
        raise Refusal(404, _l("There is no case action %(action)s.", action=repr(action)))
    now = local_now()  # local: the lapse and pick-up dates are Beijing dates
    case = await state.calls.case(reference, today=now.date())
    if case is None:
        raise Refusal(404, _l("There is no loss report %(reference)s.", reference=reference))
    actor = staff_actor(request)
    try:
        check_step(step.step, case.status)
        await _apply(request, case, action, actor, now)
    except (CaseActionError, StepRefused, StoreError) as error:
        await audit(
            request, f"case_{action}", target=f"report:{reference}", detail=f"refused: {error}"
        )
        raise CaseActionError(refusal_text(error)) from None
    updated = await state.calls.case(reference, today=now.date())
    assert updated is not None
    detail = f"{case.status.value} -> {updated.status.value}"
    if updated.pickup_on and action == "formal":
        detail += f", pick-up on {updated.pickup_on.isoformat()}"
    await audit(request, f"case_{action}", target=f"report:{reference}", detail=detail)
    return updated


async def _apply(
    request: web.Request, case: CaseView, action: str, actor: str, now: datetime
) -> None:
    state = console(request)
    settings = state.settings
    ref = case.reference
    match action:
        case "verify":
            if case.card is None:
                raise CaseActionError(
                    _l("No card on record for this person: verify at the counter.")
                )
            await state.records.verify_report(
                ref,
                card_id=case.card.id,
                actor=actor,
                now=now,
                lapse_days=settings.provisional_lapse_days,
            )
        case "formal":
            await state.records.record_formal_report(
                ref,
                actor=actor,
                now=now,
                working_days=settings.reissue_working_days,
                calendar=state.calendar,
            )
        case "made":
            await state.records.mark_card_made(ref, actor=actor, now=now)
        case "picked-up":
            await state.records.mark_picked_up(ref, actor=actor, now=now)
        case "lift":
            if case.card is None:
                raise CaseActionError(_l("The report has no card."))
            await state.records.lift_provisional_report(
                case.card.id, call_id=None, now=now, actor=actor
            )
