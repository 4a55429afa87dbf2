"""The console's API fuzzed from its own OpenAPI description (schemathesis), logged in as each role.

Valid and invalid requests generated from ``ivr.web.openapi.SPEC`` for every operation the role
may use go to a console served on a free port, with the role's session cookie and CSRF token:
no answer may be a server error, every answer must be one the description allows (status,
content type, body schema), invalid input must be refused and valid input accepted, and the same
request without a valid session must be refused (schemathesis' default checks). Generation is
derandomised and bounded, so a run is repeatable and short.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, GenerationMode
from sqlalchemy import select

from ivr.store.models import Call, LossReport
from ivr.store.users import Role
from ivr.web.app import ROUTES, start_web
from ivr.web.openapi import SPEC
from ivr.web.plumbing.sessions import SESSION_COOKIE
from tests.web.support import PASSWORD, USERS, Env

EXAMPLES_PER_ROLE = 150
_HIDDEN = re.compile(r'name="csrf_token" value="([^"]*)"')
_PARAMETER = re.compile(r"\{(\w+):(?:[^{}]|\{[^{}]*\})*\}")  # {call_id:\d+} -> {call_id}
# Rules a JSON schema cannot state (the first day before the last, a period of at most a year,
# a valid ID number) refuse some schema-valid requests: there a 400 is a right answer too.
_CROSS_FIELD_RULES = ("/api/calls", "/api/calls/search", "/api/stats")


@pytest.fixture
async def served(env: Env) -> AsyncIterator[str]:
    core = env.hotline
    server = await start_web(
        env.settings, core.database, core.board, core.calendar, host="127.0.0.1", port=0
    )
    try:
        yield server.url
    finally:
        await server.close()


def _operations_of(role: Role) -> set[str]:
    """Every API route the role may use, named as schemathesis names operations."""
    return {
        route.method + " " + _PARAMETER.sub(r"{\1}", route.path)
        for table in ROUTES
        for route in table
        if route.path.startswith("/api/") and role in route.roles
    }


def _logged_in(base_url: str, username: str) -> tuple[str, str]:
    """The session cookie of ``username`` and its CSRF token (as an API client gets them)."""
    session = requests.Session()
    form = session.get(f"{base_url}/login", timeout=10)
    match = _HIDDEN.search(form.text)
    assert match, "the log-in form has a CSRF token"
    answer = session.post(
        f"{base_url}/login",
        data={"csrf_token": match.group(1), "username": username, "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text
    token: str = session.get(f"{base_url}/api/session", timeout=10).json()["csrf_token"]
    return session.cookies[SESSION_COOKIE], token


async def _existing(env: Env) -> dict[str, list[Any]]:
    """Path parameters that name something stored (a random one seldom does)."""
    async with env.hotline.database.read() as session:
        calls = (await session.execute(select(Call.id))).scalars().all()
        reports = (await session.execute(select(LossReport.reference))).scalars().all()
    return {"call_id": list(calls), "reference": list(reports)}


def _strategy(
    operation: APIOperation, existing: dict[str, list[Any]]
) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid requests; valid ones also with path parameters that name stored rows."""
    modes = [operation.as_strategy(mode) for mode in GenerationMode]
    for name in (parameter.name for parameter in operation.path_parameters):
        if existing.get(name):
            modes.append(
                st.sampled_from(existing[name]).flatmap(
                    lambda value, name=name: operation.as_strategy(
                        GenerationMode.POSITIVE, path_parameters={name: value}
                    )
                )
            )
    return st.one_of(modes)


def _fuzz(base_url: str, username: str, existing: dict[str, list[Any]]) -> Counter[tuple[str, int]]:
    """Fuzz the role's operations; the answers seen, by operation and status."""
    cookie, token = _logged_in(base_url, username)
    config = schemathesis.Config.from_dict(
        {
            # the description's schemes: the session cookie, and the CSRF token of a POST
            "auth": {"openapi": {"session": {"api_key": cookie}, "csrf": {"api_key": token}}},
            # not generated: these are a logged-in user's requests (`ignored_auth` tries others)
            "generation": {"with-security-parameters": False},
            "request-timeout": 10,
            "max-stream-events": 1,  # the live stream never ends: its first event is enough
            "operations": [
                {
                    "include-path": path,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400"]}},
                }
                for path in _CROSS_FIELD_RULES
            ],
        }
    )
    allowed = _operations_of(USERS[username])
    operations = [
        found.ok()
        for found in schemathesis.openapi.from_dict(SPEC, config=config).get_all_operations()
        if found.ok().label in allowed
    ]
    session = requests.Session()  # no cookie jar: each generated request carries its own auth
    answers: Counter[tuple[str, int]] = Counter()

    @settings(
        max_examples=EXAMPLES_PER_ROLE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of([_strategy(operation, existing) for operation in operations]))
    def check(case: schemathesis.Case) -> None:
        response = case.call_and_validate(base_url=base_url, session=session)
        answers[case.operation.label, response.status_code] += 1

    check()
    return answers


@pytest.mark.parametrize("username", list(USERS))
async def test_the_api_answers_as_described_whatever_it_is_sent(
    served: str, env: Env, username: str
) -> None:
    answers = await asyncio.to_thread(_fuzz, served, username, await _existing(env))
    # Each operation of the role was tried, and each took a request at least once (done, or for
    # a case step, refused in the report's state: 409).
    tried = {operation for operation, _ in answers}
    accepted = {operation for operation, status in answers if status < 300 or status == 409}
    assert tried == accepted == _operations_of(USERS[username]) - {"GET /api/openapi.json"}
