"""The engine's collection, retry and transition semantics on a scripted fake port."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from ivr.engine.context import CallContext
from ivr.engine.model import (
    ALL_KEYS,
    DIGITS,
    Action,
    Collect,
    End,
    Flow,
    Menu,
    Node,
    Once,
    Record,
    Retries,
    Say,
    Sub,
    Value,
)
from ivr.engine.port import CallerHungUp, Recording
from ivr.engine.runner import CheckResult, Engine, FlowError, Hold, Leave, Reject, Verdict
from ivr.speech import readback


class FakePort:
    """Keys arrive as events: a str is a key, None a time-out. ``barge``: the keys pressed
    during each prompt played, in turn ("" for none)."""

    def __init__(self, keys: Sequence[str | None], barge: Sequence[str] = ()) -> None:
        self.keys = list(keys)
        self.barge = list(barge)
        self.played: list[list[str]] = []
        self.interrupts: list[str] = []  # for each prompt played, the keys that cut it short
        self.waits: list[tuple[float, bool]] = []
        self.listens: list[tuple[float, int]] = []  # the rest of an entry read in one go
        self.entries: list[tuple[float, int]] = []  # entries heard with their prompt in one go
        self.sensitive_keys: list[str] = []  # keys the port was told to keep out of its logs
        self.language = "zh"
        self.variables: dict[str, str] = {}

    async def set_language(self, language: str) -> None:
        self.language = language

    async def play(self, sounds: Sequence[str], interrupt: str, *, sensitive: bool = False) -> str:
        self.played.append(list(sounds))
        self.interrupts.append(interrupt)
        pressed = self.barge.pop(0) if self.barge else ""
        for key in pressed:
            self._key(key, sensitive)
        return pressed

    async def wait_digit(
        self, seconds: float, *, first: bool, sensitive: bool = False
    ) -> str | None:
        self.waits.append((seconds, first))
        if not self.keys:
            raise CallerHungUp("script over")
        return self._key(self.keys.pop(0), sensitive)

    async def entry(
        self, sounds: Sequence[str], seconds: float, most: int, *, sensitive: bool = False
    ) -> str:
        """GET DATA with a prompt: the prompt (any key stops it), then the same events as
        ``keys_until_hash``; a time-out first is silence ("")."""
        self.played.append(list(sounds))
        self.interrupts.append(ALL_KEYS)
        self.entries.append((seconds, most))
        return await self._listen(most, sensitive)

    async def keys_until_hash(self, seconds: float, most: int, *, sensitive: bool = False) -> str:
        """GET DATA over the same events: keys until #, ``most`` of them, or a time-out."""
        self.listens.append((seconds, most))
        return await self._listen(most, sensitive)

    async def _listen(self, most: int, sensitive: bool) -> str:
        got = ""
        while len(got) < most:
            if not self.keys:
                raise CallerHungUp("script over")
            key = self._key(self.keys.pop(0), sensitive)
            if key is None:
                break
            got += key
            if key == "#":
                break
        return got

    def _key(self, key: str | None, sensitive: bool) -> str | None:
        if sensitive and key is not None:
            self.sensitive_keys.append(key)
        return key

    async def record(
        self, name: str, *, max_seconds: int, terminator: str, silence_seconds: int
    ) -> Recording | None:
        return None

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value


async def ok_action(ctx: CallContext, args: Mapping[str, str]) -> str:
    ctx.vars.setdefault("ran", []).append(args.get("tag", ""))
    return "ok"


async def even_check(ctx: CallContext, digits: str) -> CheckResult:
    if digits == "0000":
        return Leave("zero")
    return None if int(digits) % 2 == 0 else Reject("odd_number")


def engine_for(*flows: Flow) -> Engine:
    return Engine({f.name: f for f in flows}, {"act": ok_action}, {"even": even_check})


MENU = Flow(
    "m",
    "menu test",
    "menu",
    {
        "menu": Menu(
            ("menu_prompt",),
            {"1": "one"},
            reprompt=("menu_short",),
            on_fail="failed",
            timeout=4.0,
            retries=Retries(no_input=2, no_match=1),
        ),
        "one": End("chose_one", then="hangup"),
        "failed": End("failed", prompts=("bye",)),
    },
)


async def test_menu_escalates_reprompts_then_fails() -> None:
    port = FakePort([None, "5", None, "1"])
    ctx = CallContext(hotline="m")
    end = await engine_for(MENU).run("m", port, ctx)
    # no-input then no-match: reprompt is the short version behind a targeted message
    assert port.played[0] == ["menu_prompt"]
    assert port.played[1] == ["no_input", "menu_short"]
    assert port.played[2] == ["invalid_key", "menu_short"]
    assert port.played[3] == ["no_input", "menu_short"]
    assert end.outcome == "chose_one"
    assert [s.kind for s in ctx.steps] == ["no_input", "no_match", "no_input", "input", "end"]


async def test_menu_counts_no_match_separately_from_no_input() -> None:
    port = FakePort(["5", None, "6"])  # no_match=1 allows one reprompt after a wrong key
    end = await engine_for(MENU).run("m", port, CallContext(hotline="m"))
    assert end.outcome == "failed"
    assert port.played[-2:] == [["invalid_key"], ["bye"]]  # the last failure says what was wrong
    port = FakePort([None, None, "1"])  # two silences are still within no_input=2
    end = await engine_for(MENU).run("m", port, CallContext(hotline="m"))
    assert end.outcome == "chose_one"


async def test_menu_repeat_key_and_path_logged() -> None:
    port = FakePort(["9", "1"])
    ctx = CallContext(hotline="m")
    end = await engine_for(MENU).run("m", port, ctx)
    assert end.outcome == "chose_one" and ctx.outcome == "chose_one" and ctx.then == "hangup"
    assert [(s.node, s.kind, s.key) for s in ctx.steps if s.kind == "input"] == [
        ("m:menu", "input", "9"),
        ("m:menu", "input", "1"),
    ]
    assert port.played == [["menu_prompt"], ["menu_prompt"]]  # a fresh visit, not a reprompt


async def test_the_repeat_key_says_again_what_was_read_back_before_the_menu() -> None:
    flow = Flow(
        "r",
        "repeat test",
        "answer",
        {
            "answer": Say(("balance_is",), next="menu", serves=True),
            "menu": Menu(("menu_prompt",), {"1": "one"}, on_fail="failed"),
            "one": End("chose_one"),
            "failed": End("failed"),
        },
    )
    port = FakePort(["9", "9", "1"])
    end = await engine_for(flow).run("r", port, CallContext(hotline="r"))
    assert end.outcome == "chose_one"
    assert port.played == [["balance_is"], ["menu_prompt"]] * 3


async def test_keys_typed_ahead_during_prompts_reach_the_inputs_that_follow() -> None:
    flow = Flow(
        "t",
        "type-ahead test",
        "hello",
        {
            "hello": Say(("hello",), next="menu"),
            "menu": Menu(("menu_prompt",), {"1": "ask"}, on_fail="failed"),
            "ask": Collect(
                ("enter",), store_as="number", next="answer", on_fail="failed", max_digits=4
            ),
            "answer": Say(("answer",), next="again"),
            "again": Menu(("menu_prompt",), {"2": "two"}, on_fail="failed"),
            "two": End("two"),
            "failed": End("failed"),
        },
    )
    port = FakePort([], barge=["142#2"])  # all keyed during the first prompt
    ctx = CallContext(hotline="t")
    end = await engine_for(flow).run("t", port, ctx)
    assert end.outcome == "two" and ctx.vars["number"] == "42"
    # the prompts the keys answered are not played; the answer is, in full
    assert port.played == [["hello"], ["answer"]] and port.waits == []


async def test_keys_typed_ahead_are_dropped_after_a_failure() -> None:
    port = FakePort(["1"], barge=["5" + "1"])  # 5 is wrong: the 1 keyed after it is dropped
    ctx = CallContext(hotline="m")
    end = await engine_for(MENU).run("m", port, ctx)
    assert end.outcome == "chose_one"
    assert port.played == [["menu_prompt"], ["invalid_key", "menu_short"]]
    assert port.waits == [(4.0, True)]  # the caller had to key 1 again


async def test_menu_barge_in_skips_rest_of_prompt() -> None:
    port = FakePort([], barge=["1"])
    end = await engine_for(MENU).run("m", port, CallContext(hotline="m"))
    assert end.outcome == "chose_one"
    assert port.waits == []  # the key came during the prompt: no wait at all
    assert port.sensitive_keys == []  # a menu's key is no secret: the port may log it


def collect_flow(**overrides: object) -> Flow:
    spec: dict[str, object] = dict(
        prompts=("enter",),
        store_as="number",
        next="done",
        on_fail="failed",
        min_digits=2,
        max_digits=4,
        terminator="#",
        allowed=DIGITS,
        first_timeout=7.0,
        inter_timeout=2.0,
        check="even",
        exits={"zero": "zero", "*": "star"},
        retries=Retries(1, 1),
    )
    spec.update(overrides)
    return Flow(
        "c",
        "collect test",
        "ask",
        {
            "ask": Collect(**spec),  # type: ignore[arg-type]
            "done": End("done"),
            "failed": End("failed"),
            "zero": End("zero"),
            "star": End("star"),
        },
    )


class HungUpDuring(FakePort):
    """The caller hangs up while ``prompt`` plays."""

    def __init__(self, keys: Sequence[str | None], prompt: str) -> None:
        super().__init__(keys)
        self.prompt = prompt

    async def play(self, sounds: Sequence[str], interrupt: str, *, sensitive: bool = False) -> str:
        if self.prompt in sounds:
            raise CallerHungUp("gone during the hold prompt")
        return await super().play(sounds, interrupt, sensitive=sensitive)


def holding_engine(settled: list[str]) -> Engine:
    """A check that always makes the caller hold; its verdict is ``even``'s, noted when done."""

    async def verdict(ctx: CallContext, digits: str) -> Verdict:
        await asyncio.sleep(0.01)  # still working when the hold prompt starts
        result = await even_check(ctx, digits)
        settled.append(digits)
        assert not isinstance(result, Hold)
        return result

    async def slow_check(ctx: CallContext, digits: str) -> CheckResult:
        return Hold("hold_on", verdict(ctx, digits))

    flow = collect_flow()
    return Engine({flow.name: flow}, {"act": ok_action}, {"even": slow_check})


async def test_a_held_check_plays_the_hold_prompt_then_its_verdict_counts() -> None:
    settled: list[str] = []
    port = FakePort(["1", "3", "#", "4", "6", "#"])
    ctx = CallContext(hotline="c")
    end = await holding_engine(settled).run("c", port, ctx)
    assert end.outcome == "done" and ctx.vars["number"] == "46"
    # 13 is odd: held, then rejected (said before asking again); 46 held, then accepted
    assert port.played == [["enter"], ["hold_on"], ["odd_number", "enter"], ["hold_on"]]
    assert settled == ["13", "46"]


async def test_a_caller_gone_during_the_hold_prompt_still_has_the_check_finished() -> None:
    settled: list[str] = []
    port = HungUpDuring(["1", "3", "#"], prompt="hold_on")
    with pytest.raises(CallerHungUp):
        await holding_engine(settled).run("c", port, CallContext(hotline="c"))
    assert settled == ["13"]


async def test_the_hold_prompt_is_heard_whole_and_noted_in_the_call_path() -> None:
    """Keys typed ahead (46# while the entry prompt played) neither skip nor cut the hold
    prompt; the call's path shows it was said."""
    settled: list[str] = []
    port = FakePort(["4", "6", "#"], barge=["13#46#"])
    ctx = CallContext(hotline="c")
    end = await holding_engine(settled).run("c", port, ctx)
    assert end.outcome == "done" and ctx.vars["number"] == "46"
    assert port.played == [["enter"], ["hold_on"], ["odd_number", "enter"], ["hold_on"]]
    assert port.interrupts[1] == port.interrupts[3] == ""
    said = [(s.node, s.detail) for s in ctx.steps if s.kind == "say"]
    assert said == [("c:ask", "hold_on"), ("c:ask", "hold_on")]


async def test_a_caller_gone_while_a_dropped_check_holds_ends_as_a_hang_up() -> None:
    """The check is dropped (the password pool closing cancels the checks it has not started):
    the call still ends with the caller's hang-up, not with the dropped check."""

    async def dropped(ctx: CallContext, digits: str) -> Verdict:
        await asyncio.sleep(0.01)
        raise asyncio.CancelledError

    async def held(ctx: CallContext, digits: str) -> CheckResult:
        return Hold("hold_on", dropped(ctx, digits))

    flow = collect_flow()
    engine = Engine({flow.name: flow}, {"act": ok_action}, {"even": held})
    port = HungUpDuring(["1", "3", "#"], prompt="hold_on")
    with pytest.raises(CallerHungUp):
        await engine.run("c", port, CallContext(hotline="c"))


async def test_collect_first_and_inter_digit_timeouts_keep_digits() -> None:
    port = FakePort(["1", "2", None])  # 12 then the caller stops keying
    ctx = CallContext(hotline="c")
    end = await engine_for(collect_flow()).run("c", port, ctx)
    assert end.outcome == "done" and ctx.vars["number"] == "12"
    # the first key alone (exit keys, no-input), the rest of the entry in one listen
    assert port.waits == [(7.0, True)] and port.listens == [(2.0, 3)]


async def test_collect_terminator_and_max_digits() -> None:
    port = FakePort(["4", "6", "#"])
    ctx = CallContext(hotline="c")
    assert (await engine_for(collect_flow()).run("c", port, ctx)).outcome == "done"
    assert ctx.vars["number"] == "46"
    port = FakePort(["1", "2", "3", "4", None])  # max reached: no terminator needed
    ctx = CallContext(hotline="c")
    assert (await engine_for(collect_flow()).run("c", port, ctx)).outcome == "done"
    assert ctx.vars["number"] == "1234"
    assert port.waits[-1] == (1.5, False)  # a short wait for a trailing terminator


async def test_terminator_after_full_entry_is_swallowed_and_extra_digit_kept() -> None:
    port = FakePort(["1", "2", "3", "4", "#"])
    ctx = CallContext(hotline="c")
    assert (await engine_for(collect_flow()).run("c", port, ctx)).outcome == "done"
    assert ctx.vars["number"] == "1234"
    twice = collect_flow()
    twice = Flow(
        "c", "two entries", "ask", {**twice.nodes, "ask": replace(twice.nodes["ask"], next="ask2"),
                                    "ask2": replace(twice.nodes["ask"], store_as="second")},
    )  # fmt: skip
    port = FakePort(["1", "2", "3", "4", "6", "2", "#"])
    ctx = CallContext(hotline="c")
    assert (await engine_for(twice).run("c", port, ctx)).outcome == "done"
    # the 6 after a full entry is the next input's first key (VoiceXML's type-ahead)
    assert ctx.vars["number"] == "1234" and ctx.vars["second"] == "62"


async def test_collect_check_rejects_with_targeted_prompt_then_fails() -> None:
    port = FakePort(["1", "3", "#", "5", "7", "#"])
    end = await engine_for(collect_flow()).run("c", port, CallContext(hotline="c"))
    assert end.outcome == "failed"
    assert port.played[1] == ["odd_number", "enter"]
    assert port.played[2] == ["odd_number"]  # the last failure, too, says what was wrong


async def test_collect_too_short_is_a_no_match_and_lone_terminator_no_input() -> None:
    port = FakePort(["5", "#", "#", "8", "8", "#"])
    ctx = CallContext(hotline="c")
    end = await engine_for(collect_flow()).run("c", port, ctx)
    assert end.outcome == "done" and ctx.vars["number"] == "88"
    assert port.played[1] == ["invalid_entry", "enter"]
    assert port.played[2] == ["no_input", "enter"]
    assert [s.kind for s in ctx.steps if s.kind != "end"] == ["no_match", "no_input", "input"]


async def test_collect_exit_key_and_check_leave() -> None:
    port = FakePort(["*"])
    assert (await engine_for(collect_flow()).run("c", port, CallContext("c"))).outcome == "star"
    port = FakePort(["0", "0", "0", "0", "#"])
    assert (await engine_for(collect_flow()).run("c", port, CallContext("c"))).outcome == "zero"


async def test_secret_digits_never_logged() -> None:
    flow = collect_flow(privacy="secret")
    port = FakePort(["1", "3", "#", "2", "4", "#"], barge=["5"])
    ctx = CallContext(hotline="c")
    await engine_for(flow).run("c", port, ctx)
    logged = " ".join(f"{s.key} {s.detail}" for s in ctx.steps)
    assert ctx.vars["number"] == "24" and "513" not in logged and "24" not in logged
    assert [s.key for s in ctx.steps if s.kind in ("input", "no_match")] == ["***", "***"]
    # the port is told too, for the key that cut the prompt short as for the others
    assert port.sensitive_keys == ["5", "1", "3", "#", "2", "4", "#"]


async def test_the_node_decides_how_an_entry_is_shown() -> None:
    """An ID-number entry goes through the masker whatever its length or check; a plain entry is
    shown as keyed; the masker is never asked about a plain entry."""
    asked: list[str] = []

    def masker(entry: str) -> str:
        asked.append(entry)
        return f"<{len(entry)}>"

    for privacy, shown, told in (("id_number", ["<3>", "<2>"], 5), ("plain", ["135", "24"], 0)):
        asked.clear()
        engine = Engine(
            {"c": collect_flow(privacy=privacy)}, {}, {"even": even_check}, mask_id_number=masker
        )
        ctx = CallContext(hotline="c")
        port = FakePort(["1", "3", "5", "#", "2", "4", "#"])
        await engine.run("c", port, ctx)
        assert [s.key for s in ctx.steps if s.kind in ("input", "no_match")] == shown
        assert asked == (["135", "24"] if privacy == "id_number" else [])
        assert len(port.sensitive_keys) == (7 if told else 0)


async def test_without_a_masker_an_id_entry_is_hidden_whole() -> None:
    engine = Engine({"c": collect_flow(privacy="id_number", check=None)}, {}, {})
    ctx = CallContext(hotline="c")
    await engine.run("c", FakePort(["4", "2", "#"]), ctx)
    assert [s.key for s in ctx.steps if s.kind == "input"] == ["**"]


async def test_sub_flow_outcome_and_action_results() -> None:
    inner = Flow(
        "inner", "inner", "a", {"a": Action("act", {"ok": "e"}, {"tag": "x"}), "e": End("fine")}
    )
    outer = Flow(
        "outer",
        "outer",
        "s",
        {
            "s": Sub("inner", {"fine": "say"}),
            "say": Say(("done_prompt",), next="end", serves=True),
            "end": End("served", then="hangup"),
        },
    )
    ctx = CallContext(hotline="outer")
    port = FakePort([])
    end = await engine_for(outer, inner).run("outer", port, ctx)
    assert end.outcome == "served" and ctx.served and ctx.vars["ran"] == ["x"]
    assert port.played == [["done_prompt"]]


async def test_unhandled_action_result_is_an_error() -> None:
    async def odd(ctx: CallContext, args: Mapping[str, str]) -> str:
        return "surprise"

    flow = Flow("f", "f", "a", {"a": Action("odd", {"ok": "e"}), "e": End("x")})
    with pytest.raises(FlowError, match="surprise"):
        await Engine({"f": flow}, {"odd": odd}, {}).run("f", FakePort([]), CallContext("f"))


def test_bad_definitions_fail_when_the_engine_is_built() -> None:
    broken = Flow(
        "b",
        "broken",
        "menu",
        {
            "menu": Menu(("p",), {"1": "nowhere"}, on_fail="end"),
            "orphan": Say(("p",), next="end"),
            "act": Action("missing_action", {"ok": "end"}),
            "end": End("x"),
        },
    )
    with pytest.raises(FlowError) as error:
        Engine({"b": broken}, {}, {})
    message = str(error.value)
    assert "unknown 'nowhere'" in message
    assert "unreachable" in message and "orphan" in message
    assert "unknown action 'missing_action'" in message


class RecordingPort(FakePort):
    """A port whose caller speaks ``seconds`` when asked to record (0: says nothing)."""

    def __init__(self, keys: Sequence[str | None], seconds: float, barge: Sequence[str] = ()):
        super().__init__(keys, barge)
        self.seconds = seconds
        self.recorded: list[tuple[str, int, str, int]] = []

    async def record(
        self, name: str, *, max_seconds: int, terminator: str, silence_seconds: int
    ) -> Recording | None:
        self.recorded.append((name, max_seconds, terminator, silence_seconds))
        if not self.seconds:
            return None
        return Recording(Path(f"/data/{name}.wav"), self.seconds, "dtmf")


RECORD = Flow(
    "r",
    "record test",
    "intro",
    {
        "intro": Menu(("press_one",), {"1": "speak"}, on_fail="done"),
        "speak": Record(
            (Once("record_hint"), "speak_after_tone"),
            store_as="said",
            kind="statement",
            next="done",
            max_seconds=30,
        ),
        "done": End("served"),
    },
)


@pytest.mark.parametrize(("seconds", "detail"), [(4.2, "4.2s dtmf"), (0, "nothing said")])
async def test_a_recording_is_stored_as_the_node_says_and_logged_by_length(
    seconds: float, detail: str
) -> None:
    # "1" picks the menu; "5" is pressed during the instructions: not the caller's statement.
    port = RecordingPort(["1"], seconds, barge=["", "5"])
    ctx = CallContext(hotline="r", call_id=42)
    end = await engine_for(RECORD).run("r", port, ctx)
    assert end.outcome == "served"
    assert port.played[1] == ["record_hint", "speak_after_tone"]
    assert port.interrupts[1] == ""  # the instructions are heard whole: the tone follows them
    name, max_seconds, terminator, silence = port.recorded[0]
    assert name.startswith("statement/r-42-") and (max_seconds, terminator, silence) == (30, "#", 5)
    said = ctx.vars["said"]
    assert (said.duration_s if said else 0) == seconds
    assert [(s.node, s.kind, s.detail) for s in ctx.steps if s.kind == "record"] == [
        ("r:speak", "record", detail)
    ]


async def choose_english(ctx: CallContext, args: Mapping[str, str]) -> str:
    ctx.language = "en"
    return "ok"


async def test_the_channel_follows_a_language_an_action_chose_and_only_then() -> None:
    flow = Flow(
        "l",
        "language test",
        "keep",
        {
            "keep": Action("act", {"ok": "switch"}),
            "switch": Action("english", {"ok": "done"}),
            "done": End("served"),
        },
    )
    engine = Engine({"l": flow}, {"act": ok_action, "english": choose_english}, {})
    port = FakePort([])
    languages: list[str] = []
    real = port.set_language

    async def spy(language: str) -> None:
        languages.append(language)
        await real(language)

    port.set_language = spy  # type: ignore[method-assign]
    ctx = CallContext(hotline="l")
    await engine.run("l", port, ctx)
    assert languages == ["en"] and port.language == "en" and ctx.language == "en"


# --- what the call log shows, which keys cut each prompt short ----------------------------------


def path(ctx: CallContext) -> list[tuple[str, str, str, str]]:
    """The call's steps as the console shows them: where, what, the key (as shown), the detail."""
    return [(s.node, s.kind, s.key, s.detail) for s in ctx.steps]


async def test_a_menu_logs_silence_wrong_keys_the_repeat_key_and_the_choice() -> None:
    ctx = CallContext(hotline="m")
    port = FakePort([None, "5", "9", "1"])
    await engine_for(MENU).run("m", port, ctx)
    assert path(ctx) == [
        ("m:menu", "no_input", "", ""),
        ("m:menu", "no_match", "5", ""),
        ("m:menu", "input", "9", "repeat"),
        ("m:menu", "input", "1", ""),
        ("m:one", "end", "", "chose_one"),
    ]
    assert port.interrupts == [ALL_KEYS] * 4  # any key cuts a menu's prompts short


async def test_a_menu_fails_after_one_silence_too_many_and_says_why_to_the_end() -> None:
    port = FakePort([None, None, None])  # no_input=2: the third silence is one too many
    ctx = CallContext(hotline="m")
    end = await engine_for(MENU).run("m", port, ctx)
    assert end.outcome == "failed"
    assert port.played[-3:] == [["no_input", "menu_short"], ["no_input"], ["bye"]]
    # neither the last reason nor the goodbye can be cut short by a key
    assert port.interrupts[-2:] == ["", ""]
    assert [s.kind for s in ctx.steps] == ["no_input"] * 3 + ["end"]


@pytest.mark.parametrize(("keys", "shown"), [([None], ""), (["7"], "7")])
async def test_a_menu_with_a_default_goes_there_at_once_on_silence_or_another_key(
    keys: list[str | None], shown: str
) -> None:
    flow = Flow(
        "d",
        "default test",
        "menu",
        {
            "menu": Menu(("menu_prompt",), {"1": "one"}, default="other"),
            "one": End("one"),
            "other": End("other"),
        },
    )
    ctx = CallContext(hotline="d")
    port = FakePort(keys)
    assert (await engine_for(flow).run("d", port, ctx)).outcome == "other"
    assert port.played == [["menu_prompt"]]  # no reprompt, no complaint
    assert path(ctx)[0] == ("d:menu", "input", shown, "default")


async def test_a_menu_without_barge_in_is_heard_whole_even_with_keys_waiting() -> None:
    flow = Flow(
        "b",
        "no barge-in",
        "hello",
        {
            "hello": Say(("hello",), next="menu"),
            "menu": Menu(
                (Once("keys_hint"), "menu_prompt"), {"1": "one"}, on_fail="x", barge_in=False
            ),
            "one": End("one"),
            "x": End("x"),
        },
    )
    port = FakePort([], barge=["1"])  # keyed during the greeting
    end = await engine_for(flow).run("b", port, CallContext(hotline="b"))
    assert end.outcome == "one" and port.waits == []
    assert port.played == [["hello"], ["keys_hint", "menu_prompt"]]
    assert port.interrupts == ["", ""]


async def test_a_collection_logs_each_entry_as_it_ended() -> None:
    ctx = CallContext(hotline="c")
    await engine_for(collect_flow()).run("c", FakePort(["1", "3", "#", "4", "6", "#"]), ctx)
    assert path(ctx) == [
        ("c:ask", "no_match", "13", "odd_number"),
        ("c:ask", "input", "46", "terminator"),
        ("c:done", "end", "", "done"),
    ]
    ctx = CallContext(hotline="c")
    await engine_for(collect_flow()).run("c", FakePort(["*"]), ctx)
    assert path(ctx)[0] == ("c:ask", "input", "*", "exit")
    ctx = CallContext(hotline="c")
    await engine_for(collect_flow()).run("c", FakePort(["0", "0", "0", "0", "#"]), ctx)
    assert path(ctx)[0] == ("c:ask", "input", "0000", "zero")


async def test_a_collection_counts_repeated_silence_and_fails_on_one_too_many() -> None:
    flow = collect_flow(retries=Retries(no_input=1, no_match=1))
    port = FakePort([None, None])
    ctx = CallContext(hotline="c")
    assert (await engine_for(flow).run("c", port, ctx)).outcome == "failed"
    assert port.played == [["enter"], ["no_input", "enter"], ["no_input"]]
    assert port.interrupts[-1] == ""  # the reason it failed is heard whole
    # one silence is within the limit: the entry after it is taken
    port = FakePort([None, "4", "6", "#"])
    ctx = CallContext(hotline="c")
    assert (await engine_for(flow).run("c", port, ctx)).outcome == "done"
    assert ctx.vars["number"] == "46"
    assert [s.kind for s in ctx.steps] == ["no_input", "input", "end"]


async def test_a_key_the_entry_does_not_take_is_a_wrong_entry() -> None:
    port = FakePort(["1", "*", None, "4", "6", "#"])  # * is an exit only as the first key
    ctx = CallContext(hotline="c")
    end = await engine_for(collect_flow(check=None)).run("c", port, ctx)
    assert end.outcome == "done" and ctx.vars["number"] == "46"
    assert port.played[1] == ["invalid_entry", "enter"]
    assert path(ctx)[0] == ("c:ask", "no_match", "1*", "invalid_entry")


async def test_an_entry_must_match_the_node_s_pattern() -> None:
    flow = collect_flow(check=None, pattern=r"[1-9]\d*", pattern_error="no_leading_zero")
    port = FakePort(["0", "5", "#", "5", "0", "#"])
    ctx = CallContext(hotline="c")
    assert (await engine_for(flow).run("c", port, ctx)).outcome == "done"
    assert ctx.vars["number"] == "50"
    assert port.played[1] == ["no_leading_zero", "enter"]


async def test_a_check_sees_the_call_it_checks_for() -> None:
    async def same_as_first(ctx: CallContext, digits: str) -> CheckResult:
        return None if digits == ctx.vars["first"] else Reject("not_the_same")

    ask = collect_flow(check=None, exits={}).nodes["ask"]
    assert isinstance(ask, Collect)
    flow = Flow(
        "p",
        "twice",
        "first",
        {
            "first": replace(ask, store_as="first", next="again"),
            "again": replace(ask, store_as="second", next="done", check="same"),
            "done": End("done"),
            "failed": End("failed"),
        },
    )
    engine = Engine({"p": flow}, {}, {"same": same_as_first})
    port = FakePort(["4", "2", "#", "4", "3", "#", "4", "2", "#"])
    ctx = CallContext(hotline="p")
    assert (await engine.run("p", port, ctx)).outcome == "done"
    assert ctx.vars["second"] == "42"
    assert port.played[2] == ["not_the_same", "enter"]


async def test_keys_that_cut_a_collection_prompt_short_and_keys_pressed_during_it() -> None:
    flow = collect_flow(allowed="123456789", exits={"zero": "zero", "*": "star", "0": "zero"})
    port = FakePort(["6", "#"], barge=["4"])  # the 4 is keyed during the prompt
    ctx = CallContext(hotline="c")
    assert (await engine_for(flow).run("c", port, ctx)).outcome == "done"
    assert ctx.vars["number"] == "46"
    assert port.interrupts == ["123456789#*0"]  # the digits it takes, its terminator, its exits
    port = FakePort(["4", "6", "#"])
    await engine_for(collect_flow(barge_in=False)).run("c", port, CallContext(hotline="c"))
    assert port.interrupts == [""]


async def test_a_collection_without_barge_in_is_heard_whole_even_with_keys_waiting() -> None:
    flow = collect_flow(barge_in=False)
    flow = Flow("c", "c", "hello", {**flow.nodes, "hello": Say(("hello",), next="ask")})
    port = FakePort(["#"], barge=["46"])
    ctx = CallContext(hotline="c")
    assert (await engine_for(flow).run("c", port, ctx)).outcome == "done"
    assert port.played == [["hello"], ["enter"]] and ctx.vars["number"] == "46"


async def test_after_a_failure_a_collection_asks_with_its_reprompt_and_says_a_hint_once() -> None:
    flow = collect_flow(prompts=(Once("keys_hint"), "enter"), reprompt=("enter_short",))
    port = FakePort([None, "4", "6", "#"])
    assert (await engine_for(flow).run("c", port, CallContext(hotline="c"))).outcome == "done"
    assert port.played == [["keys_hint", "enter"], ["no_input", "enter_short"]]
    flow = collect_flow(prompts=(Once("keys_hint"), "enter"))
    port = FakePort([None, "4", "6", "#"])
    assert (await engine_for(flow).run("c", port, CallContext(hotline="c"))).outcome == "done"
    assert port.played == [["keys_hint", "enter"], ["no_input", "enter"]]


async def test_a_say_is_logged_by_its_prompt_keys_never_its_values() -> None:
    flow = Flow(
        "s",
        "say test",
        "answer",
        {
            "answer": Say(
                (Once("keys_hint"), "balance_is", Value("amount", "balance")), next="end"
            ),
            "end": End("served"),
        },
    )
    ctx = CallContext(hotline="s", vars={"balance": "12.50"})
    port = FakePort([])
    await engine_for(flow).run("s", port, ctx)
    assert port.played == [["keys_hint", "balance_is", *readback.amount("zh", Decimal("12.5"))]]
    assert path(ctx)[0] == ("s:answer", "say", "", "keys_hint balance_is <balance>")
    assert port.interrupts == [""]  # a plain Say plays to the end


async def test_a_say_with_barge_in_is_skipped_when_the_caller_keyed_ahead() -> None:
    flow = Flow(
        "g",
        "greeting",
        "hello",
        {
            "hello": Say(("hello",), next="greeting"),
            "greeting": Say(("long_greeting",), next="menu", barge_in=True),
            "menu": Menu(("menu_prompt",), {"1": "one"}, on_fail="one"),
            "one": End("one"),
        },
    )
    port = FakePort([], barge=["1"])
    assert (await engine_for(flow).run("g", port, CallContext(hotline="g"))).outcome == "one"
    assert port.played == [["hello"]]
    port = FakePort(["1"])
    await engine_for(flow).run("g", port, CallContext(hotline="g"))
    assert port.interrupts == ["", ALL_KEYS, ALL_KEYS]


async def test_the_last_words_are_heard_whole_with_the_values_they_read() -> None:
    flow = Flow(
        "e",
        "end test",
        "hello",
        {
            "hello": Say(("hello",), next="end"),
            "end": End("served", prompts=("reference_is", Value("digits", "ref"))),
        },
    )
    port = FakePort([], barge=["5"])  # a key waiting does not skip the goodbye
    ctx = CallContext(hotline="e", vars={"ref": "42"})
    await engine_for(flow).run("e", port, ctx)
    assert port.played == [["hello"], ["reference_is", *readback.digits("zh", "42")]]
    assert port.interrupts == ["", ""]


async def test_after_a_sub_flow_the_caller_is_back_in_the_outer_node() -> None:
    inner = Flow("inner", "inner", "a", {"a": Action("act", {"ok": "e"}), "e": End("odd")})
    outer = Flow("outer", "outer", "s", {"s": Sub("inner", {"fine": "end"}), "end": End("x")})
    seen: list[str] = []
    ctx = CallContext(hotline="outer", observer=lambda c: seen.append(c.node))
    with pytest.raises(FlowError, match=r"outer:s: no transition for result 'odd'"):
        await engine_for(outer, inner).run("outer", FakePort([]), ctx)
    assert seen == ["outer:s", "inner:a", "inner:e", "outer:s"] and ctx.node == "outer:s"


async def test_an_action_is_logged_with_its_result_and_an_unknown_result_names_the_node() -> None:
    flow = Flow("f", "f", "a", {"a": Action("act", {"ok": "e"}), "e": End("x")})
    ctx = CallContext(hotline="f")
    await engine_for(flow).run("f", FakePort([]), ctx)
    assert path(ctx)[0] == ("f:a", "action", "", "act: ok")

    async def odd(ctx: CallContext, args: Mapping[str, str]) -> str:
        return "surprise"

    with pytest.raises(FlowError, match=r"^f:a: no transition for result 'surprise'$"):
        await Engine({"f": flow}, {"act": odd}, {}).run("f", FakePort([]), CallContext("f"))


async def test_a_refused_check_that_leaves_by_an_unknown_exit_names_the_node() -> None:
    async def locked(ctx: CallContext, digits: str) -> CheckResult:
        return Leave("locked")

    engine = Engine({"c": collect_flow()}, {}, {"even": locked})
    with pytest.raises(FlowError, match=r"^c:ask: no transition for result 'locked'$"):
        await engine.run("c", FakePort(["4", "6", "#"]), CallContext(hotline="c"))


def test_each_problem_of_a_definition_is_on_its_own_line() -> None:
    broken = Flow(
        "b",
        "broken",
        "menu",
        {
            "menu": Menu(("p",), {"1": "nowhere"}, on_fail="end"),
            "act": Action("missing_action", {"ok": "end"}),
            "end": End("x"),
        },
    )
    with pytest.raises(FlowError) as error:
        Engine({"b": broken}, {}, {})
    assert str(error.value).splitlines() == [
        "invalid flow definitions:",
        "  b:menu: transition 'key 1' -> unknown 'nowhere'",
        "  b:act: unknown action 'missing_action'",
        "  b: unreachable nodes ['act']",
    ]


def entry_flow(exits: Mapping[str, str]) -> Flow:
    """``collect_flow``'s entry, no check, with only ``exits`` (to ``star``) as ways out."""
    ask = collect_flow(check=None, exits=exits).nodes["ask"]
    nodes: dict[str, Node] = {"ask": ask, "done": End("done"), "failed": End("failed")}
    if exits:
        nodes["star"] = End("star")
    return Flow("c", "entry test", "ask", nodes)


async def test_an_entry_ended_by_hash_is_heard_with_its_prompt_in_one_listen() -> None:
    flow = entry_flow({})
    port = FakePort(["4", "2", "#"])
    ctx = CallContext(hotline="c")
    assert (await Engine({"c": flow}, {}, {}).run("c", port, ctx)).outcome == "done"
    assert ctx.vars["number"] == "42"
    assert port.entries == [(2.0, 4)]  # the inter-digit time-out, the most digits
    assert port.played == [["enter"]]
    assert port.interrupts == [ALL_KEYS]  # the first key stops the prompt, whatever it is
    assert port.waits == [] and port.listens == []  # no key read alone, no second listen


async def test_silence_through_the_listen_waits_out_the_rest_of_the_first_key_time() -> None:
    flow = entry_flow({})
    port = FakePort([None, "6", "4", "#"])  # nothing within 2 s, then the caller keys
    ctx = CallContext(hotline="c")
    assert (await Engine({"c": flow}, {}, {}).run("c", port, ctx)).outcome == "done"
    assert ctx.vars["number"] == "64"
    assert port.waits == [(5.0, True)]  # 7 s first-key time-out, 2 of them already waited
    assert port.listens == [(2.0, 3)]


async def test_an_entry_a_key_may_leave_at_once_reads_its_first_key_alone() -> None:
    flow = entry_flow({"*": "star"})  # * must not wait for more keys
    port = FakePort(["*"])
    ctx = CallContext(hotline="c")
    assert (await Engine({"c": flow}, {}, {}).run("c", port, ctx)).outcome == "star"
    assert port.entries == []
    assert port.waits == [(7.0, True)]


async def test_a_hash_alone_in_the_listen_is_the_entry_s_hash_exit() -> None:
    flow = entry_flow({"#": "star"})  # # alone: a choice (call back here)
    port = FakePort(["#"])
    ctx = CallContext(hotline="c")
    assert (await Engine({"c": flow}, {}, {}).run("c", port, ctx)).outcome == "star"
    assert port.entries == [(2.0, 4)]
