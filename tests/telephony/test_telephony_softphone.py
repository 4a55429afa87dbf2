"""A real softphone calls the hotline through the real Asterisk: does the caller hear the prompts?

baresip (``tests/softphone.py``) registers as tester 6001, calls 12333 and keeps every sample it
receives. The recording must hold the 12333 greeting as built (the Mandarin prompts from espeak-ng)
and not the 96102 one (the check can fail); keys the phone sends as RFC 4733 events must reach
the flow. The real hotline runs behind the session's Asterisk (the ``line`` fixture) and the call
lands in its database. baresip's logs and recordings stay under ``test-output/softphone/<test>/``.
"""

from __future__ import annotations

import array
from decimal import Decimal

import pytest
from sqlalchemy import select

from ivr.engine.context import CallContext
from ivr.engine.model import Say
from ivr.engine.speak import expand
from ivr.flows.common import GREETING
from ivr.flows.hotline12333 import HOTLINE_12333
from ivr.prompts.build import built_sound_path
from ivr.store import models
from ivr.telephony import LocalAsterisk
from tests.promptmatch import Sound
from tests.softphone import (
    Account,
    Softphone,
    SoftphoneError,
    match_prompt,
    read_wav,
    require_baresip,
)
from tests.telephony.callkit import Line
from tests.telephony.sipkit import PromptClock

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

TESTER = "6001"
ANSWER_S = 1.0  # from the 200 OK to the greeting: Answer() waits 0.5 s, then the AGI connection
AFTER_S = 2.0  # how long the phone stays on after the greeting
ENGLISH = "7"  # the main menu's key for English (offered by the greeting)
LEAD = 2.0  # how long after a prompt that takes an entry starts the phone keys it
KEY_GAP_S = 0.25  # the phone's keys are this far apart (Softphone.send_keys)


@pytest.fixture(scope="module", autouse=True)
def baresip_installed() -> None:
    try:
        require_baresip()
    except SoftphoneError as exc:
        pytest.fail(f"the softphone tests cannot run: {exc}", pytrace=False)


def phone_of_tester(line: Line) -> Softphone:
    settings = line.settings
    account = Account(TESTER, settings.sip_password, settings.sip_host, settings.sip_port)
    phone = Softphone.for_test(account, line.name, limit_s=60)
    line.phones.append(phone)  # killed at teardown if the test fails half-way
    return phone


async def test_softphone_hears_the_12333_greeting(line: Line, prompts: PromptClock) -> None:
    greeting = prompts.seconds("greeting_12333")
    phone = phone_of_tester(line)
    await phone.start()
    recording = await phone.call("12333", seconds=ANSWER_S + greeting + AFTER_S)

    heard = read_wav(recording)
    assert heard.seconds > greeting, (heard.seconds, phone.report())
    reference = read_wav(built_sound_path(line.settings, "zh", "greeting_12333"))
    match = match_prompt(heard, reference)
    assert match.found, (match, phone.report())
    assert match.offset_s < ANSWER_S + 1.0, match  # the greeting is the first thing heard
    # The negative control: the other hotline's greeting, on the same recording, is not there.
    other = match_prompt(heard, read_wav(built_sound_path(line.settings, "zh", "greeting_96102")))
    assert not other.found, other

    row = await line.only_call("12333")
    described = await line.describe()
    assert row.channel.startswith(f"PJSIP/{TESTER}-"), row.channel
    assert row.language == "zh" and row.ended_at is not None, described


async def test_softphone_keys_reach_the_flow(line: Line, prompts: PromptClock) -> None:
    """7 after the greeting, while the offers of English and Spanish play: the key stops them and
    goes to the main menu, where it chooses English."""
    greeting_ends = ANSWER_S + prompts.seconds("greeting_12333")
    phone = phone_of_tester(line)
    await phone.start()
    await phone.call("12333", seconds=greeting_ends + 3.0, keys=[(greeting_ends + 1.0, ENGLISH)])

    row = await line.only_call("12333")
    described = await line.describe()
    assert row.language == "en", described
    inputs = [(s.node, s.key) for s in await line.steps(row.id) if s.kind == "input"]
    assert ("12333:main", ENGLISH) in inputs, described


def joined_reference(line: Line, keys: list[str]) -> Sound:
    """The prompts ``keys`` as built, end to end: what a caller should hear, whole."""
    samples = array.array("h")
    for key in keys:
        samples.extend(read_wav(built_sound_path(line.settings, "zh", key)).samples)
    return Sound(samples, 8000)


def playbacks(asterisk: LocalAsterisk, channel: str) -> list[str]:
    """The sounds Asterisk played on ``channel``, from its full log (verbose 3: ``Playing``)."""
    played = []
    for row in asterisk.layout.asterisk_log.read_text(errors="replace").splitlines():
        if f"<{channel}> Playing '" in row:
            played.append(row.partition(" Playing '")[2].partition("'")[0].rpartition(".")[0])
    return played


async def test_softphone_hears_the_balance_whole(
    line: Line, prompts: PromptClock, asterisk: LocalAsterisk
) -> None:
    """A balance is read back from ``pension_balance_is``, a dozen digit and unit prompts and
    ``keys_hint``: joined into one sound file written just before its ``STREAM FILE``, the caller
    hears all of it, and Asterisk played it as one sound."""
    citizen = line.citizens[0]
    async with line.app.database.read() as session:
        balance = await session.scalar(
            select(models.PensionAccount.balance)
            .join(models.Citizen)
            .where(models.Citizen.id_masked == citizen.masked)
        )
    assert isinstance(balance, Decimal)
    say, greets = HOTLINE_12333.nodes["pension_say"], GREETING.nodes["zh"]
    assert isinstance(say, Say) and isinstance(greets, Say)
    context = CallContext(hotline="12333", language="zh")
    context.vars["pension_balance"] = balance
    read_back = list(expand(say.prompts, context))
    assert len(read_back) > 10, read_back
    greeting = prompts.says(greets.prompts, hotline="12333")
    entries = ["1", citizen.id_number.replace("X", "*") + "#", citizen.initial_password + "#", "1"]
    keys, at = [], ANSWER_S + greeting
    for entry in entries:  # each keyed LEAD after the prompt that takes it starts
        at += LEAD
        keys.append((at, entry))
        at += len(entry) * KEY_GAP_S
    phone = phone_of_tester(line)
    await phone.start()
    recording = await phone.call(
        "12333", seconds=at + prompts.seconds(*read_back) + AFTER_S, keys=keys
    )

    row = await line.only_call("12333")
    described = await line.describe()
    assert row.outcome == "served", described
    async with line.app.database.read() as session:
        kinds = list(await session.scalars(select(models.BalanceQuery.kind)))
    assert kinds == ["pension"], described
    heard = read_wav(recording)
    match = match_prompt(heard, joined_reference(line, read_back))
    assert match.found, (match, phone.report())
    played = playbacks(asterisk, row.channel)
    joined = [sound for sound in played if sound.startswith("hotline/joined/")]
    assert len(joined) >= 2, played  # the greeting, the read-back
    assert not set(read_back) & {sound.removeprefix("hotline/") for sound in played}, played
