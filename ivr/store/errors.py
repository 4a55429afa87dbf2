"""The store's business errors: expected outcomes a flow turns into a prompt, not crashes."""

from __future__ import annotations

from ivr.domain.cards import CardStatus, ReportStatus

__all__ = ["CardNotReportable", "NotFound", "ReportNotLiftable", "ReportStateError", "StoreError"]


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

    def __init__(self, current_status: CardStatus) -> None:
        super().__init__(f"card cannot be reported lost: it is {current_status.value}")
        self.current_status = current_status


class ReportStateError(StoreError):
    """The loss report is not in a state that allows the requested step."""

    def __init__(self, status: ReportStatus | None, action: str = "change") -> None:
        state = status.value if status is not None else "missing"
        super().__init__(f"cannot {action} a report that is {state}")
        self.status = status
        self.action = action


class ReportNotLiftable(ReportStateError):
    """Only a provisional report not yet lapsed can be lifted (None: no open report)."""

    def __init__(self, status: ReportStatus | None) -> None:
        super().__init__(status, "lift")
