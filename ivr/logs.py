"""Logging set-up: every record leaves as one safe line, whatever logged it.

``SafeFormatter`` formats the whole record, its traceback and stack included, and masks the
ID-looking numbers in the result (a reply quoted in an exception message included). Control
characters in the message (CR, LF, ANSI escapes arriving in a uniqueid, a channel name, a caller
ID) are escaped, so that a record is one line: nothing from the wire can forge a log line or
repaint an operator's terminal. A traceback keeps its own line breaks, nothing else.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

from ivr.config import Settings
from ivr.domain.idnumber import mask_ids_in_text

__all__ = ["FORMAT", "SafeFormatter", "configure_logging", "log_handler", "one_line"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# C0 and C1 controls, DEL and the Unicode line separators; a tab is left as it is.
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROLS_BUT_LF = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(text: str) -> str:
    """``text`` with every control character escaped (``\\r``, ``\\n``, ``\\x1b``...)."""
    return _CONTROLS.sub(_escaped, text)


class SafeFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        parts = [self.formatMessage(record)]
        if record.exc_info:
            parts.append(self.formatException(record.exc_info))
        elif record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        text = "\n".join([parts[0], *(_CONTROLS_BUT_LF.sub(_escaped, p) for p in parts[1:])])
        return mask_ids_in_text(text)


def log_handler(stream: TextIO) -> logging.Handler:
    """A handler writing safe lines to ``stream`` (standard error, or a file)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(FORMAT))
    return handler


def configure_logging(settings: Settings, *, debug: bool = False) -> None:
    root = logging.getLogger()
    root.handlers[:] = [log_handler(sys.stderr)]
    root.setLevel(logging.DEBUG if debug else getattr(logging, settings.log_level.upper(), 20))
    if not debug:  # Alembic narrates every migration step at INFO
        logging.getLogger("alembic").setLevel(logging.WARNING)
