"""Flow definitions checked when the engine is built: each kind of mistake is named with where it
is, and every prompt a flow can play is known before a call (so a missing sound fails at start)."""

from __future__ import annotations

from ivr.engine.checks import check_flows, prompt_keys
from ivr.engine.model import (
    Action,
    Choice,
    Collect,
    End,
    Flow,
    Menu,
    Once,
    Record,
    Say,
    Sub,
    Value,
)


def test_each_kind_of_mistake_is_named_with_where_it_is() -> None:
    flows = {
        "lost": Flow("lost", "no start", "nowhere", {"end": End("x")}),
        "b": Flow(
            "b",
            "broken",
            "menu",
            {
                "menu": Menu(("p",), {"1": "ghost", "2": "say", "3": "sub"}),
                "say": Say(("p",), next=""),
                "sub": Sub("missing", {"x": "act"}),
                "act": Action("unknown", {"ok": "ask"}),
                "ask": Collect(("p",), "n", next="again", on_fail="again", check="nope"),
                "again": Menu(("p",), {"9": "ask"}, default="ask", repeat="9"),
                "alone": Say(("p",), next="ask"),
            },
        ),
    }
    assert check_flows(flows, actions={"known": None}, checks={"fine": None}) == [
        "lost: start node 'nowhere' is not defined",
        "b:menu: transition 'key 1' -> unknown 'ghost'",
        "b:menu: a menu needs on_fail or default",
        "b:say: transition '' has no target",
        "b:sub: unknown sub-flow 'missing'",
        "b:act: unknown action 'unknown'",
        "b:ask: unknown check 'nope'",
        "b:again: key 9 repeats, it is no option",
        "b: unreachable nodes ['alone']",
        "b: no End node",
    ]


def test_sound_flows_have_no_problem() -> None:
    flows = {
        "main": Flow(
            "main",
            "main",
            "menu",
            {
                "menu": Menu(("p",), {"1": "sub"}, on_fail="end", repeat=""),
                "sub": Sub("inner", {"done": "ask"}),
                "ask": Collect(("p",), "n", next="act", on_fail="end", check="fine"),
                "act": Action("known", {"ok": "end"}),
                "end": End("served"),
            },
        ),
        "inner": Flow("inner", "inner", "e", {"e": End("done")}),
    }
    assert check_flows(flows, actions={"known": None}, checks={"fine": None}) == []


def test_every_prompt_a_flow_can_play_is_known_before_a_call() -> None:
    flow = Flow(
        "f",
        "every prompt",
        "menu",
        {
            "menu": Menu(
                ("menu_p", Once("hint")),
                {"1": "ask"},
                reprompt=("menu_short",),
                no_input_prompt="menu_silence",
                no_match_prompt="menu_wrong",
                on_fail="end",
            ),
            "ask": Collect(
                ("ask_p", Value("digits", "n")),
                "n",
                next="say",
                on_fail="end",
                reprompt=("ask_short",),
                no_input_prompt="ask_silence",
                pattern_error="ask_wrong",
            ),
            "say": Say(("say_p", Choice("status", "status_", ("a", "b"))), next="rec"),
            "rec": Record(("rec_p",), store_as="r", kind="statement", next="act"),
            "act": Action("known", {"ok": "sub"}),
            "sub": Sub("f", {"x": "end"}),
            "end": End("x", prompts=("end_p",)),
        },
    )
    assert prompt_keys([flow]) == {
        "menu_p",
        "hint",
        "menu_short",
        "menu_silence",
        "menu_wrong",
        "ask_p",
        "ask_short",
        "ask_silence",
        "ask_wrong",
        "say_p",
        "status_a",
        "status_b",
        "rec_p",
        "end_p",
    }
