"""The one exception family of the AGI layer.

Flows see :class:`AGIHangup` when the caller goes away, whatever the wire said (``HANGUP``, 511,
end of stream, reset): a hang-up is never a status to check. The server catches it in one place.
"""

from __future__ import annotations

__all__ = ["AGICommandError", "AGIConnectionLost", "AGIError", "AGIHangup", "AGIProtocolError"]


class AGIError(Exception):
    """Base of every error the AGI layer raises."""


class AGIHangup(AGIError):
    """The caller hung up or the connection to Asterisk is gone: no more commands on the channel."""


class AGIConnectionLost(AGIHangup):
    """The connection closed or broke with no ``HANGUP`` before it: Asterisk went away (a crash,
    a kill, the network), not the caller. Asterisk tells a caller's hang-up with ``HANGUP`` and
    keeps the connection open until the script ends."""


class AGICommandError(AGIError):
    """Asterisk refused or failed a command (510, 520, or a ``result=-1`` that means failure)."""

    def __init__(self, message: str, *, command: str = "", usage: str | None = None) -> None:
        super().__init__(message)
        self.command = command  # as logged: arguments of sensitive commands are masked
        self.usage = usage  # the usage text of a 520 reply


class AGIProtocolError(AGIError):
    """The peer does not speak AGI: garbage, a bad or silent header block, no reply in time."""
