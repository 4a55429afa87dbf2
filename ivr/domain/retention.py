"""How long the hotline keeps what callers leave behind: recordings, the paths of calls, and the
language a calling number chose.

A recording (a voice message, a loss statement) is due for deletion ``recordings`` after it was
made, a call's path (its steps through the menus, with what was keyed) ``call_paths`` after the
call started; ``None`` keeps them for ever. A language choice is forgotten ``language_memory``
after it was last used (``None``: choices are not remembered at all). A recording past its date
is still kept while something needs it (``Hold``): the statement of a loss report that is still
open, a voice message nobody has called back yet. Deletion happens at the daily prune, at
``prune_hour`` Beijing time: ``next_prune`` is the one schedule both the job and the console's
"to be deleted on" go by.

Pure rules, no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ivr.config import Settings
from ivr.domain.clock import BEIJING, local

__all__ = ["Fate", "Hold", "RetentionPolicy"]


class Hold(enum.StrEnum):
    """Why a recording past its retention date is kept."""

    OPEN_CASE = "open_case"  # the statement of a loss report still open
    AWAITING_CALLBACK = "awaiting_callback"  # a voice message not handled yet


@dataclass(frozen=True)
class Fate:
    """What becomes of one recording or call path, as the console tells it."""

    deleted_at: datetime | None = None  # deleted already
    due_at: datetime | None = None  # its retention ends (None: kept for ever)
    held: Hold | None = None  # kept past ``due_at`` while this holds
    deletion: datetime | None = None  # the prune that will delete it (None: not known yet)


@dataclass(frozen=True)
class RetentionPolicy:
    recordings: timedelta | None
    call_paths: timedelta | None
    prune_hour: int = 3
    language_memory: timedelta | None = None  # None: no language choice is remembered

    def __post_init__(self) -> None:
        if not 0 <= self.prune_hour < 24:
            raise ValueError(f"prune_hour must be 0-23, not {self.prune_hour}")
        for kept in (self.recordings, self.call_paths, self.language_memory):
            if kept is not None and kept <= timedelta(0):
                raise ValueError("a retention period must be positive (or None)")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        """Days from the settings; 0 keeps for ever, or remembers no language (negative days
        are refused)."""
        for name in ("recording_retention_days", "call_path_retention_days"):
            if getattr(settings, name) < 0:
                raise ValueError(f"{name} must be 0 (for ever) or more days")
        if settings.language_memory_days < 0:
            raise ValueError("language_memory_days must be 0 (not remembered) or more days")
        return cls(
            recordings=_days(settings.recording_retention_days),
            call_paths=_days(settings.call_path_retention_days),
            prune_hour=settings.prune_hour,
            language_memory=_days(settings.language_memory_days),
        )

    @property
    def remembers_languages(self) -> bool:
        return self.language_memory is not None

    def languages_used_before(self, now: datetime) -> datetime:
        """Language choices last used before this moment are forgotten (every one, when none
        is to be remembered)."""
        return now if self.language_memory is None else now - self.language_memory

    def recordings_made_before(self, now: datetime) -> datetime | None:
        """Recordings made before this moment are due (None: none ever is)."""
        return None if self.recordings is None else now - self.recordings

    def calls_started_before(self, now: datetime) -> datetime | None:
        """Calls started before this moment have their path due (None: none ever has)."""
        return None if self.call_paths is None else now - self.call_paths

    def next_prune(self, after: datetime) -> datetime:
        """The first daily prune strictly after ``after`` (Beijing time: no daylight saving)."""
        moment = local(after)
        at = datetime.combine(moment.date(), time(self.prune_hour), BEIJING)
        return at if at > moment else at + timedelta(days=1)

    def recording_fate(
        self,
        made_at: datetime,
        *,
        held: Hold | None,
        deleted_at: datetime | None,
        now: datetime,
    ) -> Fate:
        return self._fate(made_at, self.recordings, held=held, deleted_at=deleted_at, now=now)

    def path_fate(
        self, started_at: datetime, *, deleted_at: datetime | None, now: datetime
    ) -> Fate:
        return self._fate(started_at, self.call_paths, held=None, deleted_at=deleted_at, now=now)

    def _fate(
        self,
        since: datetime,
        kept: timedelta | None,
        *,
        held: Hold | None,
        deleted_at: datetime | None,
        now: datetime,
    ) -> Fate:
        if deleted_at is not None:
            return Fate(deleted_at=deleted_at)
        if kept is None:
            return Fate()
        due_at = since + kept
        # A prune deletes what was due when it runs: the first one after the due moment (or
        # the next one, for what is overdue: a hold just released, a server that was down).
        deletion = None if held is not None else self.next_prune(max(due_at, now))
        return Fate(due_at=due_at, held=held, deletion=deletion)


def _days(days: int) -> timedelta | None:
    return timedelta(days=days) if days > 0 else None
