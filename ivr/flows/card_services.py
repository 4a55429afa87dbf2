"""Social-security card services: the 96102 line, also reached from 12333 with key 2.

Provisional loss report (settlement stops at once), card status (re-issue progress included),
lifting a provisional report, and how to get a new card (``LOST_CARD_INFO``, also 12333's policy
key 2). A caller without the query password can still report by recorded statement; the report
then waits for staff verification.

The loss report is read back as soon as it is made (the reference, then what to do next); a
statement about the loss is offered after it, and 9 says the reference again.
"""

from __future__ import annotations

from ivr.engine.model import Action, End, Flow, Menu, Node, Record, Retries, Say, Sub, Value
from ivr.flows.common import ANSWERED, language_choices, language_options, offer_agent

__all__ = ["CARD_SERVICES", "LOST_CARD_INFO"]

REFERENCE = ("your_reference", Value("digits", "reference"))
IDENTIFIED = {"failed": "offer_agent", "locked": "offer_agent"}
ENDS = {"agent": "agent", "back": "menu", "failed": "failed"}  # of the lost-card sub-flow


_nodes: dict[str, Node] = {
    "menu": Menu(
        prompts=("card_menu",),
        reprompt=("card_menu_short",),
        options={
            "1": "loss_identity",
            "2": "status_identity",
            "3": "lift_identity",
            "4": "info",
            "0": "agent",
            "*": "back",
            **language_options(),
        },
        on_fail="offer_agent",
    ),
    **language_choices("menu"),
    "info": Sub("lost_card_info", ENDS),
    # Provisional loss report.
    "loss_identity": Sub(
        "identity_loss",
        {
            "ok": "loss_card",
            "no_password": "unverified_record",
            "locked": "unverified_offer",
            "failed": "offer_agent",
        },
    ),
    "loss_card": Action(
        "card_for_loss", {"ok": "loss_confirm", "already": "status_check", "no_card": "no_card"}
    ),
    "loss_confirm": Menu(
        prompts=("loss_confirm_card", Value("digits", "card_tail"), "confirm_or_cancel"),
        options={"1": "loss_report", "2": "loss_cancelled"},
        retries=Retries(no_input=2, no_match=2),
        on_fail="loss_cancelled",
    ),
    "loss_cancelled": Say(("loss_cancelled",), next="menu"),
    "loss_report": Action("report_loss", {"ok": "loss_reference", "already": "status_check"}),
    "loss_reference": Say(
        (
            "loss_reported",
            *REFERENCE,
            "next_steps_before",
            Value("date", "lapses_on"),
            "next_steps_after",
            ANSWERED,
        ),
        next="after_report",
        serves=True,
    ),
    "after_report": Menu(
        prompts=("after_report_options",),
        options={"1": "statement_record", "2": "after_report_info", "0": "agent", "*": "menu"},
        on_fail="offer_agent",
    ),
    "after_report_info": Sub("lost_card_info", {**ENDS, "back": "after_report"}),
    "statement_record": Record(
        ("statement_instructions",),
        store_as="statement",
        kind="statement",
        next="statement_save",
        max_seconds=60,
    ),
    "statement_save": Action("attach_statement", {"ok": "statement_thanks", "empty": "menu"}),
    "statement_thanks": Say(("statement_saved",), next="menu"),
    # Report by recorded statement, verified later by staff.
    "unverified_offer": Menu(
        prompts=("statement_without_password_offer",),
        options={"1": "unverified_record", "0": "agent"},
        default="offer_agent",
    ),
    "unverified_record": Record(
        ("unverified_statement_instructions",),
        store_as="statement",
        kind="statement",
        next="unverified_save",
        max_seconds=60,
    ),
    "unverified_save": Action(
        "report_unverified", {"ok": "unverified_reference", "empty": "unverified_empty"}
    ),
    "unverified_empty": Say(("no_statement_recorded",), next="offer_agent"),
    "unverified_reference": Say(
        ("unverified_recorded", *REFERENCE, "unverified_next_steps", ANSWERED),
        next="menu",
        serves=True,
    ),
    # Card status, re-issue progress included.
    "status_identity": Sub("identity", {"ok": "status_check", **IDENTIFIED}),
    "status_check": Action(
        "card_status",
        {
            "normal": "status_normal",
            "provisional": "status_provisional",
            "needs_verification": "status_verification",
            "formal": "status_formal",
            "ready": "status_ready",
            "no_card": "no_card",
        },
    ),
    "status_normal": Say(("status_normal", ANSWERED), next="menu", serves=True),
    "status_provisional": Say(
        (
            "status_provisional_since",
            Value("date", "status_since"),
            "status_provisional_lapses",
            Value("date", "lapses_on"),
            "status_provisional_end",
            ANSWERED,
        ),
        next="menu",
        serves=True,
    ),
    "status_verification": Say(("status_needs_verification", ANSWERED), next="menu", serves=True),
    "status_formal": Say(
        ("status_formal", Value("date", "pickup_on"), "status_formal_end", ANSWERED),
        next="menu",
        serves=True,
    ),
    "status_ready": Say(("status_ready", ANSWERED), next="menu", serves=True),
    "no_card": Say(("no_card_on_record",), next="menu"),
    # Lifting a provisional report (card found).
    "lift_identity": Sub("identity", {"ok": "lift_check", **IDENTIFIED}),
    "lift_check": Action(
        "card_for_lift",
        {"ok": "lift_confirm", "not_provisional": "lift_not_possible", "no_card": "no_card"},
    ),
    "lift_not_possible": Say(("lift_not_possible",), next="status_check"),
    "lift_confirm": Menu(
        prompts=("lift_confirm_card", Value("digits", "card_tail"), "confirm_or_cancel"),
        options={"1": "lift_do", "2": "lift_cancelled"},
        retries=Retries(no_input=2, no_match=2),
        on_fail="lift_cancelled",
    ),
    "lift_do": Action("lift_report", {"ok": "lifted", "not_provisional": "lift_not_possible"}),
    "lifted": Say(("lift_done", ANSWERED), next="menu", serves=True),
    "lift_cancelled": Say(("lift_cancelled",), next="menu"),
    # Ways out: the line's own flow says what comes next (an agent, the menu above).
    "offer_agent": offer_agent("menu"),
    "agent": End("agent"),
    "back": End("back"),
    "failed": End("failed"),
}

CARD_SERVICES = Flow(
    name="card_services",
    title="Social-security card services (96102; 12333 key 2)",
    start="menu",
    nodes=_nodes,
)


def _item(prompt: str) -> Say:
    return Say((prompt, ANSWERED), next="menu", serves=True)


LOST_CARD_INFO = Flow(
    name="lost_card_info",
    title="A lost card: by phone, the formal report and a new card, by someone else, in writing",
    start="menu",
    nodes={
        "menu": Menu(
            prompts=("lost_card_menu",),
            reprompt=("lost_card_menu_short",),
            options={
                "1": "provisional",
                "2": "formal",
                "3": "proxy",
                "4": "written",
                "0": "agent",
                "*": "back",
            },
            on_fail="offer_agent",
        ),
        "provisional": _item("info_provisional"),
        "formal": _item("info_formal"),
        "proxy": _item("info_proxy"),
        "written": _item("info_written"),
        "offer_agent": offer_agent("menu"),
        "agent": End("agent"),
        "back": End("back"),
        "failed": End("failed"),
    },
)
