"""The console port keys an entry as Asterisk would: the first key alone, the rest in one listen
(``keys_until_hash``, GET DATA's rule), keys beyond the entry left for the next input."""

from __future__ import annotations

from pathlib import Path

from ivr.sim.console import ConsolePort
from ivr.speech.catalog import Catalog


def port(entries: list[str], tmp_path: Path) -> ConsolePort:
    return ConsolePort(Catalog.load(), tmp_path, entries=entries, say=lambda _: None)


async def test_an_entry_is_its_first_key_then_the_rest_up_to_hash(tmp_path: Path) -> None:
    caller = port(["11010519491231002*#", "12", "5#", "231002#1"], tmp_path)
    assert await caller.wait_digit(10, first=True) == "1"
    assert await caller.keys_until_hash(5, 17) == "1010519491231002*"  # 17 keys: no # read
    assert await caller.wait_digit(1.5, first=False) == "#"
    assert await caller.wait_digit(10, first=True) == "1"
    assert await caller.keys_until_hash(5, 17) == "2"  # the caller stopped: time ran out
    assert await caller.wait_digit(10, first=True) == "5"
    assert await caller.keys_until_hash(5, 17) == "#"
    assert await caller.wait_digit(10, first=True) == "2"
    assert await caller.keys_until_hash(5, 5) == "31002"
    assert await caller.keys_until_hash(5, 5) == "#"  # what a trailing-# wait would take
    assert caller.buffer == "1"  # the next input's key, typed ahead
