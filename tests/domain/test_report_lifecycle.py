"""The loss report's lifecycle: every step allowed and refused from every status, the card and
settlement that go with each step, the lapse in reads and writes, the dates a step sets.

The expectations below are written out by hand, not read from ``STEPS``, so a changed transition
in the table fails here.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import pytest

from ivr.domain import cards
from ivr.domain.cards import (
    OPEN_STATUSES,
    CardNotInUse,
    CardState,
    CardStatus,
    Decision,
    ReportState,
    ReportStatus,
    Step,
    StepRefused,
    card_as_of,
    check_step,
    effective_status,
    formalise,
    lapse,
    lapse_due,
    lift,
    mark_card_made,
    mark_picked_up,
    report_by_phone,
    report_by_statement,
    report_open,
    step_allowed,
    verify,
)
from ivr.domain.workdays import shipped_calendar

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING)
TODAY = NOW.date()
STOPPED_AT = datetime(2026, 9, 28, 9, 0, tzinfo=BEIJING)  # when the phone report stopped the card

# The report's status each step needs (None: the step opens a report).
ALLOWED_FROM: dict[Step, ReportStatus | None] = {
    Step.REPORT: None,
    Step.REPORT_UNVERIFIED: None,
    Step.VERIFY: ReportStatus.NEEDS_VERIFICATION,
    Step.LIFT: ReportStatus.PROVISIONAL,
    Step.LAPSE: ReportStatus.PROVISIONAL,
    Step.FORMALISE: ReportStatus.PROVISIONAL,
    Step.CARD_MADE: ReportStatus.FORMAL,
    Step.PICKED_UP: ReportStatus.CARD_MADE,
}
# Report status, card status and whether settlement is stopped, after each step.
LEADS_TO: dict[Step, tuple[ReportStatus, CardStatus, bool]] = {
    Step.VERIFY: (ReportStatus.PROVISIONAL, CardStatus.PROVISIONALLY_LOST, True),
    Step.LIFT: (ReportStatus.LIFTED, CardStatus.NORMAL, False),
    Step.LAPSE: (ReportStatus.LAPSED, CardStatus.NORMAL, False),
    Step.FORMALISE: (ReportStatus.FORMAL, CardStatus.FORMALLY_LOST, True),
    Step.CARD_MADE: (ReportStatus.CARD_MADE, CardStatus.READY_FOR_PICKUP, True),
    Step.PICKED_UP: (ReportStatus.PICKED_UP, CardStatus.FORMALLY_LOST, True),
}
# The card as it stands beside a report in each status.
CARD_BESIDE: dict[ReportStatus, CardState] = {
    ReportStatus.NEEDS_VERIFICATION: CardState(CardStatus.NORMAL, None),
    ReportStatus.PROVISIONAL: CardState(CardStatus.PROVISIONALLY_LOST, STOPPED_AT),
    ReportStatus.LIFTED: CardState(CardStatus.NORMAL, None),
    ReportStatus.LAPSED: CardState(CardStatus.NORMAL, None),
    ReportStatus.FORMAL: CardState(CardStatus.FORMALLY_LOST, STOPPED_AT),
    ReportStatus.CARD_MADE: CardState(CardStatus.READY_FOR_PICKUP, STOPPED_AT),
    ReportStatus.PICKED_UP: CardState(CardStatus.FORMALLY_LOST, STOPPED_AT, in_use=False),
}
TAKE: dict[Step, Callable[[ReportState, CardState], Decision]] = {
    Step.VERIFY: lambda r, c: verify(r, c, same_person=True, now=NOW, lapse_days=10),
    Step.LIFT: lambda r, c: lift(r, c, now=NOW, by_phone=True),
    Step.LAPSE: lambda r, c: lapse(r, c, today=TODAY),
    Step.FORMALISE: lambda r, c: formalise(r, c, calendar=SHIPPED, now=NOW, working_days=15),
    Step.CARD_MADE: lambda r, c: mark_card_made(r, c, now=NOW),
    Step.PICKED_UP: lambda r, c: mark_picked_up(r, c, now=NOW),
}

SHIPPED = shipped_calendar()


def test_every_step_is_covered_here() -> None:
    assert set(ALLOWED_FROM) == set(Step) == set(cards.STEPS)
    assert set(TAKE) == {step for step, status in ALLOWED_FROM.items() if status is not None}
    assert set(CARD_BESIDE) == set(ReportStatus)


@pytest.mark.parametrize(
    ("step", "status", "date_passed"),
    list(itertools.product(TAKE, ReportStatus, [False, True])),
)
def test_each_step_from_each_status(step: Step, status: ReportStatus, date_passed: bool) -> None:
    """Allowed from its status only; a provisional report past its date only lapses."""
    lapses_on = TODAY if date_passed else TODAY + timedelta(days=1)
    report = ReportState(status, lapses_on)
    lapsed = status is ReportStatus.PROVISIONAL and date_passed
    allowed = lapsed if step is Step.LAPSE else status is ALLOWED_FROM[step] and not lapsed
    seen_as = ReportStatus.LAPSED if lapsed else status

    if not allowed:
        with pytest.raises(StepRefused) as refused:
            TAKE[step](report, CARD_BESIDE[status])
        assert (refused.value.step, refused.value.status) == (step, seen_as)
        assert str(refused.value).startswith(f"the report is {seen_as.value}: cannot ")
        return
    decision = TAKE[step](report, CARD_BESIDE[status])
    report_after, card_after, stopped = LEADS_TO[step]
    assert (decision.step, decision.status, decision.verified) == (step, report_after, True)
    assert decision.card is not None and decision.card.status is card_after
    assert (decision.card.settlement_stopped_at is not None) is stopped
    assert (decision.new_card is not None) is (step is Step.PICKED_UP)


def test_settlement_stays_stopped_from_the_phone_report() -> None:
    provisional = ReportState(ReportStatus.PROVISIONAL, TODAY + timedelta(days=5))
    stopped = CARD_BESIDE[ReportStatus.PROVISIONAL]
    formal = formalise(provisional, stopped, calendar=SHIPPED, now=NOW)
    assert formal.card == CardState(CardStatus.FORMALLY_LOST, STOPPED_AT)
    made = mark_card_made(ReportState(ReportStatus.FORMAL, None), formal.card, now=NOW)
    assert made.card == CardState(CardStatus.READY_FOR_PICKUP, STOPPED_AT)
    lifted = lift(provisional, stopped, now=NOW, by_phone=False)
    assert lifted.card == CardState(CardStatus.NORMAL, None)


def test_report_by_phone_stops_a_normal_card_at_once() -> None:
    decision = report_by_phone(CardState(CardStatus.NORMAL, None), now=NOW)
    assert decision.step is Step.REPORT
    assert decision.status is ReportStatus.PROVISIONAL and decision.verified
    assert decision.card == CardState(CardStatus.PROVISIONALLY_LOST, NOW)
    assert decision.lapses_on == date(2026, 10, 10)  # calendar days, through National Day
    assert (decision.pickup_on, decision.new_card) == (None, None)
    assert decision.note == "provisional report by phone"
    assert report_by_phone(CardState(CardStatus.NORMAL, None), now=NOW, lapse_days=3).lapses_on == (
        TODAY + timedelta(days=3)
    )


@pytest.mark.parametrize(
    "card",
    [CardState(status, STOPPED_AT) for status in CardStatus if status is not CardStatus.NORMAL]
    + [CardState(CardStatus.NORMAL, None, in_use=False)],
)
def test_only_a_card_in_normal_use_is_reported_or_verified(card: CardState) -> None:
    with pytest.raises(CardNotInUse) as by_phone:
        report_by_phone(card, now=NOW)
    assert (by_phone.value.step, by_phone.value.status) == (Step.REPORT, None)
    assert by_phone.value.card_status is card.status
    expected = f"the card is {card.status.value}" if card.in_use else "the card has been replaced"
    assert str(by_phone.value) == f"{expected}: cannot report the card lost"
    unverified = ReportState(ReportStatus.NEEDS_VERIFICATION, None)
    with pytest.raises(CardNotInUse) as verifying:
        verify(unverified, card, same_person=True, now=NOW)
    assert verifying.value.step is Step.VERIFY
    assert verifying.value.status is ReportStatus.NEEDS_VERIFICATION


def test_report_by_statement_waits_for_staff() -> None:
    decision = report_by_statement()
    assert decision.step is Step.REPORT_UNVERIFIED
    assert decision.status is ReportStatus.NEEDS_VERIFICATION and not decision.verified
    assert decision.note == "statement recorded, needs verification"
    assert (decision.card, decision.lapses_on) == (None, None)


def test_verify_starts_the_lapse_clock_on_the_day_of_verification() -> None:
    unverified = ReportState(ReportStatus.NEEDS_VERIFICATION, None)
    normal = CardState(CardStatus.NORMAL, None)
    decision = verify(unverified, normal, same_person=True, now=NOW, lapse_days=3)
    assert decision.lapses_on == TODAY + timedelta(days=3)
    assert decision.card == CardState(CardStatus.PROVISIONALLY_LOST, NOW)
    assert decision.note == "verified"


def test_verify_refuses_another_persons_card() -> None:
    unverified = ReportState(ReportStatus.NEEDS_VERIFICATION, None)
    with pytest.raises(StepRefused) as refused:
        verify(unverified, CardState(CardStatus.NORMAL, None), same_person=False, now=NOW)
    assert not isinstance(refused.value, CardNotInUse)
    assert refused.value.status is ReportStatus.NEEDS_VERIFICATION
    assert str(refused.value) == "the card is another person's: cannot verify it against the card"


def test_formal_report_sets_the_pickup_date_in_working_days_over_a_holiday() -> None:
    provisional = ReportState(ReportStatus.PROVISIONAL, TODAY + timedelta(days=5))
    decision = formalise(
        provisional, CARD_BESIDE[ReportStatus.PROVISIONAL], calendar=SHIPPED, now=NOW
    )
    # 15 working days from 30 Sep 2026: 1-7 Oct off, Saturday 10 Oct worked.
    assert decision.pickup_on == date(2026, 10, 27)
    assert decision.note == "pick-up on 2026-10-27"
    bank_card = formalise(
        provisional,
        CARD_BESIDE[ReportStatus.PROVISIONAL],
        calendar=SHIPPED,
        now=NOW,
        working_days=1,
    )
    assert bank_card.pickup_on == date(2026, 10, 8)


def test_picked_up_replaces_the_card_with_a_new_one_in_normal_use() -> None:
    made = ReportState(ReportStatus.CARD_MADE, None)
    decision = mark_picked_up(made, CARD_BESIDE[ReportStatus.CARD_MADE], now=NOW)
    assert decision.card == CardState(CardStatus.FORMALLY_LOST, STOPPED_AT, in_use=False)
    assert decision.new_card == CardState(CardStatus.NORMAL, None)
    assert decision.note == "new card picked up"
    made = mark_card_made(
        ReportState(ReportStatus.FORMAL, None), CARD_BESIDE[ReportStatus.FORMAL], now=NOW
    )
    assert made.note == "new card ready for pick-up"


@pytest.mark.parametrize("step", [Step.FORMALISE, Step.CARD_MADE, Step.PICKED_UP])
def test_a_step_that_stops_a_card_not_yet_stopped_stops_it_now(step: Step) -> None:
    # A card stored without its stop time (recorded before stop times were kept) stops now.
    status = ALLOWED_FROM[step]
    assert status is not None
    unstopped = dataclasses.replace(CARD_BESIDE[status], settlement_stopped_at=None)
    decision = TAKE[step](ReportState(status, None), unstopped)
    assert decision.card is not None and decision.card.settlement_stopped_at == NOW


def test_notes_say_who_lifted() -> None:
    provisional = ReportState(ReportStatus.PROVISIONAL, TODAY + timedelta(days=5))
    card = CARD_BESIDE[ReportStatus.PROVISIONAL]
    assert lift(provisional, card, now=NOW, by_phone=True).note == "lifted by phone"
    assert lift(provisional, card, now=NOW, by_phone=False).note == "lifted at the counter"


@pytest.mark.parametrize("step", [Step.LIFT, Step.FORMALISE])
def test_a_step_on_the_card_needs_the_card(step: Step) -> None:
    with pytest.raises(StepRefused) as refused:
        TAKE[step](ReportState(ReportStatus.PROVISIONAL, None), None)  # type: ignore[arg-type]
    assert refused.value.status is ReportStatus.PROVISIONAL
    assert str(refused.value) == f"the report has no card: cannot {cards.STEPS[step].doing}"


@pytest.mark.parametrize("step", list(TAKE))
def test_a_step_on_no_report_is_refused(step: Step) -> None:
    with pytest.raises(StepRefused) as refused:
        TAKE[step](None, CardState(CardStatus.NORMAL, None))  # type: ignore[arg-type]
    assert (refused.value.step, refused.value.status) == (step, None)
    assert str(refused.value) == f"there is no open report: cannot {cards.STEPS[step].doing}"


# -- the lapse: computed in every read and every write ----------------------------------------


def test_the_lapse_day_and_the_day_before() -> None:
    report = ReportState(ReportStatus.PROVISIONAL, date(2026, 10, 8))
    card = CARD_BESIDE[ReportStatus.PROVISIONAL]
    day_before, lapse_day = date(2026, 10, 7), date(2026, 10, 8)
    on = datetime(2026, 10, 7, 23, 59, tzinfo=BEIJING)

    assert not lapse_due(report, day_before)
    assert card_as_of(card, report, day_before) == card
    assert lift(report, card, now=on, by_phone=True).status is ReportStatus.LIFTED
    with pytest.raises(StepRefused, match="the report is provisional: cannot record its lapse"):
        lapse(report, card, today=day_before)

    assert lapse_due(report, lapse_day)
    assert card_as_of(card, report, lapse_day) == CardState(CardStatus.NORMAL, None)
    with pytest.raises(StepRefused, match="the report is lapsed: cannot lift it"):
        lift(report, card, now=on + timedelta(minutes=1), by_phone=True)
    with pytest.raises(StepRefused, match="the report is lapsed: cannot formalise it"):
        formalise(report, card, calendar=SHIPPED, now=on + timedelta(minutes=1))
    lapsed = lapse(report, card, today=lapse_day)
    assert (lapsed.status, lapsed.note) == (ReportStatus.LAPSED, "provisional report lapsed")


def test_a_report_is_open_until_a_step_closes_it_or_it_lapses() -> None:
    lapse_day = date(2026, 10, 8)
    assert report_open(ReportStatus.PROVISIONAL, lapse_day, lapse_day - timedelta(days=1))
    assert not report_open(ReportStatus.PROVISIONAL, lapse_day, lapse_day)
    assert report_open(ReportStatus.PROVISIONAL, None, date(2030, 1, 1))
    assert report_open(ReportStatus.FORMAL, lapse_day, lapse_day + timedelta(days=99))
    assert not report_open(ReportStatus.LIFTED, None, TODAY)
    assert effective_status(ReportStatus.PROVISIONAL, lapse_day, lapse_day) is ReportStatus.LAPSED
    assert effective_status(ReportStatus.FORMAL, lapse_day, lapse_day) is ReportStatus.FORMAL


def test_a_lapse_is_written_once() -> None:
    written = ReportState(ReportStatus.LAPSED, date(2026, 10, 8))
    assert not lapse_due(written, date(2026, 12, 1))
    with pytest.raises(StepRefused, match="the report is lapsed: cannot record its lapse"):
        lapse(written, CardState(CardStatus.NORMAL, None), today=date(2026, 12, 1))


def test_a_card_without_an_open_report_is_as_stored() -> None:
    card = CardState(CardStatus.NORMAL, None)
    assert card_as_of(card, None, TODAY) is card
    formal = ReportState(ReportStatus.FORMAL, TODAY - timedelta(days=30))
    stopped = CARD_BESIDE[ReportStatus.FORMAL]
    assert card_as_of(stopped, formal, TODAY) is stopped


# -- what a screen may offer: the step against the report's effective status -----------------


@pytest.mark.parametrize(("step", "status"), list(itertools.product(Step, [None, *ReportStatus])))
def test_step_allowed_and_check_step(step: Step, status: ReportStatus | None) -> None:
    allowed = ALLOWED_FROM[step] is status
    assert step_allowed(step, status) is allowed
    if allowed:
        check_step(step, status)
        return
    with pytest.raises(StepRefused) as refused:
        check_step(step, status)
    assert (refused.value.step, refused.value.status) == (step, status)
    state = "there is no open report" if status is None else f"the report is {status.value}"
    assert str(refused.value).startswith(f"{state}: cannot ")


def test_only_a_provisional_report_can_be_lifted() -> None:
    assert [s for s in ReportStatus if cards.can_lift(s)] == [ReportStatus.PROVISIONAL]


def test_refusal_messages_name_the_step() -> None:
    assert str(StepRefused(Step.FORMALISE, ReportStatus.LAPSED)) == (
        "the report is lapsed: cannot formalise it"
    )
    assert str(StepRefused(Step.LIFT, None)) == "there is no open report: cannot lift it"
    assert str(StepRefused(Step.CARD_MADE, ReportStatus.PROVISIONAL)) == (
        "the report is provisional: cannot mark its new card made"
    )


def test_open_statuses_are_those_a_step_can_leave() -> None:
    assert set(OPEN_STATUSES) == {
        ReportStatus.PROVISIONAL,
        ReportStatus.NEEDS_VERIFICATION,
        ReportStatus.FORMAL,
        ReportStatus.CARD_MADE,
    }


def test_a_table_with_an_unreachable_status_is_caught() -> None:
    assert cards._unreached(cards.STEPS) == set()
    without_lapse = {step: rule for step, rule in cards.STEPS.items() if step is not Step.LAPSE}
    assert cards._unreached(without_lapse) == {ReportStatus.LAPSED}
