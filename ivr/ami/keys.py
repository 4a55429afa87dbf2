"""When a scripted caller keys what: the ``--keys`` rule applied to the AGI commands AMI shows.

The same rule as the simulator (``ivr.sim.console``) and the AGI test peer (``tests/agipeer.py``):
one entry per input the flow asks for, ``"-"`` for silence. An entry is keyed when the flow starts
waiting for a new input (WAIT FOR DIGIT, GET DATA, RECORD FILE), except for a WAIT FOR DIGIT right
after a WAIT FOR DIGIT that got a digit: that is an inter-digit wait, fed from the rest of the
current entry. Commands that neither play nor listen (SET/GET VARIABLE, VERBOSE, NOOP, HANGUP) do
not separate two digit waits. For RECORD FILE the entry is the seconds spoken, then ``#`` (or the
key written after the number). So a script does not depend on how long prompts are.

Asterisk drops keys that arrive between two AGI commands, so keys go one at a time, each when a
command that listens starts; a key left over from an entry interrupts the next prompt that
accepts it, as a caller typing ahead would.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["SILENCE", "KeyScript", "Send", "parse_keys", "split_command"]

SILENCE = "-"
_RECORD_ENTRY = re.compile(r"(\d+(?:\.\d+)?)([#*0-9]?)")
_DTMF = frozenset("0123456789*#ABCD")
# Commands that neither play nor listen: they do not end an inter-digit wait.
_TRANSPARENT = (
    ("SET", "VARIABLE"),
    ("GET", "VARIABLE"),
    ("GET", "FULL", "VARIABLE"),
    ("VERBOSE",),
    ("NOOP",),
    ("HANGUP",),
    ("CHANNEL", "STATUS"),
    ("DATABASE",),
)


def parse_keys(script: str) -> list[str]:
    """``"-,1,11010519491231002*#"`` -> ``["-", "1", "11010519491231002*#"]``; checks each key."""
    entries = [entry.strip() for entry in script.split(",")] if script.strip() else []
    for number, entry in enumerate(entries, 1):
        if not entry or (entry != SILENCE and not set(entry) <= _DTMF | {"."}):
            raise ValueError(f"keys entry {number}: use 0-9 * # A-D, seconds of speech, or -")
    return entries


def split_command(line: str) -> list[str]:
    """An AGI command line split into words as Asterisk does (double quotes, backslashes)."""
    words: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for char in line.strip():
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
            continue
        elif char == '"':
            quoted = not quoted
            if current is None:
                current = []
                words.append("")
            continue
        elif char in " \t" and not quoted:
            if current is not None:
                words[-1] = "".join(current)
            current = None
            continue
        if current is None:
            current = []
            words.append("")
        current.append(char)
    if current is not None:
        words[-1] = "".join(current)
    return words


@dataclass(frozen=True)
class Send:
    """Key ``digits`` (one PlayDTMF each) after waiting ``after`` seconds."""

    digits: str
    after: float = 0.0


class KeyScript:
    """The caller's entries, handed out as the flow asks for input."""

    def __init__(self, entries: Sequence[str]) -> None:
        self._entries = deque(entries)
        self.buffer = ""  # keys of the current entry not sent yet
        self.inputs_taken = 0
        self.exhausted = False  # the flow asked for a new input after the last entry
        self._after_digit = False  # the last listening command was a digit wait that got a key

    @property
    def entries_left(self) -> list[str]:
        return list(self._entries)

    def command_started(self, command: str) -> Send | None:
        """What the caller keys now that ``command`` runs (None: nothing)."""
        words = split_command(command)
        upper = tuple(word.upper() for word in words)
        if any(upper[: len(name)] == name for name in _TRANSPARENT):
            return None
        if upper[:3] == ("WAIT", "FOR", "DIGIT"):
            return self._digit_wait()
        self._after_digit = False
        if upper[:2] == ("GET", "DATA"):
            return self._get_data(words)
        if upper[:2] == ("RECORD", "FILE"):
            return self._record(words)
        # Prompts that accept keys: <command words> <file> <escape digits> ...
        for name in (("STREAM", "FILE"), ("CONTROL", "STREAM", "FILE"), ("GET", "OPTION")):
            if upper[: len(name)] == name:
                at = len(name) + 1
                return self._type_ahead(words[at] if len(words) > at else "")
        return None

    def _next_entry(self) -> str | None:
        if not self._entries:
            self.exhausted = True
            return None
        self.inputs_taken += 1
        return self._entries.popleft()

    def _digit_wait(self) -> Send | None:
        if not self.buffer and not self._after_digit:
            entry = self._next_entry()
            self.buffer = "" if entry in (None, SILENCE) else (entry or "")
        if not self.buffer:
            self._after_digit = False
            return None
        key, self.buffer = self.buffer[0], self.buffer[1:]
        self._after_digit = True
        return Send(key)

    def _get_data(self, words: list[str]) -> Send | None:
        if not self.buffer:
            entry = self._next_entry()
            self.buffer = "" if entry in (None, SILENCE) else (entry or "")
        limit = int(words[4]) if len(words) > 4 and words[4].isdigit() else 1024
        keys = ""
        while self.buffer and len(keys) < limit:
            key, self.buffer = self.buffer[0], self.buffer[1:]
            if key == "#":
                return Send(keys + key)
            keys += key
        return Send(keys) if keys else None

    def _record(self, words: list[str]) -> Send | None:
        escape = words[4] if len(words) > 4 else ""
        if self.buffer:  # a key left from the last entry ends the recording at once
            key, self.buffer = self.buffer[0], self.buffer[1:]
            return Send(key) if key in escape else None
        entry = self._next_entry()
        if entry is None or entry == SILENCE:
            return None
        match = _RECORD_ENTRY.fullmatch(entry)
        if match is None:
            raise ValueError(f"a RECORD FILE entry is seconds[#|*|digit], not {entry!r}")
        return Send(match.group(2) or "#", after=float(match.group(1)))

    def _type_ahead(self, escape: str) -> Send | None:
        if self.buffer and self.buffer[0] in escape:
            key, self.buffer = self.buffer[0], self.buffer[1:]
            return Send(key)
        return None
