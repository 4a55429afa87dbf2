"""12333, the labour and social-security hotline.

Main menu: 1 personal query (ID number, password, then pension, medical, contributions, password
change), 2 card services (the 96102 machine), 3 policy information, 4 voice message, 0 agent;
6, 7, 8 change the language. In every menu 9 says again what was just said, * goes back up.
"""

from __future__ import annotations

from ivr.domain.hotlines import LABOUR_LINE
from ivr.engine.model import (
    Action,
    Choice,
    Collect,
    End,
    Flow,
    Menu,
    Record,
    Retries,
    Say,
    Sub,
    Value,
)
from ivr.flows.common import ANSWERED, language_choices, language_options, offer_agent

__all__ = ["HOTLINE_12333"]


def password_entry(
    prompt: str,
    store_as: str,
    check: str,
    *,
    next: str,
    on_fail: str,
    no_match: int = 2,
    exits: dict[str, str] | None = None,
) -> Collect:
    """Six secret digits: never logged, never stored, kept in memory only for the call."""
    return Collect(
        prompts=(prompt,),
        store_as=store_as,
        check=check,
        next=next,
        on_fail=on_fail,
        exits=exits or {},
        min_digits=6,
        max_digits=6,
        privacy="secret",
        pattern_error="password_format",
        retries=Retries(no_input=2, no_match=no_match),
    )


HOTLINE_12333 = Flow(
    name=LABOUR_LINE,
    title="12333 labour and social-security hotline",
    start="greeting",
    nodes={
        "greeting": Sub("greeting", {"ok": "main"}),
        "main": Menu(
            prompts=("main_menu_12333",),
            reprompt=("main_menu_12333_short",),
            options={
                "1": "query_identity",
                "2": "cards",
                "3": "policy",
                "4": "message",
                "0": "agent",
                **language_options(),
            },
            on_fail="offer_agent",
        ),
        **language_choices("main"),
        # 1: personal social-insurance query.
        "query_identity": Sub(
            "identity", {"ok": "query_menu", "failed": "offer_agent", "locked": "offer_agent"}
        ),
        "query_menu": Menu(
            prompts=("query_menu",),
            reprompt=("query_menu_short",),
            options={
                "1": "pension",
                "2": "medical",
                "3": "contributions",
                "4": "password_old",
                "*": "main",
                "0": "agent",
            },
            on_fail="offer_agent",
        ),
        "pension": Action("pension_balance", {"ok": "pension_say"}),
        "pension_say": Say(
            ("pension_balance_is", Value("amount", "pension_balance"), ANSWERED),
            next="query_menu",
            serves=True,
        ),
        "medical": Action("medical_account", {"ok": "medical_say", "no_credit": "medical_balance"}),
        "medical_say": Say(
            (
                "medical_balance_is",
                Value("amount", "medical_balance"),
                "medical_last_credit",
                Value("amount", "medical_last_credit"),
                "medical_credited_on",
                Value("date", "medical_last_credit_on"),
                ANSWERED,
            ),
            next="query_menu",
            serves=True,
        ),
        "medical_balance": Say(
            ("medical_balance_is", Value("amount", "medical_balance"), ANSWERED),
            next="query_menu",
            serves=True,
        ),
        "contributions": Action(
            "contribution_record", {"ok": "contributions_say", "none": "contributions_none"}
        ),
        "contributions_say": Say(
            (
                "insured_status_is",
                Choice("insured_status", "insured_status_", ("active", "suspended", "retired")),
                "last_paid_month_is",
                Value("year_month", "last_paid_month"),
                "contribution_base_is",
                Value("amount", "contribution_base"),
                "months_paid_total",
                Value("months", "months_paid"),
                ANSWERED,
            ),
            next="query_menu",
            serves=True,
        ),
        "contributions_none": Say(("no_contribution_record",), next="query_menu"),
        # 4 in the query menu: change the query password (old once, new twice).
        "password_old": password_entry(
            "enter_old_password",
            "old_password",
            "password",
            exits={"locked": "locked"},
            next="password_new",
            on_fail="offer_agent",
        ),
        "password_new": password_entry(
            "enter_new_password",
            "new_password",
            "new_password",
            next="password_again",
            on_fail="password_unchanged",
        ),
        "password_again": password_entry(
            "confirm_new_password",
            "new_password_again",
            "new_password_again",
            next="password_change",
            on_fail="password_unchanged",
            no_match=1,
        ),
        "password_change": Action("change_password", {"ok": "password_changed"}),
        "password_changed": Say(("password_changed", ANSWERED), next="query_menu", serves=True),
        "password_unchanged": Say(("password_unchanged",), next="query_menu"),
        "locked": Say(("account_locked",), next="offer_agent"),
        # 2: card services, the same machine as 96102.
        "cards": Sub("card_services", {"agent": "agent", "back": "main", "failed": "failed"}),
        # 3: policy information, in short items; a lost card has a menu of its own.
        "policy": Menu(
            prompts=("policy_menu",),
            reprompt=("policy_menu_short",),
            options={
                "1": "policy_barcode",
                "2": "lost_card",
                "3": "policy_terminals",
                "4": "policy_law",
                "*": "main",
                "0": "agent",
            },
            on_fail="offer_agent",
        ),
        "policy_barcode": Say(("policy_barcode", ANSWERED), next="policy", serves=True),
        "lost_card": Sub(
            "lost_card_info", {"back": "policy", "agent": "agent", "failed": "failed"}
        ),
        "policy_terminals": Say(("policy_terminals", ANSWERED), next="policy", serves=True),
        "policy_law": Say(("policy_law", ANSWERED), next="policy", serves=True),
        # 4: voice message and a call-back number. The message is saved as soon as it is
        # recorded, with the calling number, so a hang-up afterwards loses nothing.
        "message": Record(
            ("message_instructions",),
            store_as="message",
            kind="voice_message",
            next="message_save",
            max_seconds=120,
        ),
        "message_save": Action("save_voice_message", {"ok": "callback", "empty": "message_empty"}),
        "message_empty": Say(("no_message_recorded",), next="main"),
        "callback": Collect(
            prompts=("callback_number",),
            store_as="callback",
            min_digits=7,
            max_digits=12,
            pattern=r"1[3-9]\d{9}|0\d{9,11}|[2-9]\d{6,7}",
            pattern_error="callback_invalid",
            exits={"#": "message_thanks"},  # # alone: call back the number calling now
            next="callback_save",
            on_fail="message_thanks",
            retries=Retries(no_input=1, no_match=2),
        ),
        "callback_save": Action("set_callback_number", {"ok": "message_thanks"}),
        "message_thanks": End("voice_message", prompts=("message_thanks",), then="hangup"),
        # Ways out. Silence or failures anywhere end in the offer of an agent, and silence there
        # puts the caller through: no call is hung up while the caller may still need help.
        "offer_agent": offer_agent("main"),
        "agent": End("agent", prompts=("transfer_agent",), then="agent"),
        "failed": End("failed", prompts=("transfer_agent",), then="agent"),
    },
)
