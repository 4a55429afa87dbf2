"""The FastAGI wire format as pure functions: header lines, replies, argument quoting. No I/O.

Reply forms handled (Asterisk's ``res_agi.c``)::

    200 result=0 endpos=1234                 STREAM FILE played to the end
    200 result=49 endpos=1234                STREAM FILE interrupted by "1" (ASCII code)
    200 result=123 (timeout)                 GET DATA: digits so far, then the time-out
    200 result=1 (some value (x))            GET VARIABLE: the data is everything in the outer ()
    200 result=35 (dtmf) endpos=8000         RECORD FILE ended by "#"
    200 result=0 Gosub complete              free text after the result
    100 result=0 Trying...                   provisional; the final reply follows
    510 Invalid or unknown command
    511 Command Not Permitted on a dead channel or intercept routine
    520-Invalid command syntax.  Proper usage follows:
     Usage: ...                              (any number of usage lines)
    520 End of proper usage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ivr.agi.errors import AGIProtocolError

__all__ = [
    "COMMAND_NAMES",
    "HANGUP_LINE",
    "OTHER_COMMAND",
    "Reply",
    "command_name",
    "describe_command",
    "format_command",
    "multiline_code",
    "parse_common_reply",
    "parse_header_line",
    "parse_header_lines",
    "parse_reply",
    "quote_argument",
]

HANGUP_LINE = "HANGUP"  # sent by Asterisk on its own when the caller hangs up (FastAGI only)

_STATUS = re.compile(r"(\d{3})([ -])(.*)")
_ENDPOS = re.compile(r"\s*endpos=(-?\d+)\s*$")
_FORBIDDEN = ("\n", "\r", "\0")

# res_agi's command names: a sensitive command keeps its name in logs while its arguments are
# masked, and the server's per-command timings are named by them (a bounded set).
_COMMAND_NAMES = (
    "ANSWER ASYNCAGI_BREAK CHANNEL_STATUS CONTROL_STREAM_FILE DATABASE_DEL DATABASE_DELTREE"
    " DATABASE_GET DATABASE_PUT EXEC GET_DATA GET_FULL_VARIABLE GET_OPTION GET_VARIABLE GOSUB"
    " HANGUP NOOP RECEIVE_CHAR RECEIVE_TEXT RECORD_FILE SAY_ALPHA SAY_DATE SAY_DATETIME"
    " SAY_DIGITS SAY_NUMBER SAY_PHONETIC SAY_TIME SEND_IMAGE SEND_TEXT SET_AUTOHANGUP"
    " SET_CALLERID SET_CONTEXT SET_EXTENSION SET_MUSIC SET_PRIORITY SET_VARIABLE"
    " SPEECH_ACTIVATE_GRAMMAR SPEECH_CREATE SPEECH_DEACTIVATE_GRAMMAR SPEECH_DESTROY"
    " SPEECH_LOAD_GRAMMAR SPEECH_RECOGNIZE SPEECH_SET SPEECH_UNLOAD_GRAMMAR STREAM_FILE"
    " TDD_MODE VERBOSE WAIT_FOR_DIGIT"
)
_COMMANDS = frozenset(tuple(name.split("_")) for name in _COMMAND_NAMES.split())
# Each command's name as its timings are labelled (``STREAM FILE``), built once: the name of a
# command sent is looked up here, never joined again.
_NAMES = {words: " ".join(words) for words in _COMMANDS}
OTHER_COMMAND = "OTHER"  # a word res_agi does not know
COMMAND_NAMES = frozenset([*_NAMES.values(), OTHER_COMMAND])


# A header key: agi_ then ASCII letters, digits and underscores (both parsers below)
_HEADER_KEY = "agi_[A-Za-z0-9_]+"
_HEADER_LINE = re.compile(rf"({_HEADER_KEY}):(.*)", re.DOTALL)
# every line of a block at once, each line's end cut as parse_header_line cuts it
_HEADER_LINES = re.compile(rf"^({_HEADER_KEY}): ?(.*?)\r*$", re.MULTILINE)


def parse_header_line(line: str) -> tuple[str, str] | None:
    """``agi_key: value`` -> ``("agi_key", "value")``; the empty line ending the block -> None.

    Anything else is not AGI (a port scanner, an HTTP client): AGIProtocolError.
    """
    line = line.rstrip("\r\n")
    if not line:
        return None
    match = _HEADER_LINE.fullmatch(line)
    if match is None:
        raise AGIProtocolError(f"not an AGI header line: {line[:80]!r}")
    return match.group(1), match.group(2).removeprefix(" ")


def parse_header_lines(text: str) -> list[tuple[str, str]]:
    """The header lines of ``text`` (each ended by a newline, the block's empty line not among
    them), each read as ``parse_header_line`` reads it: one pass over the block, not one call a
    line (about 20 lines a call). A line that is not a header line, or an empty one, raises
    AGIProtocolError."""
    pairs: list[tuple[str, str]] = _HEADER_LINES.findall(text)
    if len(pairs) == text.count("\n"):
        return pairs
    pairs = []  # some line did not match: read line by line, which says which one
    for line in text.split("\n")[:-1]:
        parsed = parse_header_line(line)
        if parsed is None:
            raise AGIProtocolError("empty line inside the header block")
        pairs.append(parsed)
    return pairs


class Reply(NamedTuple):  # a tuple: built once per command, it must cost little
    code: int
    result: str  # the text after "result=", "" when the reply has none (5xx)
    data: str | None  # the text in the outer parentheses, free text, or the 5xx message/usage
    endpos: int | None
    raw: str

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            raise AGIProtocolError(f"reply has no numeric result: {self.raw!r}") from None


def multiline_code(line: str) -> str | None:
    """``"520"`` when ``line`` opens a multi-line reply (``520-...``), which ends at ``520 ...``."""
    match = _STATUS.fullmatch(line)
    return match.group(1) if match and match.group(2) == "-" else None


def parse_common_reply(line: str) -> Reply | None:
    """The forms nearly every reply takes, parsed without a regular expression: ``200 result=N``,
    ``200 result=N endpos=M`` and ``200 result=N (timeout)``; None for any other reply, which
    ``parse_reply`` reads. Where it answers, it answers as ``parse_reply`` does."""
    line = line.rstrip("\r\n")
    if not line.startswith("200 result=") or not line.isprintable():  # no \r, \n, controls
        return None
    result, _, tail = line[11:].partition(" ")
    if not tail:
        return Reply(200, result, None, None, line)
    if tail == "(timeout)":
        return Reply(200, result, "timeout", None, line)
    if tail.startswith("endpos="):
        value = tail[7:]
        digits = value[1:] if value.startswith("-") else value
        if digits.isascii() and digits.isdigit():
            return Reply(200, result, None, int(value), line)
    return None


def parse_reply(lines: str | Sequence[str]) -> Reply:
    """Parse one reply: a single line, or the lines of a multi-line reply (first to last)."""
    if isinstance(lines, str):
        lines = lines.rstrip("\r\n").split("\n")
    lines = [line.rstrip("\r") for line in lines]
    raw = "\n".join(lines)
    first = _STATUS.fullmatch(lines[0]) if lines else None
    if first is None:
        raise AGIProtocolError(f"not an AGI reply: {raw[:120]!r}")
    code = int(first.group(1))
    if first.group(2) == "-":
        last = _STATUS.fullmatch(lines[-1])
        if (
            len(lines) < 2
            or last is None
            or last.group(1) != first.group(1)
            or last.group(2) != " "
        ):
            raise AGIProtocolError(f"unterminated multi-line reply: {raw[:120]!r}")
        return Reply(code, "", "\n".join(lines[1:-1]), None, raw)
    rest = first.group(3)
    if not rest.startswith("result="):
        return Reply(code, "", rest or None, None, raw)
    result, _, rest = rest.removeprefix("result=").partition(" ")
    endpos: int | None = None
    match = _ENDPOS.search(rest)
    if match:
        endpos = int(match.group(1))
        rest = rest[: match.start()]
    rest = rest.strip()
    if rest.startswith("(") and rest.endswith(")"):
        data: str | None = rest[1:-1]
    else:
        data = rest or None
    return Reply(code, result, data, endpos, raw)


def quote_argument(value: str) -> str:
    """Quote one argument as Asterisk's ``parse_args`` reads it: ``"`` and ``\\`` escaped.

    A line break would end the command early and desynchronise every later reply: refused.
    """
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"AGI argument contains a line break or NUL: {value!r}")
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def format_command(*words: str) -> str:
    """One command line: words as given (arguments already quoted), a newline at the end."""
    if not words:
        raise ValueError("empty AGI command")
    line = " ".join(words)
    if "\n" in line or "\r" in line or "\0" in line:
        word = next(word for word in words if any(char in word for char in _FORBIDDEN))
        raise ValueError(f"AGI command word contains a line break or NUL: {word!r}")
    return line + "\n"


def _name_length(words: Sequence[str]) -> int:
    """How many leading words name the command (0: not a res_agi command)."""
    upper = tuple(word.upper() for word in words[:3])
    return max((n for n in (3, 2, 1) if upper[:n] in _COMMANDS), default=0)


def command_name(words: Sequence[str]) -> str:
    """The command's name without its arguments (``STREAM FILE``), one of ``COMMAND_NAMES``:
    ``OTHER`` for a word res_agi does not know, so that the names stay a small, fixed set."""
    upper = tuple(word.upper() for word in words[:3])
    for length in (3, 2, 1):
        name = _NAMES.get(upper[:length])
        if name is not None:
            return name
    return OTHER_COMMAND


def describe_command(words: Iterable[str], *, sensitive: bool = False) -> str:
    """The command as logs may show it: a sensitive one keeps its name, arguments -> ``***``."""
    words = list(words)
    if not sensitive:
        return " ".join(words)
    shown = _name_length(words) or min(len(words), 1)
    return " ".join(words[:shown] + ["***"] * (len(words) - shown))
