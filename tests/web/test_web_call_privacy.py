"""What a caller keys for an ID number or a password is masked in the call path the console
shows, whatever its length or validity: one character short, two short, a wrong password."""

from __future__ import annotations

import re

from tests.web.support import Client, Env, all_stored_text, keyed, login, simulate

WRONG_PASSWORD = "604917"


def shows(text: str, password: str) -> bool:
    """``password`` as keyed text: not inside a longer number, nor a time's microseconds."""
    return re.search(rf"(?<![0-9.]){password}(?![0-9])", text) is not None


def clear_parts(id_number: str) -> list[str]:
    """The ID and every prefix of it long enough to find the person (14 characters or more)."""
    return [id_number[:n] for n in range(14, len(id_number) + 1)]


async def test_entries_of_any_length_are_masked_on_the_call_page_and_in_the_api(
    client: Client, env: Env
) -> None:
    citizen = env.citizen(1)
    short_by_one, short_by_two = citizen.id_number[:17], citizen.id_number[:16]
    ctx = await simulate(
        env,
        "12333",
        [
            "-", "1", short_by_one + "#", short_by_two + "#", keyed(citizen),
            WRONG_PASSWORD + "#", citizen.initial_password + "#", "1",
        ],
    )  # fmt: skip
    assert ctx.outcome == "served"
    assert await login(client, "sup") == 303
    page = await (await client.get(f"/calls/{ctx.call_id}")).text()
    detail = await (await client.get(f"/api/calls/{ctx.call_id}")).json()
    stored = await all_stored_text(env)
    for shown in (page, str(detail), stored):
        assert not [part for part in clear_parts(citizen.id_number) if part in shown]
        assert not shows(shown, WRONG_PASSWORD) and not shows(shown, citizen.initial_password)
    keys = [step["key"] for step in detail["path"] if step["node"] == "identity:enter_id"]
    assert keys == ["*" * 17, "*" * 16, citizen.masked]  # how many keys, never which
    assert [step["key"] for step in detail["path"] if "password" in step["node"]] == ["***"] * 2
