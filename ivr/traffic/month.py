"""A realistic month of calls for volume tests: callers walking the real flows
(``hotline db seed --calls 1000000``, ``bench/console_volume.py``).

What is modelled, from how the two lines are used:

- volume by local day and hour: 12333 peaks at 9-11 and 14-16 on working days and is quiet at
  night, weekends and official holidays (the Chinese calendar, make-up working days included);
  96102, the 24-hour card line, is flatter with an evening shoulder; 12333 takes three calls in
  four;
- callers: mobile and landline numbers, some calling again and again; Mandarin mostly, English
  (key 7) and Spanish (key 8) rarely; the identified caller of a call is one of ``people``;
- paths: each call walks the flow definitions node by node (``ivr.flows.FLOWS``) with weighted
  keys per menu, wrong and missing entries with the nodes' own retries, action results in
  plausible shares, hang-ups while waiting (more once served), and rare faults (interrupted,
  error); steps are recorded as the engine records them (``flow:node``, kind, key, detail;
  secrets as ``***``, ID numbers masked);
- durations: prompts, typing and recordings take the time they take; Asterisk's duration (when
  the AMI bridge saw the hang-up) includes the time with an agent after a transfer.

Everything is drawn from ``random.Random`` seeded from ``seed`` and the day, so the same seed and
days give the same calls (a day's calls do not depend on the other days).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ivr.domain.clock import BEIJING
from ivr.domain.hotlines import CARD_LINE, HOTLINES, LABOUR_LINE
from ivr.domain.idnumber import ResidentId, check_character, id_hash
from ivr.domain.outcomes import Outcome
from ivr.domain.workdays import WorkCalendar
from ivr.engine.model import ALL_KEYS, Action, Collect, End, Flow, Menu, Prompts, Record, Say, Sub
from ivr.flows import FLOWS
from ivr.store.bulk import NewCall, add_calls
from ivr.store.database import Database
from ivr.store.views import StepRecord

__all__ = ["Identity", "Traffic", "identities", "random_ids", "write_traffic"]

# Relative volume by local hour, 0-23 (a working day).
# fmt: off
HOURLY: Mapping[str, Sequence[float]] = {
    LABOUR_LINE: (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4.5, 8.5, 9, 7.5,
                  4.5, 5.5, 8, 8.5, 7, 4.5, 2.5, 2, 1.8, 1.3, 0.8, 0.4),
    CARD_LINE: (0.6, 0.4, 0.3, 0.3, 0.3, 0.4, 0.8, 1.8, 3.5, 5, 5.5, 5,
                4, 4.5, 5, 5, 4.5, 4, 3.8, 4, 3.5, 2.5, 1.6, 1),
}
# fmt: on
SHARE: Mapping[str, float] = {LABOUR_LINE: 0.75, CARD_LINE: 0.25}
DAY_OFF: Mapping[str, float] = {LABOUR_LINE: 0.35, CARD_LINE: 0.75}  # of a working day's volume

# Keys per menu ("" is silence where the menu has a default); menus not listed: even shares.
MENU_KEYS: Mapping[str, Mapping[str, float]] = {
    f"{LABOUR_LINE}:main": {"1": 42, "2": 9, "3": 18, "4": 5, "0": 23, "7": 2, "8": 1},
    f"{LABOUR_LINE}:query_menu": {"1": 40, "2": 30, "3": 15, "4": 3, "*": 5, "0": 7},
    f"{LABOUR_LINE}:policy": {"1": 25, "2": 30, "3": 20, "4": 15, "*": 6, "0": 4},
    f"{LABOUR_LINE}:offer_agent": {"0": 65, "": 35},
    "card_services:menu": {"1": 35, "2": 30, "3": 5, "4": 20, "0": 8, "*": 2},
    "card_services:loss_confirm": {"1": 92, "2": 8},
    "card_services:after_report": {"1": 25, "2": 10, "*": 60, "0": 5},
    "card_services:unverified_offer": {"1": 70, "": 30},
    "card_services:lift_confirm": {"1": 90, "2": 10},
    "card_services:offer_agent": {"0": 65, "": 35},
    "lost_card_info:menu": {"1": 30, "2": 30, "3": 15, "4": 10, "*": 12, "0": 3},
}
# Action results in plausible shares; not listed: the first result the node knows.
# fmt: off
RESULTS: Mapping[str, Mapping[str, float]] = {
    "medical_account": {"ok": 90, "no_credit": 10},
    "contribution_record": {"ok": 95, "none": 5},
    "save_voice_message": {"ok": 92, "empty": 8},
    "card_for_loss": {"ok": 90, "already": 7, "no_card": 3},
    "report_loss": {"ok": 97, "already": 3},
    "attach_statement": {"ok": 90, "empty": 10},
    "report_unverified": {"ok": 92, "empty": 8},
    "card_status": {"normal": 60, "provisional": 15, "needs_verification": 3, "formal": 10,
                    "ready": 8, "no_card": 4},
    "card_for_lift": {"ok": 60, "not_provisional": 35, "no_card": 5},
    "lift_report": {"ok": 97, "not_provisional": 3},
    "reissue_progress": {"formal": 35, "ready": 20, "provisional": 15, "needs_verification": 3,
                         "none": 22, "no_card": 5},
}
# fmt: on
# Per entry (the variable it is stored as): how often it is wrong, and how often the caller
# takes one of the node's key exits instead (``*``: no password; ``#``: call me back here).
WRONG_ENTRY: Mapping[str, float] = {"id_entry": 0.12, "password": 0.1, "callback": 0.06}
KEY_EXIT: Mapping[str, float] = {"password": 0.12, "callback": 0.45}
LOCKED = 0.004  # an ID entry or password that finds the account locked
SILENCE = 0.04  # no key at all where one is awaited
WRONG_KEY = 0.02  # a key the menu does not offer
HANG_UP = 0.025  # leaves while waiting
HANG_UP_SERVED = 0.5  # leaves at the next menu once served
INTERRUPTED = 0.003  # the line went away (per call)
ERROR = 0.002  # a technical problem (per call)
NO_AMI_DURATION = 0.03  # calls whose hang-up the AMI bridge did not see
MAX_STEPS = 80
_SECRET = "***"


@dataclass(frozen=True)
class Identity:
    """A caller who identifies: the ID number's keyed hash and masked form (never the number)."""

    id_hash: str
    masked: str


def random_ids(seed: int, count: int) -> list[str]:
    """``count`` distinct valid resident ID numbers (GB 11643), the same for the same seed."""
    rng = random.Random(f"ids:{seed}")
    areas = ("110105", "110108", "110102", "420102", "440305", "310104", "330106", "510107")
    numbers: dict[str, None] = {}
    while len(numbers) < count:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(20_000))
        first17 = f"{rng.choice(areas)}{born:%Y%m%d}{rng.randrange(1, 1000):03d}"
        numbers[first17 + check_character(first17)] = None
    return list(numbers)


class Traffic:
    """``calls`` calls over the local days ``first`` to ``last``, in order of their start."""

    def __init__(
        self,
        *,
        calls: int,
        first: date,
        last: date,
        seed: int,
        people: Sequence[Identity],
        calendar: WorkCalendar | None = None,
    ) -> None:
        if calls < 0 or last < first:
            raise ValueError("a number of calls, over one day or more")
        self.seed = seed
        self.people = people
        self.days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        self.numbers = _caller_numbers(seed, max(100, calls // 3))
        weights = {
            (day, line, hour): SHARE[line]
            * HOURLY[line][hour]
            * (1.0 if _working(day, calendar) else DAY_OFF[line])
            for day in self.days
            for line in HOTLINES
            for hour in range(24)
        }
        self.per_hour = _apportion(calls, weights)

    def __len__(self) -> int:
        return sum(self.per_hour.values())

    def day(self, day: date) -> list[NewCall]:
        """The day's calls, in order of their start (blocking CPU work: a worker thread)."""
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        starts: list[tuple[datetime, str]] = []
        for line in HOTLINES:
            for hour in range(24):
                begin = datetime.combine(day, time(hour), BEIJING).astimezone(UTC)
                count = self.per_hour[(day, line, hour)]
                starts += [
                    (begin + timedelta(seconds=rng.uniform(0, 3600)), line) for _ in range(count)
                ]
        starts.sort()
        return [self._call(rng, line, started) for started, line in starts]

    def batches(self, size: int) -> Iterator[list[NewCall]]:
        """All the calls, ``size`` at a time (the last batch may be shorter)."""
        pending: list[NewCall] = []
        for day in self.days:
            pending += self.day(day)
            while len(pending) >= size:
                yield pending[:size]
                pending = pending[size:]
        if pending:
            yield pending

    def _call(self, rng: random.Random, line: str, started: datetime) -> NewCall:
        walk = _Walk(rng, started, self.people)
        walk.run(FLOWS[line])
        ended = walk.at + timedelta(seconds=rng.uniform(0.2, 1.5))
        duration: int | None = None
        if rng.random() >= NO_AMI_DURATION:
            talk = rng.uniform(60, 600) if walk.then == "agent" else 0.0
            duration = int((ended - started).total_seconds() + talk) + 1
        number = self.numbers[int(len(self.numbers) * rng.random() ** 2.5)]
        unique = f"{started.timestamp():.6f}"
        return NewCall(
            hotline=line,
            caller_id=number,
            uniqueid=unique,
            channel=f"PJSIP/trunk-{rng.randrange(16**8):08x}",
            language=walk.language,
            started_at=started,
            ended_at=ended,
            outcome=walk.outcome,
            last_node=walk.node,
            next_action=walk.then,
            id_hash=walk.identity.id_hash if walk.identity else None,
            id_masked=walk.identity.masked if walk.identity else None,
            hangup_cause=None if duration is None else 16,
            hangup_cause_text=None if duration is None else "Normal Clearing",
            duration_s=duration,
            billsec=None if duration is None else max(0, duration - 1),
            steps=tuple(walk.steps),
        )


class _HungUp(Exception):
    """The caller left."""


class _Fault(Exception):
    """The line went away, or a technical problem ended the flow."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class _Walk:
    """One caller through the flows, recording steps as the engine does."""

    def __init__(self, rng: random.Random, started: datetime, people: Sequence[Identity]) -> None:
        self.rng = rng
        self.at = started + timedelta(seconds=rng.uniform(0.5, 2.0))
        self.people = people
        self.steps: list[StepRecord] = []
        self.node = ""
        self.served = False
        self.language = "zh"
        self.identity: Identity | None = None
        self.entered: Identity | None = None  # the ID keyed, until the password confirms it
        self.outcome = ""
        self.then: str | None = None
        fate = rng.random()
        self.fault = (
            Outcome.INTERRUPTED
            if fate < INTERRUPTED
            else Outcome.ERROR
            if fate < INTERRUPTED + ERROR
            else None
        )
        self.fault_at = rng.randint(2, 14)

    def run(self, flow: Flow) -> None:
        try:
            end = self._flow(flow)
            self.outcome, self.then = end.outcome, end.then
            if self.outcome == Outcome.FAILED and self.served:  # as the call runtime counts it
                self.outcome = Outcome.SERVED
        except _HungUp:
            self.outcome = Outcome.SERVED if self.served else Outcome.ABANDONED
            self.then = None
            self._log("hangup")
        except _Fault as fault:
            self.outcome = fault.outcome
            self.then = "agent" if fault.outcome == Outcome.ERROR else None
            self._log(fault.outcome.value)

    def _log(self, kind: str, key: str = "", detail: str = "") -> None:
        self.steps.append(StepRecord(len(self.steps) + 1, self.at, self.node, kind, key, detail))

    def _wait(self, low: float, high: float) -> None:
        self.at += timedelta(seconds=self.rng.uniform(low, high))

    def _waiting(self, menu: bool) -> None:
        """Before each answer: the caller may leave, or the line may fail."""
        if self.fault is not None and len(self.steps) >= self.fault_at:
            raise _Fault(self.fault)
        leave = HANG_UP + (HANG_UP_SERVED if menu and self.served else 0.0)
        if len(self.steps) >= MAX_STEPS or self.rng.random() < leave:
            self._wait(1, 6)
            raise _HungUp

    def _flow(self, flow: Flow) -> End:
        name = flow.start
        while True:
            node = flow.nodes[name]
            self.node = f"{flow.name}:{name}"
            if isinstance(node, Menu):
                name = self._menu(node)
            elif isinstance(node, Collect):
                name = self._collect(node)
            elif isinstance(node, Say):
                self._log("say", detail=_describe(node.prompts))
                self._wait(4, 16)
                self.served = self.served or node.serves
                name = node.next
            elif isinstance(node, Record):
                self._wait(4, 8)
                spoken = self.rng.uniform(6, min(90, node.max_seconds))
                self.at += timedelta(seconds=spoken)
                self._log("record", detail=f"{spoken:.1f}s dtmf")
                name = node.next
            elif isinstance(node, Action):
                result = self._result(node)
                self._wait(0.02, 0.4)
                self._log("action", detail=f"{node.run}: {result}")
                name = node.next[result]
            elif isinstance(node, Sub):
                end = self._flow(FLOWS[node.flow])
                self.node = f"{flow.name}:{name}"
                name = node.next[end.outcome]
            else:
                self._log("end", detail=node.outcome)
                if node.prompts:
                    self._wait(2, 6)
                return node

    def _menu(self, node: Menu) -> str:
        keys, weights = _menu_keys(self.node, node)
        no_input = no_match = 0
        while True:
            self._waiting(menu=True)
            self._wait(3, 12)
            draw = self.rng.random()
            if node.default is None and draw < SILENCE:
                self._wait(node.timeout, node.timeout)
                no_input += 1
                self._log("no_input")
                if no_input > node.retries.no_input:
                    return node.on_fail
                continue
            if node.default is None and draw < SILENCE + WRONG_KEY:
                wrong = [k for k in ALL_KEYS if k not in node.options]
                no_match += 1
                self._log("no_match", self.rng.choice(wrong))
                if no_match > node.retries.no_match:
                    return node.on_fail
                continue
            key = keys[bisect.bisect(weights, self.rng.random() * weights[-1])]
            if key in node.options:
                self._log("input", key)
                return node.options[key]
            assert node.default is not None
            self._wait(node.timeout, node.timeout)
            self._log("input", key, "default")
            return node.default

    def _collect(self, node: Collect) -> str:
        wrong, exit_share = WRONG_ENTRY.get(node.store_as, 0.03), KEY_EXIT.get(node.store_as, 0)
        key_exits = [k for k in node.exits if len(k) == 1]
        no_input = no_match = 0
        while True:
            self._waiting(menu=False)
            self._wait(3, 8)
            draw = self.rng.random()
            if draw < SILENCE:
                self._wait(node.first_timeout, node.first_timeout)
                no_input += 1
                self._log("no_input")
                if no_input > node.retries.no_input:
                    return node.on_fail
                continue
            if key_exits and self.rng.random() < exit_share:
                key = self.rng.choice(key_exits)
                self._log("input", key, "exit")
                return node.exits[key]
            self._wait(0.4 * node.max_digits, 0.8 * node.max_digits)
            if "locked" in node.exits and self.rng.random() < LOCKED:
                self._log("input", self._shown(node, valid=True), "locked")
                return node.exits["locked"]
            if self.rng.random() < wrong:
                no_match += 1
                self._log("no_match", self._shown(node, valid=False), node.pattern_error)
                if no_match > node.retries.no_match:
                    return node.on_fail
                continue
            self._log("input", self._shown(node, valid=True), "terminator")
            if node.privacy == "secret" and node.store_as == "password":
                self.identity = self.entered  # the password confirms the ID keyed
            return node.next

    def _shown(self, node: Collect, *, valid: bool) -> str:
        """The entry as the engine records it: secrets hidden, ID numbers masked."""
        if node.privacy == "secret":
            return _SECRET
        if node.privacy == "id_number":
            if valid and self.people:
                self.entered = self.people[int(len(self.people) * self.rng.random() ** 2)]
                return self.entered.masked
            return "*" * self.rng.choice((11, 16, 17))  # a wrong length is hidden whole
        if valid:
            return f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
        return f"{self.rng.randrange(10**5):05d}"

    def _result(self, node: Action) -> str:
        if node.run == "identity_known":
            return "yes" if self.identity else "no"
        if node.run == "set_language":
            self.language = node.args.get("language", self.language)
        shares = RESULTS.get(node.run)
        if not shares:
            return next(iter(node.next))
        names = [name for name in shares if name in node.next]
        return self.rng.choices(names, [shares[name] for name in names])[0]


def _menu_keys(where: str, node: Menu) -> tuple[list[str], list[float]]:
    """The keys a caller presses at ``where`` and their cumulative weights."""
    shares = MENU_KEYS.get(where) or {key: 1.0 for key in node.options}
    keys = [key for key in shares if key in node.options or (key == "" and node.default)]
    return keys, list(itertools.accumulate(shares[key] for key in keys))


def _describe(prompts: Prompts) -> str:
    """What was said, as the engine describes it: prompt keys, values as placeholders."""
    return " ".join(p if isinstance(p, str) else f"<{getattr(p, 'var', '?')}>" for p in prompts)


def _working(day: date, calendar: WorkCalendar | None) -> bool:
    return calendar.is_working_day(day) if calendar else day.weekday() < 5


def _apportion(
    total: int, weights: Mapping[tuple[date, str, int], float]
) -> dict[tuple[date, str, int], int]:
    """``total`` split in proportion to ``weights``, in whole numbers that add up (the largest
    remainders get the ones left over)."""
    whole = sum(weights.values())
    exact = {key: total * weight / whole for key, weight in weights.items()}
    counts = {key: int(share) for key, share in exact.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(exact, key=lambda key: (counts[key] - exact[key], key))
    for key in by_remainder[:left]:
        counts[key] += 1
    return counts


def _caller_numbers(seed: int, count: int) -> list[str]:
    """Calling numbers: mobiles mostly, landlines (area code first) for the rest."""
    rng = random.Random(f"numbers:{seed}")
    numbers = []
    for _ in range(count):
        if rng.random() < 0.85:
            numbers.append(f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
        else:
            area = rng.choice(("010", "020", "021", "027", "0755", "028"))
            numbers.append(f"{area}{rng.randrange(2 * 10**7, 9 * 10**7)}")
    return numbers


async def write_traffic(
    db: Database,
    traffic: Traffic,
    *,
    batch: int = 5000,
    progress: Callable[[int], None] = lambda written: None,
) -> int:
    """Write every call of ``traffic``: each batch made in a worker thread while the one before
    is written (in bulk, with its rollups); then the planner's statistics are refreshed."""
    batches = traffic.batches(batch)
    written = 0
    coming = asyncio.create_task(asyncio.to_thread(next, batches, None))
    while (calls := await coming) is not None:
        coming = asyncio.create_task(asyncio.to_thread(next, batches, None))
        await add_calls(db, calls)
        written += len(calls)
        progress(written)
    await db.analyze()
    return written


def identities(key: bytes, numbers: Iterable[str]) -> list[Identity]:
    """The keyed hash and masked form of each ID number (the numbers themselves are dropped)."""
    return [Identity(id_hash(key, number), ResidentId(number).masked) for number in numbers]
