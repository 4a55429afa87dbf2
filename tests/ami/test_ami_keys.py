"""The ``--keys`` rule on AGI commands as AMI shows them: the same keys as the AGI test peer."""

from __future__ import annotations

import re

import pytest

from ivr.ami.keys import KeyScript, Send, parse_keys, split_command
from tests.agipeer import CallerScript

MENU = 'STREAM FILE "hotline/main_menu_12333" "0123456789*#"'
# The commands of a 12333 balance check as Asterisk reported them (AGIExecStart), shortened.
BALANCE_CALL = [
    'STREAM FILE "hotline/greeting_12333" "0123456789*#"',
    "WAIT FOR DIGIT 3000",
    MENU,
    "WAIT FOR DIGIT 5000",
    'STREAM FILE "hotline/enter_id" "0123456789*#"',
    *["WAIT FOR DIGIT 10000"] + ["WAIT FOR DIGIT 5000"] * 17,
    "WAIT FOR DIGIT 1500",
    'STREAM FILE "hotline/enter_password" "0123456789#"',
    "WAIT FOR DIGIT 8000",
    *["WAIT FOR DIGIT 4000"] * 5,
    "WAIT FOR DIGIT 1500",
    'SET VARIABLE "HOTLINE_NODE" "query_menu"',
    'STREAM FILE "hotline/query_menu" "0123456789*#"',
    "WAIT FOR DIGIT 5000",
    'STREAM FILE "hotline/pension_balance_is" ""',
    'STREAM FILE "hotline/query_menu" "0123456789*#"',
    "WAIT FOR DIGIT 5000",
]
BALANCE_KEYS = ["-", "1", "11010519491231002*#", "231002#", "1"]


def keys_sent(script: KeyScript, commands: list[str]) -> list[tuple[str, Send | None]]:
    return [(command, script.command_started(command)) for command in commands]


def peer_keys(entries: list[str], commands: list[str]) -> list[str | None]:
    """The key the AGI test peer answers each command with (None: no key)."""
    peer = CallerScript(entries)
    keys: list[str | None] = []
    for command in commands:
        reply = peer.respond(command + "\n")
        match = (
            re.search(r"result=(\d+)", reply) if " FILE " in command or "DIGIT" in command else None
        )
        keys.append(chr(int(match.group(1))) if match and int(match.group(1)) > 0 else None)
    return keys


def test_a_balance_check_keys_exactly_what_the_agi_peer_keys() -> None:
    script = KeyScript(BALANCE_KEYS)
    sent = [send.digits if send else None for _, send in keys_sent(script, BALANCE_CALL)]
    assert sent == peer_keys(BALANCE_KEYS, BALANCE_CALL)
    assert "".join(k for k in sent if k) == "1" + "11010519491231002*#" + "231002#" + "1"
    assert script.entries_left == [] and script.inputs_taken == 5
    assert script.exhausted  # the last WAIT FOR DIGIT asked for a sixth entry


def test_silence_lets_the_first_wait_time_out() -> None:
    script = KeyScript(["-", "2"])
    assert script.command_started("WAIT FOR DIGIT 3000") is None
    assert script.command_started("WAIT FOR DIGIT 3000") == Send("2")
    assert not script.exhausted


def test_transparent_commands_keep_an_inter_digit_wait() -> None:
    script = KeyScript(["12", "3"])
    assert script.command_started("WAIT FOR DIGIT 5000") == Send("1")
    assert script.command_started('SET VARIABLE "X" "1"') is None
    assert script.command_started('VERBOSE "hi" 1') is None
    assert script.command_started("WAIT FOR DIGIT 3000") == Send("2")
    # The entry is used up: this inter-digit wait times out, the next first wait takes "3".
    assert script.command_started("WAIT FOR DIGIT 3000") is None
    assert script.command_started("WAIT FOR DIGIT 5000") == Send("3")


def test_a_prompt_ends_an_inter_digit_wait() -> None:
    script = KeyScript(["1", "2"])
    assert script.command_started("WAIT FOR DIGIT 5000") == Send("1")
    assert script.command_started(MENU) is None
    assert script.command_started("WAIT FOR DIGIT 5000") == Send("2")


def test_keys_left_over_interrupt_only_a_prompt_that_accepts_them() -> None:
    script = KeyScript(["1#9"])
    assert script.command_started("WAIT FOR DIGIT 5000") == Send("1")
    assert script.command_started('STREAM FILE "hotline/x" "0123456789*"') is None
    assert script.command_started('STREAM FILE "hotline/x" "#"') == Send("#")
    assert script.command_started('STREAM FILE "hotline/x" ""') is None
    assert script.command_started('CONTROL STREAM FILE "hotline/x" "9" 3000') == Send("9")


def test_recording_entries_are_seconds_then_a_key() -> None:
    script = KeyScript(["4", "2.5*", "-"])
    record = 'RECORD FILE "/var/spool/hotline/recordings/s1" "wav" "#*" 60000 BEEP s=5'
    assert script.command_started(record) == Send("#", after=4.0)
    assert script.command_started(record) == Send("*", after=2.5)
    assert script.command_started(record) is None
    assert not script.exhausted
    assert script.command_started(record) is None
    assert script.exhausted


def test_a_bad_recording_entry_says_what_it_wanted() -> None:
    script = KeyScript(["12#3"])
    with pytest.raises(ValueError, match="seconds"):
        script.command_started('RECORD FILE "x" "wav" "#" 1000')


def test_get_data_takes_the_entry_up_to_the_terminator_or_the_maximum() -> None:
    script = KeyScript(["123#", "98765"])
    assert script.command_started('GET DATA "hotline/enter" 5000 10') == Send("123#")
    assert script.command_started('GET DATA "hotline/enter" 5000 3') == Send("987")
    assert script.buffer == "65"


def test_parse_keys() -> None:
    assert parse_keys("-, 1 ,11010519491231002*#,4") == ["-", "1", "11010519491231002*#", "4"]
    assert parse_keys(" ") == []
    for bad in ("1,,2", "1,x", "12 3"):
        with pytest.raises(ValueError, match="keys entry"):
            parse_keys(bad)


def test_split_command_follows_asterisk_quoting() -> None:
    assert split_command('STREAM FILE "hotline/a b" ""') == ["STREAM", "FILE", "hotline/a b", ""]
    assert split_command(r'SET VARIABLE "A" "say \"hi\""') == ["SET", "VARIABLE", "A", 'say "hi"']
    assert split_command("WAIT  FOR DIGIT 5000 ") == ["WAIT", "FOR", "DIGIT", "5000"]
