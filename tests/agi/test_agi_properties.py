"""Properties of the AGI wire layer over generated input: the parsers read back what Asterisk
writes, refuse anything else with the one protocol error, and every read stays bounded."""

from __future__ import annotations

import asyncio
import re
from itertools import product

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ivr.agi import AGIChannel
from ivr.agi.channel import MAX_HEADER_LINES, MAX_REPLY_LINES, read_env
from ivr.agi.errors import AGIError, AGIProtocolError
from ivr.agi.protocol import (
    Reply,
    parse_common_reply,
    parse_header_line,
    parse_header_lines,
    parse_reply,
    quote_argument,
)
from tests.agipeer import split_args

# One line of text as it can arrive: anything but the line break that ends it.
LINE_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=80)
RESULTS = st.integers(min_value=-1, max_value=10**6).map(str)


def _reply_line(result: str, data: str | None, endpos: int | None) -> str:
    line = f"200 result={result}"
    if data is not None:
        line += f" ({data})"
    if endpos is not None:
        line += f" endpos={endpos}"
    return line


@given(result=RESULTS, data=st.none() | LINE_TEXT, endpos=st.none() | st.integers(0, 10**9))
def test_a_reply_reads_back_as_written(result: str, data: str | None, endpos: int | None) -> None:
    line = _reply_line(result, data, endpos)
    reply = parse_reply(line + "\n")
    assert (reply.code, reply.result, reply.data, reply.endpos) == (200, result, data, endpos)
    assert reply.result_int == int(result) and reply.raw == line


# Replies near the common forms, piece by piece: the fast parser's own edge cases (signs,
# spaces, non-ASCII digits, line ends, words that look like endpos) beside what Asterisk sends.
_TAIL_PIECES = [
    "endpos=", "endpos=-", "-", "--", "-0", "0", "16000", "\u0663", "\u00b2", " ", "\t", "(", ")",
    "(timeout)", "timeout", "(dtmf)", "\r", "\n", "x", "=",
]  # fmt: skip
NEAR_COMMON = st.builds(
    "".join,
    st.tuples(
        st.sampled_from(["200 result=", "200 result=", "201 result=", "200 result", "100 result="]),
        st.sampled_from(["0", "49", "-1", "", "12333", "a(b)", "\u0663"]) | LINE_TEXT,
        st.sampled_from(["", " ", " ", "  "]),
        st.lists(st.sampled_from(_TAIL_PIECES), max_size=4).map("".join),
        st.sampled_from(["", "", "\n", "\r\n", "\r", " "]),
    ),
)


@settings(max_examples=500)
@given(NEAR_COMMON | LINE_TEXT.map(lambda text: "200 result=" + text))
def test_the_fast_parser_reads_a_reply_as_the_general_one_does(line: str) -> None:
    fast = parse_common_reply(line)
    if fast is None:
        return  # not a common form: the general parser reads it
    assert fast == parse_reply(line)
    assert type(fast.endpos) is type(parse_reply(line).endpos)


def test_the_fast_parser_agrees_on_every_short_combination_of_the_edge_pieces() -> None:
    """Every line of up to two tail pieces: the rare ones (a superscript digit after endpos=, a
    line break inside) are the ones random examples seldom reach."""
    heads = ["200 result=", "201 result=", "200 result"]
    results = ["0", "-1", "", "\u0663", "X"]  # X: only line ends are stripped, not letters
    ends = ["", "\n", "\r", " "]
    tails = [""] + _TAIL_PIECES + ["".join(pair) for pair in product(_TAIL_PIECES, repeat=2)]
    checked = 0
    for head, result, sep, tail, end in product(heads, results, ["", " "], tails, ends):
        line = head + result + sep + tail + end
        fast = parse_common_reply(line)
        if fast is not None:
            assert fast == parse_reply(line), line
            checked += 1
    assert checked > 1000  # the fast path answered for many of them


@given(result=RESULTS, endpos=st.none() | st.integers(-1, 10**9), timeout=st.booleans())
@example(result="0", endpos=-1, timeout=False)  # Asterisk's endpos when nothing played
def test_the_fast_parser_takes_every_common_form(
    result: str, endpos: int | None, timeout: bool
) -> None:
    data = "timeout" if timeout and endpos is None else None
    line = _reply_line(result, data, endpos)
    fast = parse_common_reply(line + "\n")
    assert fast is not None and fast == parse_reply(line)


@given(
    code=st.sampled_from(["510", "511", "520"]),
    usage=st.lists(LINE_TEXT, max_size=30),
    last=LINE_TEXT,
)
def test_a_multiline_reply_reads_back_as_written(code: str, usage: list[str], last: str) -> None:
    usage = [line for line in usage if not line.startswith(code + " ")]  # those end the reply
    reply = parse_reply([f"{code}-Invalid command syntax.", *usage, f"{code} {last}"])
    assert reply.code == int(code) and reply.data == "\n".join(usage) and reply.result == ""


@given(st.text() | st.lists(st.text(), max_size=8))
def test_anything_else_is_a_reply_or_the_protocol_error(text: str | list[str]) -> None:
    try:
        reply = parse_reply(text)
    except AGIProtocolError:
        return
    assert isinstance(reply, Reply) and 100 <= reply.code <= 999


@given(
    key=st.from_regex(r"agi_[A-Za-z0-9_]{1,30}", fullmatch=True),
    value=st.text(st.characters(blacklist_characters="\r\n"), max_size=200),
)
def test_a_header_line_reads_back_as_written(key: str, value: str) -> None:
    assert parse_header_line(f"{key}: {value}\n") == (key, value)


@given(
    st.text(st.sampled_from("agi_AZaz09-. \u00e9\u0663\u00b2\t"), max_size=12)
    | st.text(max_size=12).filter(lambda rest: ":" not in rest).map(lambda rest: "agi_" + rest)
)
def test_a_header_key_is_agi_then_ascii_letters_digits_and_underscores(key: str) -> None:
    """What the key check takes is exactly ``agi_[A-Za-z0-9_]+``, nothing wider."""
    try:
        parsed = parse_header_line(f"{key}: v")
    except AGIProtocolError:
        parsed = None
    assert (parsed is not None) == (re.fullmatch(r"agi_[A-Za-z0-9_]+", key) is not None)


@given(st.text(max_size=200))
def test_any_header_line_is_a_pair_the_end_or_refused(line: str) -> None:
    try:
        parsed = parse_header_line(line)
    except AGIProtocolError:
        return
    assert parsed is None or parsed[0].startswith("agi_")


HEADER_LINE_PIECES = st.lists(
    st.sampled_from(
        ["agi_", "agi_x", "agi_arg_1", "AGI_", ":", ": ", " ", "\r", "_", "é", "\t", "v"]
    )
    | st.text(st.characters(exclude_characters="\n"), max_size=6),
    max_size=6,
).map("".join)


@given(st.lists(HEADER_LINE_PIECES, min_size=1, max_size=8))
@example(["agi_a:\r x\r\r", "agi_b:  two  ", "agi_c:"])
@example(["agi_a: 1", "\r", "agi_b: 2"])
def test_a_block_reads_as_its_lines_read_one_by_one(lines: list[str]) -> None:
    """The header block's one-pass parser and the line parser agree on every line: the same
    pairs, or both refuse (an empty line inside a block is refused as well)."""
    try:
        expected = [parse_header_line(line) for line in lines]
    except AGIProtocolError:
        expected = None
    if expected is not None and None in expected:
        expected = None  # an empty line inside the block
    try:
        pairs: list[tuple[str, str]] | None = parse_header_lines(
            "".join(f"{line}\n" for line in lines)
        )
    except AGIProtocolError:
        pairs = None
    assert pairs == expected


@given(st.text(st.characters(blacklist_characters="\r\n\0"), max_size=100))
def test_a_quoted_argument_is_read_by_asterisk_as_it_was(value: str) -> None:
    assert split_args(f"VERBOSE {quote_argument(value)} 1") == ["VERBOSE", value, "1"]


@given(st.binary(max_size=4096), st.booleans())
def test_any_header_bytes_end_in_an_env_none_or_the_protocol_error(
    data: bytes, closed: bool
) -> None:
    async def read() -> dict[str, str] | None:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        if closed:
            reader.feed_eof()
        return await read_env(reader, 0.05)

    try:
        env = asyncio.run(read())
    except AGIProtocolError:
        return
    assert env is None or (0 < len(env) <= MAX_HEADER_LINES)


class _Sink:
    """Where the channel writes its commands (nobody answers them here)."""

    def write(self, data: bytes) -> None:
        pass

    async def drain(self) -> None:
        pass


REPLY_LINES = st.lists(
    st.sampled_from(["HANGUP", "", "100 result=0 Trying...", "520-Usage:", " more usage"])
    | LINE_TEXT,
    max_size=3 * MAX_REPLY_LINES,
)


@given(REPLY_LINES, st.booleans())
def test_whatever_asterisk_answers_the_channel_reads_a_bounded_reply(
    lines: list[str], closed: bool
) -> None:
    """A reply, a hang-up or the protocol error; never another exception, never a wait past the
    reply allowance, and never more than ``MAX_REPLY_LINES`` lines read for one command."""
    data = "".join(line + "\n" for line in lines).encode()

    async def exchange() -> tuple[BaseException | Reply, int]:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        if closed:
            reader.feed_eof()
        channel = AGIChannel(reader, _Sink(), {}, command_timeout=0.05)  # type: ignore[arg-type]
        try:
            outcome: BaseException | Reply = await channel.command("NOOP")
        except AGIError as exc:
            outcome = exc
        left = (await reader.read()) if closed else b""
        return outcome, data.count(b"\n") - left.count(b"\n")

    outcome, lines_read = asyncio.run(exchange())
    assert isinstance(outcome, Reply | AGIError)
    assert lines_read <= MAX_REPLY_LINES
