"""What both hotlines share: the greeting and its language offers, the language keys, the caller's
identification, and the words said after an answer.

The greeting is not a menu of its own: it plays in the language the caller chose last time (or
Mandarin), offers the other two, and any key stops it. Keys 6, 7 and 8 then change the language
in the main menu (which replays in the new language); any other key is the main menu's choice, so
``1`` keyed at once starts the query.
"""

from __future__ import annotations

from ivr.domain.hotlines import HOTLINES
from ivr.engine.model import (
    DIGITS,
    Action,
    Choice,
    Collect,
    End,
    Flow,
    Menu,
    Node,
    Once,
    Retries,
    Say,
)
from ivr.speech.catalog import LANGUAGES

__all__ = [
    "ANSWERED",
    "GREETING",
    "IDENTITY",
    "IDENTITY_FOR_LOSS",
    "LANGUAGE_KEYS",
    "language_choices",
    "language_options",
    "offer_agent",
]

# The key of each language, in the main menus; the greeting offers the others in their own voice.
LANGUAGE_KEYS = {"6": "zh", "7": "en", "8": "es"}
OFFERS = {"zh": "offer_mandarin", "en": "offer_english", "es": "offer_spanish"}
# Said after an answer (a balance, a status, a reference, a policy item), the first time in a
# call only: the keys that work in every menu (9 again, * back).
ANSWERED = Once("keys_hint")


def _greeting(language: str) -> Say:
    others = tuple(OFFERS[other] for other in LANGUAGES if other != language)
    return Say((Choice("hotline", "greeting_", HOTLINES), *others), next="done", barge_in=True)


GREETING = Flow(
    name="greeting",
    title="Greeting in the caller's language (remembered, else Mandarin) and the others' offers",
    start="recall",
    nodes={
        "recall": Action("recall_language", {language: language for language in LANGUAGES}),
        **{language: _greeting(language) for language in LANGUAGES},
        "done": End("ok"),
    },
)


def language_options() -> dict[str, str]:
    """A main menu's language keys -> the nodes ``language_choices`` defines."""
    return {key: f"speak_{language}" for key, language in LANGUAGE_KEYS.items()}


def language_choices(then: str) -> dict[str, Node]:
    """The nodes that switch the call to a language, remember the choice, and go to ``then``."""
    return {
        f"speak_{language}": Action("choose_language", {"ok": then}, {"language": language})
        for language in LANGUAGE_KEYS.values()
    }


def offer_agent(back: str) -> Menu:
    """After silence or failures anywhere: ``0``, silence or any other key put the caller through
    (to the agents in their hours, to a voice message outside them: the dialplan decides), ``*``
    goes back to ``back``. The flow ends ``agent`` or ``failed`` (the menus gave up)."""
    return Menu(prompts=("offer_agent",), options={"0": "agent", "*": back}, default="failed")


def identity_flow(name: str, *, statement_instead: bool) -> Flow:
    """ID number then query password; ``statement_instead`` lets a caller without it press ``*``.

    After a wrong password the prompt says what the initial password is; the wrong password
    before the last one allowed warns of the lock (the check says which one that is)."""
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
            reprompt=(f"{password_prompt}_hint",),
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
