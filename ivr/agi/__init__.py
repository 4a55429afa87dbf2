"""FastAGI for the hotline: the wire protocol (pure), one call's channel, and the server."""

from ivr.agi.channel import AGIChannel, EndedBy, RecordResult, read_env
from ivr.agi.errors import (
    AGICommandError,
    AGIConnectionLost,
    AGIError,
    AGIHangup,
    AGIProtocolError,
)
from ivr.agi.protocol import Reply, format_command, parse_header_line, parse_reply, quote_argument
from ivr.agi.server import FastAGIServer, Handler

__all__ = [
    "AGIChannel",
    "AGICommandError",
    "AGIConnectionLost",
    "AGIError",
    "AGIHangup",
    "AGIProtocolError",
    "EndedBy",
    "FastAGIServer",
    "Handler",
    "RecordResult",
    "Reply",
    "format_command",
    "parse_header_line",
    "parse_reply",
    "quote_argument",
    "read_env",
]
