"""The retention rule: when a recording or a call's path is due, and the prune that deletes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ivr.config import Settings
from ivr.domain.clock import BEIJING
from ivr.domain.retention import Fate, Hold, RetentionPolicy

POLICY = RetentionPolicy(
    recordings=timedelta(days=180),
    call_paths=timedelta(days=730),
    prune_hour=3,
    language_memory=timedelta(days=365),
)
MADE = datetime(2025, 3, 3, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
NOW = datetime(2025, 4, 1, 2, 0, tzinfo=UTC)


def test_the_next_prune_is_at_the_hour_in_beijing_strictly_after() -> None:
    # 18:59 UTC is 02:59 the next day in Beijing: the prune is a minute later, that day.
    assert POLICY.next_prune(datetime(2025, 3, 3, 18, 59, tzinfo=UTC)) == datetime(
        2025, 3, 4, 3, 0, tzinfo=BEIJING
    )
    at = datetime(2025, 3, 4, 3, 0, tzinfo=BEIJING)
    assert POLICY.next_prune(at) == at + timedelta(days=1)  # the one just run is not next
    assert POLICY.next_prune(datetime(2025, 3, 4, 12, 0, tzinfo=BEIJING)) == at + timedelta(days=1)


def test_a_recording_is_deleted_at_the_first_prune_after_its_retention() -> None:
    fate = POLICY.recording_fate(MADE, held=None, deleted_at=None, now=NOW)
    due = MADE + timedelta(days=180)  # 2025-08-30 09:30 in Beijing
    assert fate == Fate(due_at=due, deletion=datetime(2025, 8, 31, 3, 0, tzinfo=BEIJING))


def test_an_overdue_recording_goes_at_the_next_prune() -> None:
    """A hold just released, or a server that was down: the next prune, not a date passed."""
    late = MADE + timedelta(days=400)
    fate = POLICY.recording_fate(MADE, held=None, deleted_at=None, now=late)
    assert fate.deletion == POLICY.next_prune(late) and fate.deletion > late


def test_a_held_recording_has_no_deletion_date() -> None:
    fate = POLICY.recording_fate(MADE, held=Hold.OPEN_CASE, deleted_at=None, now=NOW)
    assert fate == Fate(due_at=MADE + timedelta(days=180), held=Hold.OPEN_CASE)


def test_a_deleted_recording_tells_when() -> None:
    gone = datetime(2025, 9, 1, tzinfo=UTC)
    assert POLICY.recording_fate(MADE, held=None, deleted_at=gone, now=NOW) == Fate(deleted_at=gone)


def test_a_call_path_is_kept_two_years() -> None:
    fate = POLICY.path_fate(MADE, deleted_at=None, now=NOW)
    assert fate.due_at == MADE + timedelta(days=730)
    assert fate.deletion == POLICY.next_prune(MADE + timedelta(days=730))


def test_no_limit_keeps_for_ever() -> None:
    forever = RetentionPolicy(recordings=None, call_paths=None)
    assert forever.recordings_made_before(NOW) is None
    assert forever.calls_started_before(NOW) is None
    assert forever.recording_fate(MADE, held=None, deleted_at=None, now=NOW) == Fate()


def test_the_policy_comes_from_the_settings(tmp_path: Path) -> None:
    settings = Settings.load(
        env={
            "HOTLINE_RECORDING_RETENTION_DAYS": "30",
            "HOTLINE_CALL_PATH_RETENTION_DAYS": "0",
            "HOTLINE_PRUNE_HOUR": "4",
            "HOTLINE_LANGUAGE_MEMORY_DAYS": "0",
        },
        data_dir=tmp_path,
    )
    policy = RetentionPolicy.from_settings(settings)
    assert policy == RetentionPolicy(recordings=timedelta(days=30), call_paths=None, prune_hour=4)
    assert not policy.remembers_languages and policy.languages_used_before(NOW) == NOW
    defaults = RetentionPolicy.from_settings(Settings.load(env={}, data_dir=tmp_path))
    assert defaults == POLICY  # 180 days, 2 years, 03:00, languages a year
    assert defaults.languages_used_before(NOW) == NOW - timedelta(days=365)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOTLINE_RECORDING_RETENTION_DAYS", "-1"),
        ("HOTLINE_PRUNE_HOUR", "24"),
        ("HOTLINE_LANGUAGE_MEMORY_DAYS", "-1"),
    ],
)
def test_a_bad_setting_is_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ValueError, match=r"retention_days|prune_hour|language_memory_days"):
        RetentionPolicy.from_settings(Settings.load(env={name: value}, data_dir=tmp_path))


def test_the_shortest_settings_are_a_day_and_midnight(tmp_path: Path) -> None:
    env = {
        "HOTLINE_RECORDING_RETENTION_DAYS": "1",
        "HOTLINE_CALL_PATH_RETENTION_DAYS": "1",
        "HOTLINE_PRUNE_HOUR": "0",
    }
    policy = RetentionPolicy.from_settings(Settings.load(env=env, data_dir=tmp_path))
    day = timedelta(days=1)
    assert (policy.recordings, policy.call_paths, policy.prune_hour) == (day, day, 0)
    assert policy.recordings_made_before(NOW) == NOW - timedelta(days=1)
    assert policy.calls_started_before(NOW) == NOW - timedelta(days=1)
    assert policy.next_prune(NOW) == datetime(2025, 4, 2, 0, 0, tzinfo=BEIJING)
    assert RetentionPolicy(timedelta(seconds=1), None, prune_hour=23).prune_hour == 23


@pytest.mark.parametrize(
    ("kept", "prune_hour", "refusal"),
    [
        (timedelta(0), 3, "a retention period must be positive (or None)"),
        (-timedelta(days=1), 3, "a retention period must be positive (or None)"),
        (None, -1, "prune_hour must be 0-23, not -1"),
        (None, 24, "prune_hour must be 0-23, not 24"),
    ],
)
def test_a_policy_that_cannot_be_is_refused_with_the_reason(
    kept: timedelta | None, prune_hour: int, refusal: str
) -> None:
    with pytest.raises(ValueError) as refused:
        RetentionPolicy(recordings=None, call_paths=kept, prune_hour=prune_hour)
    assert str(refused.value) == refusal


def test_a_deleted_call_path_tells_when() -> None:
    gone = datetime(2027, 4, 1, tzinfo=UTC)
    assert POLICY.path_fate(MADE, deleted_at=gone, now=NOW) == Fate(deleted_at=gone)


def test_a_negative_language_memory_is_refused_in_words(tmp_path: Path) -> None:
    settings = Settings.load(env={"HOTLINE_LANGUAGE_MEMORY_DAYS": "-1"}, data_dir=tmp_path)
    with pytest.raises(ValueError) as refused:
        RetentionPolicy.from_settings(settings)
    assert str(refused.value) == "language_memory_days must be 0 (not remembered) or more days"
