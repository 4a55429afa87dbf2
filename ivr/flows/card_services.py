"""Social-security card services: the 96102 line, also reached from 12333 with key 2.

Provisional loss report (settlement stops at once), card status, lifting a provisional report,
re-issue progress. A caller without the query password can still report by recorded statement;
the report then waits for staff verification.
"""

from __future__ import annotations

from ivr.engine.model import Action, End, Flow, Menu, Node, Record, Retries, Say, Sub, Value

__all__ = ["CARD_SERVICES"]

REFERENCE = (
    "your_reference",
    Value("digits", "reference"),
    "reference_again",
    Value("digits", "reference"),
)
NEXT_STEPS = (
    "next_steps_within",
    Value("days", "lapse_days"),
    "next_steps_days_until",
    Value("date", "lapses_on"),
    "next_steps_reissue",
    Value("working_days", "reissue_days"),
    "next_steps_voucher",
)
IDENTIFIED = {"failed": "offer_agent", "locked": "offer_agent"}

_nodes: dict[str, Node] = {
    "menu": Menu(
        prompts=("card_menu",),
        reprompt=("card_menu_short",),
        options={
            "1": "loss_identity",
            "2": "status_identity",
            "3": "lift_identity",
            "4": "progress_identity",
            "0": "agent",
            "9": "menu",
            "*": "back",
        },
        on_fail="offer_agent",
    ),
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
    "loss_report": Action("report_loss", {"ok": "statement_offer", "already": "status_check"}),
    "statement_offer": Menu(
        prompts=("loss_reported", "statement_offer"),
        options={"1": "statement_record"},
        default="loss_reference",  # any other key or silence skips the statement
        timeout=5.0,
    ),
    "statement_record": Record(
        ("statement_instructions",),
        store_as="statement",
        kind="statement",
        next="statement_save",
        max_seconds=60,
    ),
    "statement_save": Action(
        "attach_statement", {"ok": "statement_thanks", "empty": "loss_reference"}
    ),
    "statement_thanks": Say(("statement_saved",), next="loss_reference"),
    "loss_reference": Say(REFERENCE + NEXT_STEPS, next="after_report", serves=True),
    "after_report": Menu(
        prompts=("after_report_options",),
        options={"9": "loss_reference", "*": "menu"},
        default="goodbye",
    ),
    # Report by recorded statement, verified later by staff.
    "unverified_offer": Menu(
        prompts=("statement_without_password_offer",),
        options={"1": "unverified_record"},
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
        ("unverified_recorded", *REFERENCE, "unverified_next_steps"),
        next="after_unverified",
        serves=True,
    ),
    "after_unverified": Menu(
        prompts=("after_report_options",),
        options={"9": "unverified_reference", "*": "menu"},
        default="goodbye",
    ),
    # Card status.
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
    "status_normal": Say(("status_normal",), next="menu", serves=True),
    "status_provisional": Say(
        (
            "status_provisional_since",
            Value("date", "status_since"),
            "status_provisional_lapses",
            Value("date", "lapses_on"),
            "status_provisional_end",
        ),
        next="menu",
        serves=True,
    ),
    "status_verification": Say(("status_needs_verification",), next="menu", serves=True),
    "status_formal": Say(
        ("status_formal", Value("date", "pickup_on"), "status_formal_end"), next="menu", serves=True
    ),
    "status_ready": Say(("status_ready",), next="menu", serves=True),
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
    "lifted": Say(("lift_done",), next="menu", serves=True),
    "lift_cancelled": Say(("lift_cancelled",), next="menu"),
    # Re-issue progress.
    "progress_identity": Sub("identity", {"ok": "progress_check", **IDENTIFIED}),
    "progress_check": Action(
        "reissue_progress",
        {
            "formal": "progress_formal",
            "ready": "status_ready",
            "provisional": "progress_provisional",
            "needs_verification": "status_verification",
            "none": "progress_none",
            "no_card": "no_card",
        },
    ),
    "progress_formal": Say(
        ("progress_formal", Value("date", "pickup_on"), "progress_voucher"),
        next="menu",
        serves=True,
    ),
    "progress_provisional": Say(
        ("progress_provisional", Value("date", "lapses_on"), "progress_provisional_end"),
        next="menu",
        serves=True,
    ),
    "progress_none": Say(("progress_none",), next="menu", serves=True),
    # Ways out.
    "offer_agent": Menu(prompts=("offer_agent",), options={"0": "agent"}, default="failed"),
    "agent": End("agent"),
    "back": End("back"),
    "goodbye": End("served", prompts=("goodbye",)),
    "failed": End("failed"),  # offer_agent has said goodbye already
}

CARD_SERVICES = Flow(
    name="card_services",
    title="Social-security card services (96102; 12333 key 2)",
    start="menu",
    nodes=_nodes,
)
