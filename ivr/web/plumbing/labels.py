"""Stored codes as a person reads them: an outcome, a status, a role, an audit action...

The database and the API keep the codes (``served``, ``card_made``); the pages show them through
``label`` (the ``label`` filter of the templates), translated into the page's language. A code
without a label (an older audit action, a node a flow no longer has) is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ivr.domain.callbacks import CallbackResult, TaskStatus
from ivr.domain.cards import CardStatus, ReportStatus
from ivr.domain.idnumber import IdProblem
from ivr.domain.outcomes import Outcome
from ivr.domain.retention import Hold
from ivr.live.board import Stage
from ivr.store.users import Role
from ivr.web.plumbing.i18n import Text, _l

__all__ = ["ID_PROBLEMS", "LABELS", "label"]

# Why a typed ID number is not valid (the message never repeats the number).
ID_PROBLEMS: Final[Mapping[IdProblem, Text]] = {
    IdProblem.LENGTH: _l("it has 18 characters (or the old 15 digits)"),
    IdProblem.CHARACTERS: _l("only digits, and an X at the end"),
    IdProblem.BIRTH_DATE: _l("the birth date in it is no real day"),
    IdProblem.FUTURE_BIRTH_DATE: _l("the birth date in it is in the future"),
    IdProblem.CHECK_CHARACTER: _l("the check character does not match (a digit mistyped?)"),
}

LABELS: Final[Mapping[str, Mapping[str, Text]]] = {
    "outcome": {
        Outcome.SERVED: _l("served"),
        Outcome.AGENT: _l("to an agent"),
        Outcome.VOICE_MESSAGE: _l("voice message"),
        Outcome.FAILED: _l("failed"),
        Outcome.ABANDONED: _l("hung up"),
        Outcome.INTERRUPTED: _l("line lost"),
        Outcome.ERROR: _l("technical error"),
        Outcome.REFUSED: _l("refused: lines busy"),
    },
    "report": {
        ReportStatus.PROVISIONAL: _l("provisional loss report"),
        ReportStatus.NEEDS_VERIFICATION: _l("waiting for verification"),
        ReportStatus.LIFTED: _l("lifted"),
        ReportStatus.LAPSED: _l("lapsed"),
        ReportStatus.FORMAL: _l("formal loss report"),
        ReportStatus.CARD_MADE: _l("new card made"),
        ReportStatus.PICKED_UP: _l("new card picked up"),
    },
    "card": {
        CardStatus.NORMAL: _l("in use"),
        CardStatus.PROVISIONALLY_LOST: _l("provisionally reported lost"),
        CardStatus.FORMALLY_LOST: _l("formally reported lost"),
        CardStatus.READY_FOR_PICKUP: _l("ready for pick-up"),
    },
    "role": {
        Role.SUPERVISOR: _l("supervisor"),
        Role.STAFF: _l("counter staff"),
        Role.AUDITOR: _l("auditor"),
    },
    "stage": {
        Stage.CONNECTING: _l("connecting"),
        Stage.MENUS: _l("in the menus"),
        Stage.WAITING: _l("waiting for an agent"),
        Stage.AGENT: _l("with an agent"),
        Stage.FALLBACK: _l("fallback to the agents"),
        Stage.LEAVING: _l("after the menus"),
        Stage.REFUSED: _l("refused: lines busy"),
    },
    "hold": {
        Hold.OPEN_CASE: _l("the loss report is open"),
        Hold.AWAITING_CALLBACK: _l("the message waits for a call-back"),
    },
    # The language a caller chose (Asterisk's names of its sound folders).
    "call_language": {"zh": _l("Mandarin"), "en": _l("English"), "es": _l("Spanish")},
    # A step of a call's path (``CallContext.log``).
    "step": {
        "action": _l("action"),
        "end": _l("end"),
        "error": _l("error"),
        "hangup": _l("hang-up"),
        "input": _l("keys"),
        "interrupted": _l("line lost"),
        "no_input": _l("no input"),
        "no_match": _l("no match"),
        "record": _l("recording"),
        "say": _l("prompt"),
    },
    "recording": {"statement": _l("loss statement"), "voice_message": _l("voice message")},
    "audit": {
        "login": _l("logged in"),
        "login_failed": _l("log-in failed"),
        "login_locked": _l("log-in locked"),
        "login_refused": _l("log-in refused"),
        "logout": _l("logged out"),
        "view_call": _l("viewed a call"),
        "search_id": _l("searched by ID number"),
        "export_calls": _l("exported the call log"),
        "play_recording": _l("played a recording"),
        "case_verify": _l("verified a loss report"),
        "case_formal": _l("recorded a formal loss report"),
        "case_lift": _l("lifted a loss report"),
        "case_made": _l("marked a new card made"),
        "case_picked-up": _l("marked a new card picked up"),
        "delete_recording": _l("deleted a recording (retention)"),
        "delete_call_path": _l("deleted a call's path (retention)"),
        "callback_take": _l("took a call-back task"),
        "callback_called-back": _l("recorded a call-back"),
        "callback_close": _l("closed a call-back task"),
        "print_certificate": _l("printed a pick-up certificate"),
        "account_add": _l("added an account"),
        "account_password": _l("reset a password"),
        "account_disable": _l("disabled an account"),
        "account_enable": _l("enabled an account"),
        "account_unlock": _l("lifted a log-in lock"),
        "password_change": _l("changed their password"),
        "citizen_unlock": _l("unlocked a citizen's phone queries"),
    },
    "task": {
        TaskStatus.NEW: _l("new"),
        TaskStatus.TAKEN: _l("taken"),
        TaskStatus.CALLED_BACK: _l("called back"),
        TaskStatus.CLOSED: _l("closed"),
    },
    "callback_result": {
        CallbackResult.REACHED: _l("reached the caller"),
        CallbackResult.NO_ANSWER: _l("no answer"),
        CallbackResult.WRONG_NUMBER: _l("wrong or dead number"),
    },
}


def label(kind: str, code: object) -> Text | str:
    """The label of ``code`` among the ``kind`` of codes; the code itself when it has none."""
    text = str(code) if code is not None else ""
    return LABELS[kind].get(text, text)
