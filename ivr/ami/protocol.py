"""The AMI wire format as pure functions: framing, parsing messages, formatting actions.

Asterisk sends one banner line (``Asterisk Call Manager/<version>``), then messages: header lines
``Key: Value`` ending with a blank line. Framing (cutting the byte stream on blank lines and
keeping the partial rest) is kept apart from parsing (one message's text to a ``Message``), so
both are tested on recorded transcripts without a socket.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TypeAlias, TypeVar, overload

__all__ = [
    "BANNER_PREFIX",
    "FieldValue",
    "Framer",
    "Message",
    "ProtocolError",
    "format_action",
    "leading_event",
    "parse_message",
]

BANNER_PREFIX = "Asterisk Call Manager"
# A single message above this size means the peer is not speaking AMI (or is hostile).
MAX_MESSAGE_BYTES = 1 << 20

FieldValue: TypeAlias = str | int | Sequence[str]
_T = TypeVar("_T")


class ProtocolError(ValueError):
    """Bytes that are not AMI, or an action that cannot be written safely."""


class Message(Mapping[str, str]):
    """One AMI message: headers in order, looked up case-insensitively.

    ``message[key]`` is the first value of a header; ``getall(key)`` every value of a header that
    repeats (``ChanVariable``, ``Variable``, ``Output``).
    """

    __slots__ = ("_first", "_pairs")

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs: tuple[tuple[str, str], ...] = tuple(pairs)
        self._first: dict[str, str] = {}  # lower-case name -> its first value
        for key, value in self._pairs:
            self._first.setdefault(key.lower(), value)

    @classmethod
    def _indexed(cls, pairs: tuple[tuple[str, str], ...], first: dict[str, str]) -> Message:
        """A message whose headers ``parse_message`` indexed as it read them."""
        message = cls.__new__(cls)
        message._pairs, message._first = pairs, first
        return message

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return self._pairs

    def __getitem__(self, key: str) -> str:
        return self._first[key.lower()]

    @overload
    def get(self, key: str, /) -> str | None: ...
    @overload
    def get(self, key: str, /, default: str | _T) -> str | _T: ...
    def get(self, key: str, /, default: object = None) -> object:
        # Mapping's own get goes through __getitem__ and a caught KeyError: slow for a miss.
        return self._first.get(key.lower(), default)

    def __iter__(self) -> Iterator[str]:
        seen = set()  # each header once, as first spelled
        for key, _ in self._pairs:
            lower = key.lower()
            if lower not in seen:
                seen.add(lower)
                yield key

    def __len__(self) -> int:
        return len(self._first)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._first

    def __repr__(self) -> str:
        return f"Message({dict(self)!r})"

    def getall(self, key: str) -> list[str]:
        lower = key.lower()
        return [value for name, value in self.pairs if name.lower() == lower]

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")


def parse_message(text: str) -> Message:
    """One message (without its blank line) to headers; a line without a colon is ``Output``."""
    pairs: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for line in text.splitlines():  # each header indexed as it is read: one pass
        key, colon, value = line.partition(":")
        name = key.strip()
        if colon and key and " " not in name:
            value = value.strip()
        elif line.strip():
            name, value = "Output", line  # old "Response: Follows" command output
        else:
            continue  # a blank line
        pairs.append((name, value))
        first.setdefault(name.lower(), value)  # a repeated header: its first value, as __init__
    return Message._indexed(tuple(pairs), first)


def leading_event(text: str) -> str | None:
    """The name of the event a message text is, read from its first line (Asterisk writes
    ``Event:`` first) without parsing the rest; None when it does not start so."""
    if not text.startswith("Event:"):
        return None
    end = text.find("\n")
    return text[6 : end if end >= 0 else len(text)].strip()


class Framer:
    """Cuts the byte stream into message texts; keeps an incomplete message for the next feed."""

    def __init__(self, max_message: int = MAX_MESSAGE_BYTES) -> None:
        self._rest = b""
        self._max = max_message

    @property
    def pending(self) -> bytes:
        return self._rest

    def feed(self, data: bytes) -> list[str]:
        # Asterisk ends lines with CRLF; a bare LF is accepted so hand-written transcripts work.
        buffer = (self._rest + data).replace(b"\r\n", b"\n")
        *complete, self._rest = buffer.split(b"\n\n")
        if len(self._rest) > self._max:
            raise ProtocolError(f"AMI message longer than {self._max} bytes")
        texts = [chunk.decode("utf-8", errors="replace") for chunk in complete]
        return [text for text in texts if text.strip()]


def _value_lines(key: str, value: FieldValue) -> list[str]:
    values = [value] if isinstance(value, str | int) else list(value)
    lines = []
    for item in values:
        text = str(item)
        # A newline in a value would let it inject headers or a whole second action.
        if "\r" in text or "\n" in text:
            raise ProtocolError(f"AMI field {key!r} holds a line break")
        lines.append(f"{key}: {text}")
    return lines


def format_action(name: str, action_id: str, fields: Mapping[str, FieldValue]) -> bytes:
    """``Action``, ``ActionID`` and ``fields`` as one message; a list value repeats its header."""
    lines = [*_value_lines("Action", name), *_value_lines("ActionID", action_id)]
    for key, value in fields.items():
        if not key or any(c in key for c in ": \r\n"):
            raise ProtocolError(f"bad AMI field name {key!r}")
        if key.lower() in ("action", "actionid"):
            raise ProtocolError(f"{key} is set by the client")
        lines += _value_lines(key, value)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
