"""The domain actions and entry checks the flows name, as plain async functions over the records.

Each action returns a result label the flow branches on; what the caller must hear is put into
``ctx.vars`` for the next ``Say`` node. Nothing here touches the channel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from ivr.config import Settings
from ivr.domain import cards as card_rules
from ivr.domain.callers import LanguageMemory
from ivr.domain.clock import BEIJING
from ivr.domain.idnumber import IdNumberError, IdProblem, id_hash, parse_id
from ivr.domain.lockout import Granted, Refused, is_locked
from ivr.domain.password import caller_lockout, password_problem
from ivr.domain.recordings import MIN_RECORDING_SECONDS
from ivr.domain.verifier import PasswordVerifier
from ivr.engine.context import CallContext
from ivr.engine.port import Recording
from ivr.engine.runner import ActionFn, Check, CheckResult, Hold, Leave, Reject, Verdict
from ivr.speech.catalog import DEFAULT_LANGUAGE, LANGUAGES
from ivr.store.errors import CardNotReportable, ReportNotLiftable
from ivr.store.records import Records, ReportView

log = logging.getLogger(__name__)
T = TypeVar("T")

ID_PROBLEM_PROMPTS = {
    IdProblem.LENGTH: "id_error_length",
    IdProblem.CHARACTERS: "id_error_characters",
    IdProblem.BIRTH_DATE: "id_error_birth_date",
    IdProblem.FUTURE_BIRTH_DATE: "id_error_future",
    IdProblem.CHECK_CHARACTER: "id_error_check",
}
RULE_PROMPTS = {
    "length": "password_format",
    "all_same": "password_rule_all_same",
    "sequence": "password_rule_sequence",
    "initial": "password_rule_initial",
}
# Every prompt a check can answer with: they must exist in the catalog like the flows' own.
CHECK_PROMPTS = frozenset(
    {
        *ID_PROBLEM_PROMPTS.values(),
        *RULE_PROMPTS.values(),
        "id_not_found",
        "password_wrong",
        "password_wrong_last_try",
        "password_mismatch",
        "password_hold",
    }
)
# How long a caller waits (seconds, in turn) for parallel checks of the same password to settle.
BUSY_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)


# Told each query password verified: the call's hotline, whether it was right, and how long the
# verification took (seconds). Called on the event loop: O(1), never blocks.
PasswordObserver = Callable[[str, bool, float], None]


def _unobserved(hotline: str, right: bool, seconds: float) -> None:
    """No one watches the verifications (tests of the flows alone)."""


@dataclass(frozen=True)
class Services:
    records: Records
    settings: Settings
    id_key: bytes
    # Checks and hashes query passwords on threads of its own (built and closed by the stack).
    verifier: PasswordVerifier
    # Whose language choices are kept, and how long (the runner looks them up at a call's start)
    languages: LanguageMemory
    # Keep each recording's sound in the database too (nodes share it: a console elsewhere plays it)
    archive_recordings: bool = False
    # Dates callers hear (lapse, pick-up) are Beijing dates.
    clock: Callable[[], datetime] = lambda: datetime.now(BEIJING)
    password_checked: PasswordObserver = _unobserved


class HotlineActions:
    """Binds the actions and checks to their services; ``actions()``/``checks()`` are the tables."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.records = services.records
        self.settings = services.settings
        self.lockout = caller_lockout(
            self.settings.password_max_failures, self.settings.password_lock_hours
        )

    def actions(self) -> dict[str, ActionFn]:
        return {
            "recall_language": self.recall_language,
            "choose_language": self.choose_language,
            "identity_known": self.identity_known,
            "pension_balance": self.pension_balance,
            "medical_account": self.medical_account,
            "contribution_record": self.contribution_record,
            "change_password": self.change_password,
            "card_for_loss": self.card_for_loss,
            "report_loss": self.report_loss,
            "attach_statement": self.attach_statement,
            "report_unverified": self.report_unverified,
            "card_status": self.card_status,
            "card_for_lift": self.card_for_lift,
            "lift_report": self.lift_report,
            "save_voice_message": self.save_voice_message,
            "set_callback_number": self.set_callback_number,
        }

    def checks(self) -> dict[str, Check]:
        return {
            "resident_id": self.check_resident_id,
            "password": self.check_password,
            "new_password": self.check_new_password,
            "new_password_again": self.check_new_password_again,
        }

    # --- identification -------------------------------------------------------------------

    async def check_resident_id(self, ctx: CallContext, digits: str) -> CheckResult:
        now = self.services.clock()
        try:
            resident = parse_id(digits, today=now.date())
        except IdNumberError as error:
            return Reject(ID_PROBLEM_PROMPTS[error.problem])
        hashed = id_hash(self.services.id_key, resident)
        ctx.vars["resident_id"] = resident
        ctx.id_hash, ctx.id_masked = hashed, resident.masked
        citizen = await self.records.find_citizen(hashed)
        if citizen is None:
            return Reject("id_not_found")
        ctx.vars["citizen_id"] = citizen.id
        if is_locked(citizen.locked_until, now):
            await self.records.record_security_event(
                "locked_attempt", call_id=ctx.call_id, id_hash=hashed, id_masked=resident.masked
            )
            return Leave("locked")
        return None

    async def check_password(self, ctx: CallContext, digits: str) -> CheckResult:
        # The citizen read by the ID check is not read again: the claim returns what can have
        # changed since (the lock-out, in its condition; the password hash).
        citizen_id: int = _known(ctx.vars.get("citizen_id"))
        claim = await self._claim_check(ctx, citizen_id)
        if isinstance(claim, Refused):
            return Leave("locked")
        verdict = self._verify(ctx, citizen_id, claim.password_hash, digits)
        if self.services.verifier.crowded:  # a queue of logins: the caller is told to hold
            return Hold("password_hold", verdict)
        return await verdict

    async def _verify(
        self, ctx: CallContext, citizen_id: int, password_hash: str, digits: str
    ) -> Verdict:
        """The claimed check, run and settled: a wrong password counts towards the lock."""
        started = time.perf_counter()
        try:
            right = await self.services.verifier.verify(password_hash, digits)
        except BaseException:  # the check did not finish (an error, the call cut): no verdict
            await self.records.release_password_check(citizen_id)
            raise
        self.services.password_checked(ctx.hotline, right, time.perf_counter() - started)
        now = self.services.clock()
        settled = await self.records.settle_password_check(
            citizen_id, right=right, policy=self.lockout, now=now, call_id=ctx.call_id
        )
        if right:
            ctx.vars["authenticated"] = True
            return None
        if is_locked(settled.locked_until, now):
            return Leave("locked")
        if self.lockout.locks_next(settled.failures):
            return Reject("password_wrong_last_try")  # says how long the lock will be
        return Reject("password_wrong")

    async def _claim_check(self, ctx: CallContext, citizen_id: int) -> Granted | Refused:
        """Claim the right to check a password. While as many checks of the same account are
        under way as could lock it, wait a little for them: they lock it, or leave room. Still
        refused after that (an attack): treated as locked."""
        claim = await self._claim(citizen_id)
        for pause in BUSY_PAUSES:
            if not isinstance(claim, Refused) or claim.locked_until is not None:
                break
            await asyncio.sleep(pause)
            claim = await self._claim(citizen_id)
        if isinstance(claim, Refused):
            busy = claim.locked_until is None
            await self.records.record_security_event(
                "locked_attempt",
                call_id=ctx.call_id,
                id_hash=ctx.id_hash,
                id_masked=ctx.id_masked,
                detail="refused: too many checks under way" if busy else "refused: locked",
            )
        return claim

    async def _claim(self, citizen_id: int) -> Granted | Refused:
        return await self.records.claim_password_check(
            citizen_id, policy=self.lockout, now=self.services.clock()
        )

    async def check_new_password(self, ctx: CallContext, digits: str) -> CheckResult:
        problem = password_problem(digits, ctx.vars.get("resident_id"))
        return Reject(RULE_PROMPTS.get(problem, "password_format")) if problem else None

    async def check_new_password_again(self, ctx: CallContext, digits: str) -> CheckResult:
        return None if digits == ctx.vars.get("new_password") else Reject("password_mismatch")

    async def identity_known(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        return "yes" if ctx.vars.get("authenticated") else "no"

    # --- the caller's language, remembered by a keyed hash of the calling number ----------

    async def recall_language(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        """The language this number chose last time, if still remembered; else Mandarin. The
        runner looked it up with the call's start (one transaction: ``CallRunner.run``); set
        here, by an action, it is the language the engine switches the channel to."""
        remembered = ctx.vars.get("remembered_language")
        ctx.language = remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE
        return ctx.language

    async def choose_language(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        """The caller chose a language: the rest of the call, and their next call, speak it."""
        ctx.language = args["language"]
        number = self.services.languages.number(ctx.caller_id)
        if number is not None:
            if ctx.language == DEFAULT_LANGUAGE:  # nothing to remember
                self.records.later(self.records.forget_language(number))
            else:
                now = self.services.clock()
                self.records.later(self.records.remember_language(number, ctx.language, now=now))
        return "ok"

    # --- 12333 queries -----------------------------------------------------------------

    async def pension_balance(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        ctx.vars["pension_balance"] = await self.records.pension_balance(
            ctx.vars["citizen_id"], call_id=ctx.call_id
        )
        return "ok"

    async def medical_account(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        account = await self.records.medical_account(ctx.vars["citizen_id"], call_id=ctx.call_id)
        ctx.vars.update(
            medical_balance=account.balance,
            medical_last_credit=account.last_credit_amount,
            medical_last_credit_on=account.last_credit_on,
        )
        return "ok" if account.last_credit_on else "no_credit"

    async def contribution_record(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        record = await self.records.contributions(ctx.vars["citizen_id"], call_id=ctx.call_id)
        if record is None:
            return "none"
        ctx.vars.update(
            insured_status=record.insured_status,
            last_paid_month=record.last_paid_month,
            contribution_base=record.contribution_base,
            months_paid=record.months_paid,
        )
        return "ok"

    async def change_password(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        new_hash = await self.services.verifier.hash(ctx.vars.pop("new_password"))
        ctx.vars.pop("new_password_again", None)
        await self.records.change_password(
            ctx.vars["citizen_id"], new_hash, call_id=ctx.call_id, now=self.services.clock()
        )
        return "ok"

    # --- 96102 card services -----------------------------------------------------------

    async def card_for_loss(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        card = await self.records.card_for(ctx.vars["citizen_id"], today=self._today())
        if card is None:
            return "no_card"
        ctx.vars.update(card_id=card.id, card_tail=card_rules.card_tail(card.number))
        return "ok" if card.status == card_rules.CardStatus.NORMAL else "already"

    async def report_loss(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        try:
            report = await self.records.report_provisional_loss(
                ctx.vars["card_id"],
                ctx.vars["citizen_id"],
                call_id=ctx.call_id,
                now=self.services.clock(),
                lapse_days=self.settings.provisional_lapse_days,
                id_hash=_known(ctx.id_hash),
                id_masked=_known(ctx.id_masked),
            )
        except CardNotReportable:
            return "already"
        self._remember_report(ctx, report)
        return "ok"

    async def attach_statement(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        recording_id = await self._save_recording(ctx, "statement")
        if recording_id is None:
            return "empty"
        await self.records.attach_statement(ctx.vars["report_id"], recording_id)
        return "ok"

    async def report_unverified(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        recording_id = await self._save_recording(ctx, "statement")
        if recording_id is None:
            return "empty"
        report = await self.records.report_unverified_loss(
            call_id=ctx.call_id,
            now=self.services.clock(),
            id_hash=_known(ctx.id_hash),
            id_masked=_known(ctx.id_masked),
            recording_id=recording_id,
        )
        self._remember_report(ctx, report)
        return "ok"

    async def card_status(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        card = await self.records.card_for(ctx.vars["citizen_id"], today=self._today())
        if card is None:
            return "no_card"
        report = await self.records.open_report_for(card.id, today=self._today())
        if report is not None:
            self._remember_report(ctx, report)
        ctx.vars["status_since"] = card.status_since.date()
        status = card_rules.CardStatus(card.status)
        if status == card_rules.CardStatus.PROVISIONALLY_LOST:
            return "provisional"
        if status == card_rules.CardStatus.FORMALLY_LOST:
            return "formal"
        if status == card_rules.CardStatus.READY_FOR_PICKUP:
            return "ready"
        if report is not None and report.status == card_rules.ReportStatus.NEEDS_VERIFICATION:
            return "needs_verification"
        return "normal"

    async def card_for_lift(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        result = await self.card_for_loss(ctx, args)
        if result == "no_card":
            return result
        report = await self.records.open_report_for(ctx.vars["card_id"], today=self._today())
        if report is None or not card_rules.can_lift(report.status):
            return "not_provisional"
        return "ok"

    async def lift_report(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        try:
            await self.records.lift_provisional_report(
                ctx.vars["card_id"], call_id=ctx.call_id, now=self.services.clock()
            )
        except ReportNotLiftable:
            return "not_provisional"
        return "ok"

    # --- voice messages ----------------------------------------------------------------

    async def save_voice_message(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        recording_id = await self._save_recording(ctx, "voice_message")
        if recording_id is None:
            return "empty"
        ctx.vars["voice_message_id"] = await self.records.add_voice_message(
            _known(ctx.call_id), recording_id, ctx.caller_id
        )
        return "ok"

    async def set_callback_number(self, ctx: CallContext, args: Mapping[str, str]) -> str:
        await self.records.set_callback_number(ctx.vars["voice_message_id"], ctx.vars["callback"])
        return "ok"

    # --- helpers ---------------------------------------------------------------------------

    def _today(self) -> date:
        return self.services.clock().date()

    async def _save_recording(self, ctx: CallContext, kind: str) -> int | None:
        recording: Recording | None = ctx.vars.get(
            "statement" if kind == "statement" else "message"
        )
        if recording is None or recording.duration_s < MIN_RECORDING_SECONDS:
            return None
        try:
            path = str(recording.path.resolve().relative_to(self.settings.data_dir.resolve()))
        except ValueError:
            path = str(recording.path)
        audio = None
        if self.services.archive_recordings:
            try:
                audio = await asyncio.to_thread(recording.path.read_bytes)
            except OSError as exc:  # kept on this node only: the console here still plays it
                log.warning("recording %s not archived: %s", recording.path.name, exc)
        return await self.records.add_recording(
            _known(ctx.call_id), kind, path, recording.duration_s, audio=audio
        )

    def _remember_report(self, ctx: CallContext, report: ReportView) -> None:
        ctx.vars.update(
            report_id=report.id,
            reference=report.reference,
            lapses_on=report.lapses_on,
            pickup_on=report.pickup_on,
        )
        ctx.served = True


def _known(value: T | None) -> T:
    """A fact the flow has established by now (the call record, the caller's identity)."""
    if value is None:
        raise LookupError("the flow reached an action before the fact it needs was established")
    return value
