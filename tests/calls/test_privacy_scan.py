"""The privacy scan: after whole calls that key real ID numbers (right, one or two short, too
long, cut off by a hang-up) and passwords (right, wrong, new), no clear ID and no password is
left in the database files (WAL included), the logs or anything else under the data folder, with
the hotline logging at its default level and at DEBUG (``-v``).

A clear ID is any seeded ID number or any prefix of one of 14 characters or more, keyed (``*``
for X) or written; the DEBUG log is also read back as the keys its replies would give away
(``200 result=49`` is a "1").
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

import pytest

from ivr.config import Settings
from ivr.domain.cards import CardStatus
from ivr.logs import log_handler
from ivr.stack import start_node
from ivr.store.database import upgrade_database
from ivr.store.seed import DemoCitizen, seed_demo
from tests.agipeer import PeerResult, run_call

WRONG_PASSWORDS = ("604917", "739451", "284617", "951736")
NEW_PASSWORD = "580372"
DTMF = {str(ord(key)): key for key in "0123456789*#"}


@contextlib.contextmanager
def logging_into(path: Path, level: str) -> Iterator[None]:
    """The hotline's log handler writing to ``path`` at ``level``, as ``hotline serve`` does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    saved = root.level
    with path.open("a", encoding="utf-8") as stream:
        handler = log_handler(stream)
        root.addHandler(handler)
        root.setLevel(level)
        try:
            yield
        finally:
            root.removeHandler(handler)
            root.setLevel(saved)


def clear_forms(id_number: str) -> set[str]:
    """The ID as written and as keyed, and every prefix of 14 characters or more."""
    forms = {id_number[:n] for n in range(14, len(id_number) + 1)}
    return forms | {id_number.replace("X", "*")}


def keys_given_away(log_text: str) -> str:
    """The keys a log's AGI replies give away as key codes, in order."""
    return "".join(DTMF.get(code, "") for code in re.findall(r"<< 200 result=(\d+)", log_text))


def scan(folder: Path, ids: Iterable[str], passwords: Iterable[str]) -> list[str]:
    """Every clear ID and password found in any file under ``folder``: ``file: what``."""
    id_forms = sorted({form for id_number in ids for form in clear_forms(id_number)})
    # A password in text: not inside a longer number, nor the microseconds of a time. In the keys
    # a log gives away: anywhere (a menu key may come just before it).
    in_text = [re.compile(rf"(?<![0-9.]){re.escape(p)}(?![0-9])") for p in set(passwords)]
    in_keys = [re.compile(re.escape(p)) for p in set(passwords)]
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("latin-1")
        keys = keys_given_away(text)
        for where, content, secrets in (
            (path.name, text, in_text),
            (f"{path.name} (key codes)", keys, in_keys),
        ):
            found += [
                f"{where}: ID {form[:6]}..({len(form)})" for form in id_forms if form in content
            ]
            found += [f"{where}: password" for secret in secrets if secret.search(content)]
    return found


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The scan itself: each kind of leak planted in a file of its own is found."""
    id_number, password = "11010519491231002X", "604917"
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "hotline.log").write_text("keyed 1101051949123100 at enter_id\n")
    (tmp_path / "hotline.db-wal").write_bytes(b"\x00\x17" + b"11010519491231002*" + b"\x00")
    (tmp_path / "hotline.db").write_bytes(b"\x01password=604917\x02 at 12:00:00.604917")
    codes = "".join(f"x << 200 result={ord(key)}\n" for key in "1101051949123100#4604917")
    (tmp_path / "debug.log").write_text(codes + "x << 200 result=0 endpos=16000\n")
    (tmp_path / "clean.log").write_text("110105********002X *** 0001-01-01 12:00:00.604917\n")
    found = scan(tmp_path, [id_number], [password])
    assert found == [
        "debug.log (key codes): ID 110105..(14)",
        "debug.log (key codes): ID 110105..(15)",
        "debug.log (key codes): ID 110105..(16)",
        "debug.log (key codes): password",
        "hotline.db: password",
        "hotline.db-wal: ID 110105..(14)",
        "hotline.db-wal: ID 110105..(15)",
        "hotline.db-wal: ID 110105..(16)",
        "hotline.db-wal: ID 110105..(17)",
        "hotline.db-wal: ID 110105..(18)",
        "hotline.log: ID 110105..(14)",
        "hotline.log: ID 110105..(15)",
        "hotline.log: ID 110105..(16)",
    ]


class Caller:
    """Places the scan's calls and remembers every password keyed."""

    def __init__(self, port: int, recordings: Path) -> None:
        self.port, self.recordings = port, recordings
        self.passwords: set[str] = set()

    async def call(self, script: str, entries: list[str], **kw: object) -> list[str]:
        self.passwords.update(e.rstrip("#") for e in entries if re.fullmatch(r"[0-9]{6}#", e))
        result: PeerResult = await run_call(
            "127.0.0.1", self.port, script, entries, recordings_dir=self.recordings, **kw
        )  # type: ignore[arg-type]
        return [sound.removeprefix("hotline/") for sound in result.heard]


def keyed(citizen: DemoCitizen, extra: str = "") -> str:
    return citizen.id_number.replace("X", "*") + extra + "#"


async def place_calls(caller: Caller, citizens: list[DemoCitizen]) -> None:
    """The full-call scenarios, each checked to have got where it leaks if anything does."""
    first, second = citizens[0], citizens[1]
    normal = [c for c in citizens if c.card_status is CardStatus.NORMAL]
    reporter, unverified, locked = normal[0], normal[1], normal[2]
    pw = {c.id_number: c.initial_password for c in citizens}

    heard = await caller.call("12333", ["1", keyed(first), pw[first.id_number] + "#", "1"])
    assert "pension_balance_is" in heard
    short = [second.id_number[:17] + "#", second.id_number[:16] + "#"]  # one and two short
    wrong_then_right = [WRONG_PASSWORDS[0] + "#", pw[second.id_number] + "#"]
    heard = await caller.call("12333", ["7", "1", *short, keyed(second), *wrong_then_right, "2"])
    assert heard.count("id_error_length") == 2 and "medical_balance_is" in heard
    entries = ["1", keyed(locked), *(p + "#" for p in WRONG_PASSWORDS[1:]), "0"]
    assert "account_locked" in await caller.call("12333", entries)
    entries = ["1", keyed(reporter), pw[reporter.id_number] + "#", "1", "1", "4", "-"]
    assert "statement_saved" in await caller.call("96102", entries)
    entries = ["1", keyed(unverified), "*", "6", "-"]
    assert "unverified_recorded" in await caller.call("96102", entries)
    # two characters too many: keyed ahead into the password, which they are too short for
    entries = ["1", keyed(first, extra="12")]
    assert "password_format" in await caller.call("12333", entries, hang_up_when_done=True)
    for hang_up_after in range(8, 40, 3):  # cut off at each point of keying the ID and password
        entries = ["1", keyed(second), pw[second.id_number] + "#", "1"]
        await caller.call("12333", entries, hangup_after=hang_up_after)
    old = pw[first.id_number] + "#"
    entries = ["1", keyed(first), old, "4", old, NEW_PASSWORD + "#", NEW_PASSWORD + "#"]
    assert "password_changed" in await caller.call("12333", entries, hang_up_when_done=True)
    heard = await caller.call("12333", ["4", "5", "13912345678#"])
    assert "message_thanks" in heard


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_no_clear_id_or_password_is_left_anywhere(level: str, tmp_path: Path) -> None:
    data = tmp_path / "var"  # the database in the data folder, where `hotline serve` keeps it
    settings = Settings.load(
        env={"HOTLINE_ID_HASH_KEY": "test-key", "HOTLINE_LOG_LEVEL": level}, data_dir=data
    )
    data.mkdir()
    await upgrade_database(settings.database_url)
    with logging_into(settings.log_dir / "hotline.log", level):
        async with AsyncExitStack() as stack:
            node = await start_node(
                dataclasses.replace(settings, agi_port=0, ops_port=0), stack, ami=False
            )
            citizens = await seed_demo(
                node.core.database, citizens=6, seed=7, key=settings.hash_key(), today=date.today()
            )
            caller = Caller(node.agi.port, settings.recordings_dir)
            await place_calls(caller, citizens)
            ids = [c.id_number for c in citizens]
            while_running = scan(tmp_path, ids, caller.passwords)  # the WAL as written
            assert (data / "hotline.db-wal").exists()
    assert while_running == []
    assert scan(tmp_path, ids, caller.passwords) == []
    log_text = (settings.log_dir / "hotline.log").read_text()
    assert ("DEBUG ivr.agi.channel" in log_text) == (level == "DEBUG") and "INFO" in log_text
