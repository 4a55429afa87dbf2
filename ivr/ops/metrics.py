"""The node's Prometheus metrics, in a registry of their own (never the library's global one), so
that a process, or a test, can hold several.

The parts that take calls do not know this class: each was given, when the composition root built
it, the smallest callable it needs, and the root passes this object's bound methods:

    metric                                   type       labels            told by (as)
    hotline_calls_total                      counter    hotline, outcome  CallRunner (on_call_ended)
    hotline_agi_command_seconds              histogram  command           AGIChannel (on_command)
    hotline_agi_connections_refused_total    counter                      FastAGIServer (on_refused)
    hotline_password_verifications_total     counter    hotline, result   the password check
    hotline_password_verification_seconds    histogram                    the password check
    hotline_db_operation_seconds             histogram  operation         the database's engine
    hotline_db_errors_total                  counter    operation         the database's engine

What already has a reader is read when Prometheus scrapes, never pushed a second time: the calls
in progress and the AMI link come from the live board's snapshot (``LiveBoard.current``):

    hotline_calls_in_progress                gauge      hotline
    hotline_ami_connected                    gauge                        1 up, 0 otherwise

Each update is O(1) and takes no lock that a scrape holds for long: a call never waits on it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Generic, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics import MetricWrapperBase

from ivr.domain.hotlines import HOTLINES
from ivr.domain.outcomes import Outcome
from ivr.live.board import LiveSnapshot

__all__ = ["NodeMetrics"]

M = TypeVar("M", bound=MetricWrapperBase)

# The time the node takes to send each AGI command once Asterisk has answered the one before:
# microseconds for most, tens of milliseconds for a password verification or a slow database.
AGI_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# argon2id takes 20-40 ms of CPU by design; a queue of them shows as the upper buckets.
PASSWORD_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class NodeMetrics:
    """``commands`` and ``operations`` are every name the AGI channel and the database observer
    can tell (``ivr.agi.protocol.COMMAND_NAMES``, ``ivr.store.observe.OPERATIONS``); with the
    hotlines, outcomes and results they make every series, bound once here: an update is a dict
    look-up and an increment, no label is allocated per call or per command."""

    def __init__(
        self,
        live: Callable[[], LiveSnapshot],
        *,
        commands: Collection[str],
        operations: Collection[str],
        hotlines: Collection[str] = HOTLINES,
    ) -> None:
        self.registry = CollectorRegistry()
        GCCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        calls = Counter(
            "hotline_calls",
            "Calls ended on this node, by hotline and outcome.",
            ["hotline", "outcome"],
            registry=self.registry,
        )
        # every series from the start, too: a rate over a fresh node is 0, not missing
        self._calls = _Children(calls, [(h, o.value) for h in hotlines for o in Outcome])
        agi_command = Histogram(
            "hotline_agi_command_seconds",
            "Time the node took to send each AGI command after Asterisk's previous reply "
            "(flow, database, password hash), by command.",
            ["command"],
            buckets=AGI_BUCKETS,
            registry=self.registry,
        )
        self._agi_commands = _Children(agi_command, commands)
        self._agi_refused = Counter(
            "hotline_agi_connections_refused",
            "FastAGI connections refused because the node held its most (max_connections); "
            "the dialplan's fallback took those calls.",
            registry=self.registry,
        )
        passwords = Counter(
            "hotline_password_verifications",
            "Query passwords verified (argon2id), by hotline and result (right, wrong).",
            ["hotline", "result"],
            registry=self.registry,
        )
        self._passwords = _Children(
            passwords, [(h, r) for h in hotlines for r in ("right", "wrong")]
        )
        self._password_seconds = Histogram(
            "hotline_password_verification_seconds",
            "Time one query password verification took, its wait for a worker thread included.",
            buckets=PASSWORD_BUCKETS,
            registry=self.registry,
        )
        db_seconds = Histogram(
            "hotline_db_operation_seconds",
            "Time each database operation took: a statement by its first SQL word, or connect.",
            ["operation"],
            buckets=DB_BUCKETS,
            registry=self.registry,
        )
        self._db_seconds = _Children(db_seconds, operations)
        db_errors = Counter(
            "hotline_db_errors",
            "Database operations that failed: a statement by its first SQL word, or connect.",
            ["operation"],
            registry=self.registry,
        )
        self._db_errors = _Children(db_errors, operations)
        self._admission_closed = Gauge(
            "hotline_admission_closed",
            "1 while Asterisk refuses new calls because this node's password checks are queued "
            "(the admission gate's lease), else 0.",
            registry=self.registry,
        )
        self.registry.register(_LiveCollector(live, tuple(hotlines)))

    # -- what the parts are given ----------------------------------------------------------------
    def call_ended(self, hotline: str, outcome: str) -> None:
        self._calls[hotline, outcome].inc()

    def agi_command(self, command: str, seconds: float) -> None:
        self._agi_commands[command].observe(seconds)

    def agi_refused(self) -> None:
        self._agi_refused.inc()

    def password_checked(self, hotline: str, right: bool, seconds: float) -> None:
        self._passwords[hotline, "right" if right else "wrong"].inc()
        self._password_seconds.observe(seconds)

    def db_operation(self, operation: str, seconds: float) -> None:
        self._db_seconds[operation].observe(seconds)

    def db_error(self, operation: str) -> None:
        self._db_errors[operation].inc()

    def admission_closed(self, closed: bool) -> None:
        self._admission_closed.set(1 if closed else 0)

    # -- what Prometheus reads -------------------------------------------------------------------
    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The registry in the format the scraper's ``Accept`` header asks for, and its type."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


class _LiveCollector:
    """Calls in progress and the AMI link, read from the live board at each scrape."""

    def __init__(self, live: Callable[[], LiveSnapshot], hotlines: tuple[str, ...]) -> None:
        self._live = live
        self._hotlines = hotlines

    def describe(self) -> Iterator[Metric]:
        """The names (no samples): the registry refuses a second collector of them."""
        yield _in_progress()
        yield _ami_connected(0)

    def collect(self) -> Iterator[Metric]:
        snapshot = self._live()
        counts = dict.fromkeys(self._hotlines, 0)
        for call in snapshot.in_progress:  # a call being refused is none (lines busy)
            counts[call.hotline] = counts.get(call.hotline, 0) + 1
        in_progress = _in_progress()
        for hotline, count in counts.items():
            in_progress.add_metric([hotline], count)
        yield in_progress
        yield _ami_connected(1 if snapshot.telephony is not None and snapshot.telephony.up else 0)


class _Children(Generic[M]):
    """A metric's children by label value (or values), bound once. A value outside the set given
    at construction (a hotline added without a restart) is bound on first use, then kept."""

    def __init__(self, metric: M, keys: Iterable[str | tuple[str, str]]) -> None:
        self._metric = metric
        self._children: dict[str | tuple[str, str], M] = {key: self._bind(key) for key in keys}

    def __getitem__(self, key: str | tuple[str, str]) -> M:
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._bind(key)
        return child

    def _bind(self, key: str | tuple[str, str]) -> M:
        labels = key if isinstance(key, tuple) else (key,)
        return self._metric.labels(*labels)


def _in_progress() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "hotline_calls_in_progress",
        "Calls on this node now (in the flow, or Asterisk's channel of it), by hotline.",
        labels=["hotline"],
    )


def _ami_connected(value: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "hotline_ami_connected",
        "1 while this node's AMI link to Asterisk is up; 0 when down, not yet connected, "
        "or the node runs without the AMI bridge.",
        value=value,
    )
