"""The Asterisk emulator's caller semantics, which the full-call tests and the benchmark rely on."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from tests.agipeer import CallerScript, split_args

PLAY = 'STREAM FILE "hotline/menu" "0123456789*#"'
WAIT = "WAIT FOR DIGIT 5000"


def keys(caller: CallerScript, *lines: str) -> list[str]:
    return [caller.respond(line).rstrip("\n") for line in lines]


def digit(key: str) -> str:
    return f"200 result={ord(key)}"


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ('STREAM FILE "hotline/menu" ""', ["STREAM", "FILE", "hotline/menu", ""]),
        ('SET VARIABLE "A B" "say \\"hi\\" \\\\o/"', ["SET", "VARIABLE", "A B", 'say "hi" \\o/']),
        ("WAIT  FOR\tDIGIT 5000\n", ["WAIT", "FOR", "DIGIT", "5000"]),
        ('EXEC Playback "a&b,noanswer"', ["EXEC", "Playback", "a&b,noanswer"]),
        ('x"y z"w', ["xy zw"]),
    ],
)
def test_split_args_like_asterisk(line: str, argv: list[str]) -> None:
    assert split_args(line) == argv


def test_prompts_play_while_the_buffer_is_empty_and_a_wait_keys_the_next_entry() -> None:
    caller = CallerScript(["1", "2"])
    assert keys(caller, PLAY, PLAY, WAIT) == [
        "200 result=0 endpos=16000",
        "200 result=0 endpos=16000",
        digit("1"),
    ]
    assert keys(caller, PLAY, WAIT) == ["200 result=0 endpos=16000", digit("2")]
    assert keys(caller, PLAY, WAIT) == ["200 result=0 endpos=16000", "200 result=0"]  # run out
    assert caller.heard == ["hotline/menu"] * 4
    assert caller.inputs_taken == 2


def test_multi_digit_entry_over_inter_digit_waits() -> None:
    caller = CallerScript(["231002", "1"])
    replies = keys(caller, PLAY, *[WAIT] * 7)
    assert replies[1:] == [digit(key) for key in "231002"] + ["200 result=0"]
    # the inter-digit time-out ends the entry without keying the next one
    assert caller.entries_left == ["1"]
    assert keys(caller, PLAY, WAIT) == ["200 result=0 endpos=16000", digit("1")]


def test_hash_terminated_entry_and_transparent_commands_between_digits() -> None:
    caller = CallerScript(["11010519491231002*#", "1"])
    seen = ""
    for _ in range(19):
        reply = caller.respond(WAIT)
        seen += chr(int(reply.split("=")[1]))
        caller.respond('VERBOSE "digit" 1')  # logging between digits does not break the entry
        caller.respond('SET VARIABLE "X" "1"')
    assert seen == "11010519491231002*#"
    assert caller.respond(WAIT).startswith("200 result=0")  # an inter-digit wait after "#"
    assert caller.entries_left == ["1"]


def test_silence_entry_times_out_once() -> None:
    caller = CallerScript(["-", "5"])
    assert keys(caller, PLAY, WAIT, PLAY, WAIT) == [
        "200 result=0 endpos=16000",
        "200 result=0",
        "200 result=0 endpos=16000",
        digit("5"),
    ]


def test_buffered_escape_digit_interrupts_a_prompt() -> None:
    caller = CallerScript(["12"])
    caller.respond(WAIT)  # keys "12", returns "1"
    assert caller.respond(PLAY).startswith(f"200 result={ord('2')} endpos=")
    assert caller.respond('STREAM FILE "hotline/x" ""').startswith("200 result=0")
    assert caller.heard == ["hotline/menu", "hotline/x"]


def test_get_data() -> None:
    caller = CallerScript(["1234#", "12", "123456789"])
    assert keys(caller, 'GET DATA "hotline/pin" 5000 6') == ["200 result=1234"]
    assert keys(caller, 'GET DATA "hotline/pin" 5000 6') == ["200 result=12 (timeout)"]
    assert keys(caller, 'GET DATA "hotline/pin" 5000 6') == ["200 result=123456"]
    assert caller.buffer == "789"
    assert caller.heard == ["hotline/pin"] * 3


def test_get_data_without_a_prompt_reads_the_rest_of_the_entry_in_progress() -> None:
    caller = CallerScript(["11010519491231002*#", "12", "5#", "9"])
    rest = 'GET DATA "" 5000 17'
    assert keys(caller, WAIT, rest) == [digit("1"), "200 result=1010519491231002*"]
    assert keys(caller, WAIT) == [digit("#")]  # the trailing # after a full entry
    played = "200 result=0 endpos=16000"
    assert keys(caller, PLAY, WAIT, rest) == [played, digit("1"), "200 result=2 (timeout)"]
    assert keys(caller, PLAY, WAIT, rest) == [played, digit("5"), "200 result="]  # # alone
    assert keys(caller, PLAY, WAIT) == [played, digit("9")]  # only then the next entry
    assert caller.heard == ["hotline/menu"] * 3 and caller.inputs_taken == 4
    assert not caller.wants_new_input(rest) and caller.wants_new_input('GET DATA "x" 5000 2')


def test_record_file_writes_a_real_wav(tmp_path: Path) -> None:
    caller = CallerScript(["3", "-", "2*", "99"], recordings_dir=tmp_path)
    line = 'RECORD FILE "rec/a" "wav" "#" 60000 BEEP s=3'
    assert caller.respond(line) == "200 result=35 (dtmf) endpos=24000\n"
    with wave.open(str(tmp_path / "rec/a.wav")) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() == 24000
        assert max(wav.readframes(24000)) > 0
    assert caller.respond(line) == "200 result=0 (timeout) endpos=0\n"
    assert caller.respond(line) == "200 result=0 (timeout) endpos=16000\n"  # "*" is no escape
    assert caller.respond('RECORD FILE "/abs/x" "wav" "#" 10000'.replace("/abs", str(tmp_path)))
    with wave.open(str(tmp_path / "x.wav")) as wav:
        assert wav.getnframes() == 80000  # cut at the 10 s limit
    assert caller.recordings == [tmp_path / "rec/a.wav"] * 3 + [tmp_path / "x.wav"]


def test_variables_execs_and_errors() -> None:
    caller = CallerScript(language="zh")
    assert keys(caller, 'SET VARIABLE "HOTLINE_NEXT" "agent"') == ["200 result=1"]
    assert keys(caller, 'GET VARIABLE "HOTLINE_NEXT"', "GET VARIABLE NOPE") == [
        "200 result=1 (agent)",
        "200 result=0",
    ]
    assert keys(caller, 'GET VARIABLE "CHANNEL(language)"') == ["200 result=1 (zh)"]
    assert keys(caller, 'SET VARIABLE CHANNEL(language) "es"') == ["200 result=1"]
    assert caller.language == "es"
    assert keys(caller, 'EXEC "Playback" "a&b,noanswer"', "ANSWER", "NOOP") == ["200 result=0"] * 3
    assert caller.execs == [("Playback", "a&b,noanswer")]
    assert caller.heard == ["a", "b"]
    assert keys(caller, "FROB") == ["510 Invalid or unknown command"]
    assert caller.respond("STREAM FILE").startswith("520-Invalid command syntax.")
    assert caller.respond("STREAM FILE").endswith("\n520 End of proper usage.\n")
    assert keys(caller, "HANGUP") == ["200 result=1"]
    assert caller.hung_up_by_server
