"""Sub-flows both hotlines share: the language choice and the caller's identification."""

from __future__ import annotations

from ivr.domain.hotlines import HOTLINES
from ivr.engine.model import DIGITS, Action, Choice, Collect, End, Flow, Menu, Node, Retries

LANGUAGE = Flow(
    name="language",
    title="Greeting and language choice (Mandarin; 7 English, 8 Spanish)",
    start="greeting",
    nodes={
        # Any other key or silence keeps Mandarin: the greeting never traps a caller.
        "greeting": Menu(
            prompts=(Choice("hotline", "greeting_", HOTLINES), "offer_english", "offer_spanish"),
            options={"7": "english", "8": "spanish"},
            default="mandarin",
            timeout=3.0,
        ),
        "english": Action("set_language", {"ok": "done"}, {"language": "en"}),
        "spanish": Action("set_language", {"ok": "done"}, {"language": "es"}),
        "mandarin": Action("set_language", {"ok": "done"}, {"language": "zh"}),
        "done": End("ok"),
    },
)


def identity_flow(name: str, *, statement_instead: bool) -> Flow:
    """ID number then query password; ``statement_instead`` lets a caller without it press ``*``."""
    password_exits = {"locked": "locked"}
    password_prompt = "enter_password"
    if statement_instead:
        password_exits["*"] = "no_password"
        password_prompt = "enter_password_or_statement"
    nodes: dict[str, Node] = {
        "known": Action("identity_known", {"yes": "ok", "no": "enter_id"}),
        "enter_id": Collect(
            prompts=("enter_id",),
            reprompt=("enter_id_short",),
            store_as="id_entry",
            next="enter_password",
            on_fail="id_failed",
            min_digits=15,
            max_digits=18,
            allowed=DIGITS + "*",  # * stands for a final X
            first_timeout=10.0,
            inter_timeout=5.0,
            pattern_error="id_error_length",
            check="resident_id",
            exits={"locked": "locked"},
            privacy="id_number",  # masked whatever is keyed: one short, too long, invalid
            retries=Retries(no_input=2, no_match=2),
        ),
        "enter_password": Collect(
            prompts=(password_prompt,),
            store_as="password",
            next="ok",
            on_fail="password_failed",
            min_digits=6,
            max_digits=6,
            pattern_error="password_format",
            check="password",
            exits=password_exits,
            privacy="secret",
            retries=Retries(no_input=2, no_match=2),
        ),
        "ok": End("ok"),
        "locked": End("locked", prompts=("account_locked",)),
        "id_failed": End("failed", prompts=("id_failed",)),
        "password_failed": End("failed", prompts=("password_failed",)),
    }
    if statement_instead:
        nodes["no_password"] = End("no_password")
    return Flow(
        name=name,
        title="Identification: resident ID number and query password",
        start="known",
        nodes=nodes,
    )


IDENTITY = identity_flow("identity", statement_instead=False)
IDENTITY_FOR_LOSS = identity_flow("identity_loss", statement_instead=True)
