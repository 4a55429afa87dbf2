"""The pure wire functions, on reply transcripts as Asterisk writes them."""

from __future__ import annotations

import pytest

from ivr.agi.errors import AGIProtocolError
from ivr.agi.protocol import (
    COMMAND_NAMES,
    Reply,
    command_name,
    describe_command,
    format_command,
    multiline_code,
    parse_header_line,
    parse_reply,
    quote_argument,
)


@pytest.mark.parametrize(
    ("raw", "code", "result", "data", "endpos"),
    [
        ("200 result=0", 200, "0", None, None),
        ("200 result=1", 200, "1", None, None),
        ("200 result=-1", 200, "-1", None, None),
        ("200 result=0 endpos=1234", 200, "0", None, 1234),
        ("200 result=49 endpos=800", 200, "49", None, 800),
        ("200 result=-1 endpos=0", 200, "-1", None, 0),
        ("200 result=1 (dtmf) endpos=1234", 200, "1", "dtmf", 1234),
        ("200 result=35 (dtmf) endpos=40000", 200, "35", "dtmf", 40000),
        ("200 result=0 (timeout) endpos=80000", 200, "0", "timeout", 80000),
        ("200 result=-1 (hangup) endpos=34400", 200, "-1", "hangup", 34400),
        ("200 result=-1 (writefile)", 200, "-1", "writefile", None),
        ("200 result=123 (timeout)", 200, "123", "timeout", None),
        ("200 result= (timeout)", 200, "", "timeout", None),
        ("200 result=110105", 200, "110105", None, None),
        ("200 result=1 (zh)", 200, "1", "zh", None),
        ("200 result=1 (some value (x))", 200, "1", "some value (x)", None),
        ("200 result=1 (a) (b)", 200, "1", "a) (b", None),
        ("200 result=1 ()", 200, "1", "", None),
        ("200 result=1 (a) b", 200, "1", "(a) b", None),  # parentheses only round the whole
        ("200 result=1 a (b)", 200, "1", "a (b)", None),
        ("200 result=1 (x endpos=5)", 200, "1", "x endpos=5", None),
        ("200 result=0 Gosub complete", 200, "0", "Gosub complete", None),
        ("100 result=0 Trying...", 100, "0", "Trying...", None),
        ("510 Invalid or unknown command", 510, "", "Invalid or unknown command", None),
        (
            "511 Command Not Permitted on a dead channel or intercept routine",
            511,
            "",
            "Command Not Permitted on a dead channel or intercept routine",
            None,
        ),
        ("503 result=-2 Memory allocation failure", 503, "-2", "Memory allocation failure", None),
        ("200 result=0\r\n", 200, "0", None, None),
    ],
)
def test_single_line_replies(
    raw: str, code: int, result: str, data: str | None, endpos: int | None
) -> None:
    reply = parse_reply(raw)
    assert (reply.code, reply.result, reply.data, reply.endpos) == (code, result, data, endpos)
    assert reply.raw == raw.rstrip("\r\n")


def test_multi_line_usage_reply() -> None:
    lines = [
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: STREAM FILE <filename> <escape_digits> [sample offset]",
        "  Send the given file, allowing playback to be interrupted by the given digits.",
        "520 End of proper usage.",
    ]
    assert multiline_code(lines[0]) == "520"
    assert multiline_code(lines[3]) is None
    reply = parse_reply(lines)
    assert reply.code == 520
    assert reply.result == ""
    assert reply.data is not None and reply.data.startswith(" Usage: STREAM FILE")
    assert reply.data.count("\n") == 1
    assert reply.raw == "\n".join(lines)
    assert parse_reply("\n".join(lines)) == reply


def test_line_ends_are_cut_and_nothing_else() -> None:
    lines = ["520-Invalid command syntax.\r", " Usage: SAY ALPHA X\r", "520 End of proper usage.\r"]
    assert parse_reply(lines).data == " Usage: SAY ALPHA X"
    assert parse_reply("100 result=0 Trying X\r\n").data == "Trying X"
    assert parse_reply("510 \r\n") == Reply(510, "", None, None, "510 ")


@pytest.mark.parametrize(
    "last",
    [None, "520-more usage", "200 result=0"],  # no end; an end that goes on; another reply's code
)
def test_unterminated_multi_line_reply_is_a_protocol_error(last: str | None) -> None:
    lines = ["520-Invalid command syntax.  Proper usage follows:", " Usage: x"]
    with pytest.raises(AGIProtocolError) as refused:
        parse_reply(lines if last is None else [*lines, last])
    assert str(refused.value).startswith("unterminated multi-line reply: '520-Invalid")
    with pytest.raises(AGIProtocolError) as refused:
        parse_reply(["520-" + "u" * 200])
    assert str(refused.value) == f"unterminated multi-line reply: {'520-' + 'u' * 116!r}"


def test_a_reply_that_is_not_agi_is_quoted_in_the_refusal_at_most_120_characters() -> None:
    with pytest.raises(AGIProtocolError) as refused:
        parse_reply("HTTP/1.1 400 Bad Request" + "x" * 200)
    assert str(refused.value) == f"not an AGI reply: {'HTTP/1.1 400 Bad Request' + 'x' * 96!r}"


@pytest.mark.parametrize("raw", ["", "hello", "20 result=0", "HANGUP", "2000 result=0"])
def test_garbage_is_a_protocol_error(raw: str) -> None:
    with pytest.raises(AGIProtocolError):
        parse_reply(raw)


def test_result_int() -> None:
    assert parse_reply("200 result=-1").result_int == -1
    assert parse_reply("200 result=35 (dtmf) endpos=1").result_int == 35
    with pytest.raises(AGIProtocolError):
        _ = parse_reply("510 Invalid or unknown command").result_int
    assert isinstance(parse_reply("200 result=0"), Reply)


def test_header_lines() -> None:
    assert parse_header_line("agi_network: yes\n") == ("agi_network", "yes")
    assert parse_header_line("agi_network_script: 12333?x=1") == ("agi_network_script", "12333?x=1")
    assert parse_header_line("agi_accountcode: \n") == ("agi_accountcode", "")
    assert parse_header_line("agi_accountcode:") == ("agi_accountcode", "")
    assert parse_header_line("agi_calleridname: A: B ") == ("agi_calleridname", "A: B ")
    assert parse_header_line("agi_arg_1: x\r\n") == ("agi_arg_1", "x")
    # Only the line end is cut: an ID number's final X stays.
    assert parse_header_line("agi_arg_1: 11010519491231002X\r\n") == (
        "agi_arg_1",
        "11010519491231002X",
    )
    assert parse_header_line("\n") is None
    assert parse_header_line("") is None


@pytest.mark.parametrize("line", ["GET / HTTP/1.1", "Host: example", "agi network: yes", "x"])
def test_non_agi_header_lines_are_refused(line: str) -> None:
    with pytest.raises(AGIProtocolError):
        parse_header_line(line)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("hotline/welcome", '"hotline/welcome"'),
        ("", '""'),
        ("two words", '"two words"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("C:\\path\\", '"C:\\\\path\\\\"'),
        ('\\"', '"\\\\\\""'),
        ("您好", '"您好"'),
    ],
)
def test_quote_argument(value: str, quoted: str) -> None:
    assert quote_argument(value) == quoted


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\0b", "end\n"])
def test_quote_argument_refuses_line_breaks(value: str) -> None:
    with pytest.raises(ValueError, match="line break or NUL"):
        quote_argument(value)


def test_format_command() -> None:
    assert format_command("ANSWER") == "ANSWER\n"
    assert format_command("STREAM", "FILE", '"x"', '""') == 'STREAM FILE "x" ""\n'
    with pytest.raises(ValueError):
        format_command()
    with pytest.raises(ValueError):
        format_command("VERBOSE", "a\nANSWER")


@pytest.mark.parametrize("bad", ["a\nANSWER", "a\rb", "a\0b"])
def test_format_command_refuses_a_word_that_would_cut_the_line(bad: str) -> None:
    # The message names the offending word, not the command's harmless first one.
    with pytest.raises(ValueError, match="line break or NUL") as refused:
        format_command("VERBOSE", bad, "1")
    assert repr(bad) in str(refused.value)
    assert "VERBOSE" not in str(refused.value)


def test_describe_command_masks_sensitive_arguments() -> None:
    words = ("SET", "VARIABLE", '"PIN"', '"123456"')
    assert describe_command(words) == 'SET VARIABLE "PIN" "123456"'
    assert describe_command(words, sensitive=True) == "SET VARIABLE *** ***"
    assert (
        describe_command(("WAIT", "FOR", "DIGIT", "5000"), sensitive=True) == "WAIT FOR DIGIT ***"
    )
    assert describe_command(("get", "data", '"f"'), sensitive=True) == "get data ***"
    assert describe_command(("SET", "FILE", "x"), sensitive=True) == "SET *** ***"
    assert describe_command(("ANSWER",), sensitive=True) == "ANSWER"


def test_a_line_that_is_not_agi_is_quoted_in_the_refusal_at_most_80_characters() -> None:
    with pytest.raises(AGIProtocolError) as refused:
        parse_header_line("GET / HTTP/1.1" + "x" * 200)
    assert str(refused.value) == f"not an AGI header line: {'GET / HTTP/1.1' + 'x' * 66!r}"


def test_command_name_is_the_command_without_its_arguments_from_a_fixed_set() -> None:
    assert command_name(("STREAM", "FILE", '"hotline/welcome"', '""')) == "STREAM FILE"
    assert command_name(("wait", "for", "digit", "5000")) == "WAIT FOR DIGIT"
    assert command_name(("CONTROL", "STREAM", "FILE", "x")) == "CONTROL STREAM FILE"
    assert command_name(("ANSWER",)) == "ANSWER"
    assert command_name(("SET", "FILE", "x")) == "OTHER"  # not res_agi's: no name invented
    assert command_name(("PLAY", "ANYTHING")) == "OTHER"
    named = {command_name((*name.split(), "arg")) for name in COMMAND_NAMES - {"OTHER"}}
    assert named == COMMAND_NAMES - {"OTHER"} and "SET VARIABLE" in named
