"""The store's business errors: expected outcomes a flow turns into a prompt, not crashes.

The loss-report rules are the domain's (``ivr.domain.cards``); when it refuses a step, the store
raises the refusal as one of these, which the flows and the console catch, with the domain's
message and the refusal as its cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ivr.domain.cards import CardNotInUse, Step, StepRefused

__all__ = [
    "CardNotReportable",
    "NotFound",
    "ReportNotLiftable",
    "ReportStateError",
    "StoreError",
    "refusals_as_store_errors",
]


class StoreError(Exception):
    """Base of the store's business errors."""


class NotFound(StoreError, LookupError):
    """No row for the given key (citizen, card, call, report reference)."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"no {what} {key!r}")
        self.what = what
        self.key = key


class CardNotReportable(StoreError):
    """A provisional loss report needs a card in normal use; this one is not."""

    def __init__(self, refused: CardNotInUse) -> None:
        super().__init__(str(refused))
        self.current_status = refused.card_status


class ReportStateError(StoreError):
    """The loss report is not in a state that allows the requested step."""

    def __init__(self, refused: StepRefused) -> None:
        super().__init__(str(refused))
        self.step = refused.step
        self.status = refused.status  # the report's effective status; None: no open report


class ReportNotLiftable(ReportStateError):
    """Only a provisional report not yet lapsed can be lifted (``status`` None: no open report)."""


@contextmanager
def refusals_as_store_errors() -> Iterator[None]:
    """Raise a domain refusal inside the block as the store error callers catch."""
    try:
        yield
    except CardNotInUse as refused:
        raise CardNotReportable(refused) from refused
    except StepRefused as refused:
        if refused.step is Step.LIFT:
            raise ReportNotLiftable(refused) from refused
        raise ReportStateError(refused) from refused
