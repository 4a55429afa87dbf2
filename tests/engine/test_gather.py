"""One entry read from the keys (``read_entry``) and the type-ahead buffer in front of the port:
every ending, the time-outs each wait uses, and which keys go to which input."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ivr.engine.gather import Entry, read_entry
from ivr.engine.port import CallerHungUp
from ivr.engine.typeahead import MAX_KEYS, TypeAhead

FIRST, INTER, TERM = 5.0, 3.0, 1.5


class Keys:
    """The port's side: keys the caller presses (None: a wait that times out), the waits asked
    for, and the keys pressed during each prompt played."""

    def __init__(self, keys: Sequence[str | None] = (), during: Sequence[str] = ()) -> None:
        self.keys = list(keys)
        self.during = list(during)
        self.waits: list[tuple[float, bool, bool]] = []
        self.listens: list[tuple[float, int, bool]] = []  # the rest of an entry in one go
        self.played: list[tuple[list[str], str]] = []

    async def play(self, sounds: Sequence[str], interrupt: str, *, sensitive: bool = False) -> str:
        self.played.append((list(sounds), interrupt))
        return self.during.pop(0) if self.during else ""

    async def wait_digit(
        self, seconds: float, *, first: bool, sensitive: bool = False
    ) -> str | None:
        self.waits.append((seconds, first, sensitive))
        if not self.keys:
            raise CallerHungUp("script over")
        return self.keys.pop(0)

    async def keys_until_hash(self, seconds: float, most: int, *, sensitive: bool = False) -> str:
        """GET DATA over the same keys: until #, ``most`` keys, or a time-out (None)."""
        self.listens.append((seconds, most, sensitive))
        got = ""
        while len(got) < most:
            if not self.keys:
                raise CallerHungUp("script over")
            key = self.keys.pop(0)
            if key is None:
                break
            got += key
            if key == "#":
                break
        return got


async def entry(
    keys: Sequence[str | None],
    *,
    buffered: str = "",
    max_digits: int = 4,
    terminator: str = "#",
    term_timeout: float = 0.0,
    exit_keys: str = "*",
    allowed: str = "0123456789",
    sensitive: bool = False,
) -> tuple[Entry, Keys, TypeAhead]:
    port = Keys(keys)
    ahead = TypeAhead(port)  # type: ignore[arg-type]
    if buffered:
        ahead.unread(buffered)  # keyed during the prompts before
    got = await read_entry(
        ahead,
        allowed=allowed,
        max_digits=max_digits,
        terminator=terminator,
        exit_keys=exit_keys,
        first_timeout=FIRST,
        inter_timeout=INTER,
        term_timeout=term_timeout,
        sensitive=sensitive,
    )
    return got, port, ahead


async def test_silence_before_the_first_key_is_no_input_not_a_wrong_entry() -> None:
    got, port, _ = await entry([None])
    assert got == Entry("", "no_input")
    assert port.waits == [(FIRST, True, False)]  # the first key gets the first-key time-out


async def test_a_terminator_alone_is_no_input_and_after_digits_ends_the_entry() -> None:
    assert (await entry(["#"]))[0] == Entry("", "no_input")
    got, port, _ = await entry(["1", "2", "#"])
    assert got == Entry("12", "terminator")
    # the first key alone, then the rest in one listen: the inter-digit time-out, 3 keys at most
    assert port.waits == [(FIRST, True, False)] and port.listens == [(INTER, 3, False)]
    got, port, _ = await entry(["1", "#"])  # the listen ended by # at once
    assert got == Entry("1", "terminator") and port.keys == []


async def test_an_exit_key_first_leaves_at_once_but_later_it_is_a_wrong_key() -> None:
    assert (await entry(["*"]))[0] == Entry("*", "exit")
    got, port, _ = await entry(["1", "*", "5", "#", "9"])
    assert got == Entry("1*", "bad_key")  # the keys after it are dropped with the entry
    assert port.listens == [(INTER, 3, False)] and port.keys == ["9"]


async def test_digits_kept_when_the_caller_stops_keying() -> None:
    got, port, _ = await entry(["1", "2", None])
    assert got == Entry("12", "timeout")
    assert port.listens == [(INTER, 3, False)] and len(port.waits) == 1
    got, port, _ = await entry(["1", None])  # silence right after the first key
    assert got == Entry("1", "timeout") and port.listens == [(INTER, 3, False)]


async def test_a_full_entry_ends_without_waiting_for_more() -> None:
    got, port, _ = await entry(["1", "2", "3", "4", "9"])
    assert got == Entry("1234", "max")
    assert len(port.waits) == 1 and port.listens == [(INTER, 3, False)] and port.keys == ["9"]


async def test_after_a_full_entry_the_terminator_is_swallowed_and_another_key_kept() -> None:
    got, port, ahead = await entry(["1", "2", "3", "4", "#"], term_timeout=TERM)
    assert got == Entry("1234", "max") and ahead.waiting == 0
    assert port.waits[-1][:2] == (TERM, False)
    got, _, ahead = await entry(["1", "2", "3", "4", "7"], term_timeout=TERM)
    assert got == Entry("1234", "max") and ahead.waiting == 1  # the next input's first key
    assert await ahead.key(1.0, first=True) == "7"
    got, _, ahead = await entry(["1", "2", "3", "4", None], term_timeout=TERM)
    assert got == Entry("1234", "max") and ahead.waiting == 0
    got, port, ahead = await entry(["1", "2", "3", "4", "#"], term_timeout=0.5)  # a short wait
    assert got == Entry("1234", "max") and ahead.waiting == 0 and port.keys == []


async def test_keys_typed_ahead_come_first_and_no_wait_is_asked_for_them() -> None:
    got, port, _ = await entry([], buffered="42#")
    assert got == Entry("42", "terminator")
    assert port.waits == []


async def test_a_sensitive_entry_tells_the_port_for_every_key() -> None:
    _, port, _ = await entry(["1", "2", "#"], sensitive=True)
    assert [w[2] for w in port.waits] == [True] and [w[2] for w in port.listens] == [True]
    # the wait for a terminator after a full entry too
    _, port, _ = await entry(["1", "2", "3", "4", "#"], term_timeout=TERM, sensitive=True)
    assert [w[2] for w in port.waits] == [True, True] and [w[2] for w in port.listens] == [True]
    _, port, _ = await entry(["1", "2", "#"], terminator="*", exit_keys="", sensitive=True)
    assert [w[2] for w in port.waits] == [True, True, True]  # key by key: see below


async def test_the_rest_of_an_entry_is_read_once_the_keys_typed_ahead_are_taken() -> None:
    got, port, _ = await entry(["3", "#"], buffered="12")
    assert got == Entry("123", "terminator")
    assert port.waits == [] and port.listens == [(INTER, 2, False)]  # room for 2 more digits
    got, port, _ = await entry(["3", "4", "5", None], buffered="12", max_digits=6)
    assert got == Entry("12345", "timeout") and port.listens == [(INTER, 4, False)]


async def test_the_keys_of_one_listen_are_taken_as_single_keys_are() -> None:
    got, port, _ = await entry(["1", "2", "3", "4", "7"], term_timeout=TERM)
    assert got == Entry("1234", "max") and port.listens == [(INTER, 3, False)]
    assert port.waits[-1] == (TERM, False, False)  # then the wait for a trailing #
    got, port, _ = await entry(["1", "2", "A", "#"])  # GET DATA returns A-D as digits
    assert got == Entry("12A", "bad_key") and len(port.listens) == 1
    got, port, _ = await entry(["1", "*", "2", "#"], allowed="0123456789*", exit_keys="")
    assert got == Entry("1*2", "terminator") and len(port.listens) == 1


@pytest.mark.parametrize("terminator", ["*", ""])
async def test_without_hash_as_terminator_the_entry_is_read_key_by_key(terminator: str) -> None:
    """GET DATA ends on # only: another terminator, or none, is read one key at a time."""
    got, port, _ = await entry(["1", "2", "*"], terminator=terminator, exit_keys="")
    assert got == (Entry("12", "terminator") if terminator else Entry("12*", "bad_key"))
    assert port.listens == []
    assert port.waits == [(FIRST, True, False), (INTER, False, False), (INTER, False, False)]


# --- the type-ahead buffer ------------------------------------------------------------------------


async def test_keys_pressed_during_a_prompt_wait_for_the_next_input() -> None:
    port = Keys(during=["12"])
    ahead = TypeAhead(port)  # type: ignore[arg-type]
    await ahead.play(["your_balance"], "")
    assert ahead.waiting == 2
    assert [await ahead.key(1.0, first=True), await ahead.key(1.0, first=False)] == ["1", "2"]
    assert port.waits == []


async def test_a_prompt_asking_for_input_is_skipped_when_the_caller_already_answered() -> None:
    port = Keys(during=["5"])
    ahead = TypeAhead(port)  # type: ignore[arg-type]
    await ahead.play(["menu"], "")
    await ahead.play(["enter_id"], "0123456789")  # interruptible: the keys waiting answer it
    assert [p[0] for p in port.played] == [["menu"]]
    await ahead.play(["thanks"], "")  # not interruptible: played all the same
    assert [p[0] for p in port.played] == [["menu"], ["thanks"]]


async def test_after_a_failure_keys_are_dropped_until_the_next_input_starts() -> None:
    port = Keys(during=["9", "8", "7"])
    ahead = TypeAhead(port)  # type: ignore[arg-type]
    await ahead.play(["read_back"], "")
    ahead.discard()
    assert ahead.waiting == 0
    await ahead.play(["sorry"], "")  # keyed for the path the call no longer takes
    assert ahead.waiting == 0
    ahead.start_input()
    await ahead.play(["menu"], "")
    assert ahead.waiting == 1 and await ahead.key(1.0, first=True) == "7"


async def test_the_buffer_holds_at_most_a_stuck_key_s_worth() -> None:
    port = Keys(during=["1" * (MAX_KEYS + 10)])
    ahead = TypeAhead(port)  # type: ignore[arg-type]
    await ahead.play(["x"], "")
    assert ahead.waiting == MAX_KEYS
    ahead.unread("#")
    assert ahead.waiting == MAX_KEYS and await ahead.key(1.0, first=True) == "#"


@pytest.mark.parametrize("waiting", ["", "3"])
async def test_an_empty_buffer_asks_the_port(waiting: str) -> None:
    port = Keys(keys=["4"])
    ahead = TypeAhead(port)  # type: ignore[arg-type]
    if waiting:
        ahead.unread(waiting)
    assert await ahead.key(2.0, first=True) == (waiting or "4")
    assert port.waits == ([] if waiting else [(2.0, True, False)])


@pytest.mark.parametrize(("first", "rest"), [(INTER - 1, None), (INTER, None), (INTER + 0.5, 0.5)])
async def test_silence_through_a_listen_leaves_only_the_rest_of_the_first_key_time(
    first: float, rest: float | None
) -> None:
    """The listen from the prompt on waited the inter-digit time for the first key already: only
    what is left of the first-key time-out is waited after it, and nothing when none is left (no
    wait of 0 s or less is asked for: Asterisk's WAIT FOR DIGIT waits for ever on -1)."""
    port = Keys([None])
    got = await read_entry(
        TypeAhead(port),  # type: ignore[arg-type]
        allowed="0123456789",
        max_digits=4,
        terminator="#",
        exit_keys="",
        first_timeout=first,
        inter_timeout=INTER,
        term_timeout=0.0,
        sensitive=False,
        heard="",
    )
    assert got == Entry("", "no_input")
    assert port.waits == ([] if rest is None else [(rest, True, False)])
