"""Social-security cards and loss reports: statuses, the report's lifecycle, masking, dates.

A provisional report (by phone) stops settlement at once and lapses by itself after a number of
calendar days unless the caller lifts it (card found) first; a formal report at a service point
cannot be undone and starts the re-issue, ready after a number of working days.

The lifecycle is the table ``STEPS``: the status each step is allowed from, the status it leads
to and what it does to the card. One function per step checks a report against the table and
returns a ``Decision`` (or raises ``StepRefused`` saying why not); the store only persists it::

    (new) --REPORT--> PROVISIONAL --LIFT--> LIFTED
    (new) --REPORT_UNVERIFIED--> NEEDS_VERIFICATION --VERIFY--> PROVISIONAL
    PROVISIONAL --LAPSE--> LAPSED   (by itself on the lapse date: see ``effective_status``)
    PROVISIONAL --FORMALISE--> FORMAL --CARD_MADE--> CARD_MADE --PICKED_UP--> PICKED_UP

Pure rules, no I/O. Dates are taken from ``now`` in its own time zone (Beijing dates).
"""

from __future__ import annotations

import enum
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

from ivr.domain.workdays import WorkCalendar

__all__ = [
    "DEFAULT_LAPSE_DAYS",
    "DEFAULT_REISSUE_WORKING_DAYS",
    "OPEN_STATUSES",
    "STEPS",
    "CardEffect",
    "CardNotInUse",
    "CardState",
    "CardStatus",
    "Decision",
    "ReportState",
    "ReportStatus",
    "Settlement",
    "Step",
    "StepRefused",
    "StepRule",
    "can_lift",
    "card_as_of",
    "card_tail",
    "check_step",
    "effective_status",
    "formalise",
    "lapse",
    "lapse_date",
    "lapse_due",
    "lift",
    "mark_card_made",
    "mark_picked_up",
    "mask_card",
    "new_reference",
    "pickup_date",
    "report_by_phone",
    "report_by_statement",
    "report_open",
    "step_allowed",
    "verify",
]

DEFAULT_LAPSE_DAYS = 10
DEFAULT_REISSUE_WORKING_DAYS = 15


# StrEnum (a str subclass like ``str, Enum``): values go to the database and templates as they are.
class CardStatus(enum.StrEnum):
    NORMAL = "normal"
    PROVISIONALLY_LOST = "provisionally_lost"
    FORMALLY_LOST = "formally_lost"  # re-issue under way
    READY_FOR_PICKUP = "ready_for_pickup"


class ReportStatus(enum.StrEnum):
    PROVISIONAL = "provisional"
    NEEDS_VERIFICATION = "needs_verification"
    LIFTED = "lifted"
    LAPSED = "lapsed"
    FORMAL = "formal"
    CARD_MADE = "card_made"
    PICKED_UP = "picked_up"


class Step(enum.StrEnum):
    """What can happen to a loss report: the caller's steps by phone, the staff's at the counter."""

    REPORT = "report"  # by phone, identity proven by the password: provisional at once
    REPORT_UNVERIFIED = "report_unverified"  # a recorded statement: staff verify it first
    VERIFY = "verify"
    LIFT = "lift"
    LAPSE = "lapse"
    FORMALISE = "formalise"
    CARD_MADE = "card_made"
    PICKED_UP = "picked_up"


class Settlement(enum.Enum):
    """Settlement with the card (paying at hospitals and pharmacies) after a step."""

    STOPPED = "stopped"  # since the first step that stopped it: the report, not the formal one
    RESUMED = "resumed"


@dataclass(frozen=True)
class CardEffect:
    status: CardStatus
    settlement: Settlement
    in_use: bool = True  # False: replaced by a new card


@dataclass(frozen=True)
class StepRule:
    doing: str  # for refusals: "cannot <doing>"
    allowed_from: ReportStatus | None  # the report's status the step needs; None: opens a report
    to: ReportStatus
    card: CardEffect | None = None  # what the step does to the reported card (None: nothing)
    card_from: CardStatus | None = None  # the card status the step needs, if it checks the card


_STOPPED = Settlement.STOPPED
_RESUMED = Settlement.RESUMED

STEPS: Final[Mapping[Step, StepRule]] = MappingProxyType(
    {
        Step.REPORT: StepRule(
            "report the card lost",
            None,
            ReportStatus.PROVISIONAL,
            card=CardEffect(CardStatus.PROVISIONALLY_LOST, _STOPPED),
            card_from=CardStatus.NORMAL,
        ),
        Step.REPORT_UNVERIFIED: StepRule("take a statement", None, ReportStatus.NEEDS_VERIFICATION),
        Step.VERIFY: StepRule(
            "verify it against the card",
            ReportStatus.NEEDS_VERIFICATION,
            ReportStatus.PROVISIONAL,
            card=CardEffect(CardStatus.PROVISIONALLY_LOST, _STOPPED),
            card_from=CardStatus.NORMAL,
        ),
        Step.LIFT: StepRule(
            "lift it",
            ReportStatus.PROVISIONAL,
            ReportStatus.LIFTED,
            card=CardEffect(CardStatus.NORMAL, _RESUMED),
        ),
        Step.LAPSE: StepRule(
            "record its lapse",
            ReportStatus.PROVISIONAL,
            ReportStatus.LAPSED,
            card=CardEffect(CardStatus.NORMAL, _RESUMED),
        ),
        Step.FORMALISE: StepRule(
            "formalise it",
            ReportStatus.PROVISIONAL,
            ReportStatus.FORMAL,
            card=CardEffect(CardStatus.FORMALLY_LOST, _STOPPED),
        ),
        Step.CARD_MADE: StepRule(
            "mark its new card made",
            ReportStatus.FORMAL,
            ReportStatus.CARD_MADE,
            card=CardEffect(CardStatus.READY_FOR_PICKUP, _STOPPED),
        ),
        Step.PICKED_UP: StepRule(
            "mark its new card picked up",
            ReportStatus.CARD_MADE,
            ReportStatus.PICKED_UP,
            card=CardEffect(CardStatus.FORMALLY_LOST, _STOPPED, in_use=False),
        ),
    }
)


def _unreached(steps: Mapping[Step, StepRule]) -> set[ReportStatus]:
    return set(ReportStatus) - {rule.to for rule in steps.values()}


if _unreached(STEPS):  # a bad table fails at import, not during a call
    raise ValueError(f"no step leads to {sorted(_unreached(STEPS))}")

# A report is open while a step can still be taken on it; lifted, lapsed, picked up: closed.
OPEN_STATUSES: Final[tuple[ReportStatus, ...]] = tuple(
    status for status in ReportStatus if any(r.allowed_from is status for r in STEPS.values())
)


@dataclass(frozen=True)
class ReportState:
    """What the rules need of a stored report."""

    status: ReportStatus
    lapses_on: date | None


@dataclass(frozen=True)
class CardState:
    """What the rules need of a stored card."""

    status: CardStatus
    settlement_stopped_at: datetime | None
    in_use: bool = True  # False once replaced by a new card


_REPLACEMENT = CardState(CardStatus.NORMAL, None)  # a new card starts in normal use


@dataclass(frozen=True)
class Decision:
    """What a step does: the store writes exactly this (and the time it took it)."""

    step: Step
    status: ReportStatus  # the report's status after the step
    note: str  # the line in the report's history
    card: CardState | None = None  # the reported card after the step (None: untouched)
    new_card: CardState | None = None  # the card that replaces it (picked up)
    lapses_on: date | None = None  # set when a provisional report starts
    pickup_on: date | None = None  # set by the formal report

    @property
    def verified(self) -> bool:
        """Only a report by recorded statement waits for staff to verify it."""
        return self.status is not ReportStatus.NEEDS_VERIFICATION


class StepRefused(Exception):
    """The step cannot be taken on the report as it stands; the message says why."""

    def __init__(self, step: Step, status: ReportStatus | None, reason: str | None = None) -> None:
        if reason is None:
            reason = "there is no open report" if status is None else f"the report is {status}"
        super().__init__(f"{reason}: cannot {STEPS[step].doing}")
        self.step = step
        self.status = status  # the report's effective status; None: no report


class CardNotInUse(StepRefused):
    """A step that stops the card needs it in normal use: not lost already, not replaced."""

    def __init__(self, step: Step, status: ReportStatus | None, card: CardState) -> None:
        reason = f"the card is {card.status}" if card.in_use else "the card has been replaced"
        super().__init__(step, status, reason)
        self.card_status = card.status


# -- dates and the lapse ---------------------------------------------------------------------


def lapse_date(reported_on: date, days: int = DEFAULT_LAPSE_DAYS) -> date:
    """The first day on which a provisional report no longer holds (calendar days)."""
    return reported_on + timedelta(days=days)


def pickup_date(
    formal_on: date, calendar: WorkCalendar, working_days: int = DEFAULT_REISSUE_WORKING_DAYS
) -> date:
    """When the new card is ready: ``working_days`` Chinese working days after the formal report."""
    return calendar.add_working_days(formal_on, working_days)


def effective_status(status: ReportStatus, lapses_on: date | None, today: date) -> ReportStatus:
    """The status as of ``today``: a provisional report lapses by itself on its lapse date.

    The one statement of the lapse. It is computed, not written by a job, so every read and every
    write sees it on the day, whether or not a lapse was written down yet.
    """
    lapsing = STEPS[Step.LAPSE]
    if status is lapsing.allowed_from and lapses_on is not None and today >= lapses_on:
        return lapsing.to
    return status


def report_open(status: ReportStatus, lapses_on: date | None, today: date) -> bool:
    """True while a step can still be taken on the report as of ``today`` (a lapse closes it)."""
    return effective_status(status, lapses_on, today) in OPEN_STATUSES


def lapse_due(report: ReportState, today: date) -> bool:
    """True when the report has lapsed but is still stored as provisional (``lapse`` writes it)."""
    return effective_status(report.status, report.lapses_on, today) is not report.status


def card_as_of(card: CardState, open_report: ReportState | None, today: date) -> CardState:
    """The card as it stands on ``today``: a lapsed report frees it before the lapse is written."""
    if open_report is None or not lapse_due(open_report, today):
        return card
    return lapse(open_report, card, today=today).card or card


# -- the steps -------------------------------------------------------------------------------


def step_allowed(step: Step, status: ReportStatus | None) -> bool:
    """Whether ``step`` can be taken on a report whose effective status is ``status``.

    ``None``: no report yet (the steps that open one). ``LAPSE`` also needs the lapse date reached.
    """
    return STEPS[step].allowed_from is status


def check_step(step: Step, status: ReportStatus | None) -> None:
    """``StepRefused`` unless ``step_allowed``; for a screen that offers or refuses a step."""
    if not step_allowed(step, status):
        raise StepRefused(step, status)


def can_lift(status: ReportStatus) -> bool:
    """Only a provisional report can be lifted; a formal one starts a re-issue that cannot stop."""
    return step_allowed(Step.LIFT, status)


def report_by_phone(
    card: CardState, *, now: datetime, lapse_days: int = DEFAULT_LAPSE_DAYS
) -> Decision:
    """The caller reports the card lost: it stops at once, the report lapses in ``lapse_days``."""
    return _decide(
        Step.REPORT,
        None,
        card,
        now=now,
        today=now.date(),
        note="provisional report by phone",
        lapses_on=lapse_date(now.date(), lapse_days),
    )


def report_by_statement() -> Decision:
    """A caller without the password leaves a statement; nothing stops until staff verify it."""
    return Decision(
        Step.REPORT_UNVERIFIED,
        STEPS[Step.REPORT_UNVERIFIED].to,
        "statement recorded, needs verification",
    )


def verify(
    report: ReportState,
    card: CardState,
    *,
    same_person: bool,
    now: datetime,
    lapse_days: int = DEFAULT_LAPSE_DAYS,
) -> Decision:
    """Staff match a statement to a card of the same person: a provisional report from now."""
    _check_report(Step.VERIFY, report, now.date())
    if not same_person:
        raise StepRefused(Step.VERIFY, report.status, "the card is another person's")
    return _decide(
        Step.VERIFY,
        report,
        card,
        now=now,
        today=now.date(),
        note="verified",
        lapses_on=lapse_date(now.date(), lapse_days),
    )


def lift(report: ReportState, card: CardState | None, *, now: datetime, by_phone: bool) -> Decision:
    """The card was found before the formal report: back to normal use."""
    note = "lifted by phone" if by_phone else "lifted at the counter"
    return _decide(Step.LIFT, report, card, now=now, today=now.date(), note=note)


def lapse(report: ReportState, card: CardState | None, *, today: date) -> Decision:
    """Write down a lapse that is due (``lapse_due``): the card is back in normal use."""
    # No time of day: a lapse happens on its date, and resuming settlement needs no stop time.
    return _decide(
        Step.LAPSE, report, card, now=None, today=today, note="provisional report lapsed"
    )


def formalise(
    report: ReportState,
    card: CardState | None,
    *,
    now: datetime,
    calendar: WorkCalendar,
    working_days: int = DEFAULT_REISSUE_WORKING_DAYS,
) -> Decision:
    """The formal report at a service point: the card is dead and a new one is made."""
    pickup_on = pickup_date(now.date(), calendar, working_days)
    return _decide(
        Step.FORMALISE,
        report,
        card,
        now=now,
        today=now.date(),
        note=f"pick-up on {pickup_on.isoformat()}",
        pickup_on=pickup_on,
    )


def mark_card_made(report: ReportState, card: CardState | None, *, now: datetime) -> Decision:
    return _decide(
        Step.CARD_MADE, report, card, now=now, today=now.date(), note="new card ready for pick-up"
    )


def mark_picked_up(report: ReportState, card: CardState | None, *, now: datetime) -> Decision:
    """The new card (a new number, in normal use) replaces the lost one."""
    return _decide(
        Step.PICKED_UP, report, card, now=now, today=now.date(), note="new card picked up"
    )


def _check_report(step: Step, report: ReportState | None, today: date) -> None:
    rule = STEPS[step]
    if report is None:
        raise StepRefused(step, None)
    status = effective_status(report.status, report.lapses_on, today)
    # LAPSE writes down what every read already sees: it is taken on a report past its date,
    # which every other step refuses as lapsed.
    seen_as = STEPS[Step.LAPSE].to if step is Step.LAPSE else rule.allowed_from
    if report.status is not rule.allowed_from or status is not seen_as:
        raise StepRefused(step, status)


def _decide(
    step: Step,
    report: ReportState | None,
    card: CardState | None,
    *,
    now: datetime | None,
    today: date,
    note: str,
    lapses_on: date | None = None,
    pickup_on: date | None = None,
) -> Decision:
    rule = STEPS[step]
    if rule.allowed_from is not None:
        _check_report(step, report, today)
    status = None if report is None else report.status
    after: CardState | None = None
    if rule.card is not None:
        if card is None:
            raise StepRefused(step, status, "the report has no card")
        if rule.card_from is not None and (not card.in_use or card.status is not rule.card_from):
            raise CardNotInUse(step, status, card)
        after = _card_after(rule.card, card, now)
    replaced = rule.card is not None and not rule.card.in_use
    return Decision(
        step,
        rule.to,
        note,
        card=after,
        new_card=_REPLACEMENT if replaced else None,
        lapses_on=lapses_on,
        pickup_on=pickup_on,
    )


def _card_after(effect: CardEffect, card: CardState, now: datetime | None) -> CardState:
    """``now`` starts a stop on a card not stopped yet (None only for the lapse, which resumes)."""
    stopped = None if effect.settlement is Settlement.RESUMED else card.settlement_stopped_at or now
    return CardState(effect.status, stopped, in_use=effect.in_use)


# -- card numbers and references -------------------------------------------------------------


def mask_card(number: str) -> str:
    """All but the last 4 characters starred ("*****5678"); never raises, as it serves the logs."""
    number = number.strip()
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def card_tail(number: str) -> str:
    """The last 4 characters, the part read back to the caller."""
    number = number.strip().upper()
    if len(number) < 4:
        raise ValueError("a card number has more than 4 characters")
    return number[-4:]


def new_reference(now: datetime, rng: random.Random | None = None) -> str:
    """A 12-digit reference, YYMMDD + 6 random digits (digits only: it is read back one by one)."""
    rng = rng or secrets.SystemRandom()
    return f"{now:%y%m%d}{rng.randrange(1_000_000):06d}"
