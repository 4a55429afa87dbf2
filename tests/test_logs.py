"""What the hotline's log handler writes: one masked line per record, tracebacks included."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from ivr.agi.errors import AGIProtocolError
from ivr.agi.protocol import parse_reply
from ivr.config import Settings
from ivr.logs import configure_logging

ID_NUMBER = "11010519491231002" + "X"  # not spelled out whole in source lines a traceback quotes


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Logging set up as ``hotline -v`` sets it up, on a standard error the test reads."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(Settings(), debug=True)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)


log = logging.getLogger("ivr.agi.server")


def test_an_id_number_in_a_traceback_is_masked(stderr: io.StringIO) -> None:
    try:
        parse_reply(f"200 result={ID_NUMBER} endpos=0").result_int  # noqa: B018
    except AGIProtocolError:
        log.exception("call %s: script %s failed", "1700000000.1", "12333")
    text = stderr.getvalue()
    assert "Traceback" in text and "no numeric result" in text
    assert ID_NUMBER not in text and "110105********002X" in text


@pytest.mark.parametrize(
    ("field", "forged"),
    [
        ("uniqueid", "1700000000.1\r2024-01-01 00:00:00,000 CRITICAL ivr: forged line"),
        ("uniqueid", "1700000000.1\n2024-01-01 00:00:00,000 CRITICAL ivr: forged line"),
        ("channel", "PJSIP/6001\x1b[2J\x1b[1;31mred\x1b[0m"),
        ("caller ID", "138\u2028forged\x85line\x00"),
    ],
)
def test_control_characters_from_the_wire_are_escaped(
    stderr: io.StringIO, field: str, forged: str
) -> None:
    log.info("call %s: %s", forged, field)
    text = stderr.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1  # one record, one line
    assert not any(char in text[:-1] for char in "\r\n\x1b\x00\x85\u2028")
    assert "forged" in text or "red" in text  # escaped, not dropped: the operator sees it all


def test_a_traceback_keeps_its_lines_but_not_a_carriage_return(stderr: io.StringIO) -> None:
    try:
        raise AGIProtocolError("not an AGI reply: 1.2\r\x1b[2Jforged")
    except AGIProtocolError:
        log.exception("call failed")
    text = stderr.getvalue()
    assert text.count("\n") > 3 and "\r" not in text and "\x1b" not in text
    assert "\\r\\x1b[2Jforged" in text
