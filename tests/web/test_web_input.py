"""Input the console cannot use is refused with a 400 that says why (a page shows it, the API
answers ``{"error": ...}``), never a server error; log-in follows only a ``next`` it can send;
no response names the server's versions."""

from __future__ import annotations

import pytest

from ivr.store.types import ROW_ID_MAX
from tests.web.support import PASSWORD, Client, csrf_token, login

FAR_DATES = ("from=0001-01-01", "to=9999-12-31", "from=1899-12-31", "to=0001-01-01")
TOO_LARGE = ("99999999999999999999999", str(ROW_ID_MAX + 1))


async def _refused(client: Client, url: str, expected: str) -> None:
    """A 400 with ``expected`` in what the user sees: the page, or the API's error."""
    response = await client.get(url)
    assert response.status == 400, url
    if url.startswith("/api/"):
        assert expected in (await response.json())["error"], url
    else:
        assert response.content_type == "text/html" and expected in await response.text(), url


async def test_dates_beyond_the_calendar_are_refused(client: Client) -> None:
    assert await login(client, "sup") == 303
    for query in FAR_DATES:
        for path in ("/calls", "/api/calls", "/calls.csv", "/stats", "/api/stats"):
            await _refused(
                client,
                f"{path}?{query}",
                "a date is written YYYY-MM-DD, from 1900-01-01 to 2999-12-31",
            )
    search = await client.post(
        "/api/calls/search",
        json={"to": "9999-12-31"},
        headers={"X-CSRF-Token": await csrf_token(client)},
    )
    assert search.status == 400 and "2999-12-31" in (await search.json())["error"]
    assert (await client.get("/api/stats?from=2025-01-01&to=2025-01-07")).status == 200


async def test_ids_the_database_cannot_hold_are_refused(client: Client) -> None:
    assert await login(client, "sup") == 303
    for number in TOO_LARGE:
        for path in ("/calls/", "/api/calls/", "/recordings/"):
            await _refused(client, path + number, f"ids go up to {ROW_ID_MAX}")
    assert (await client.get(f"/api/calls/{ROW_ID_MAX}")).status == 404  # in range: no such call
    assert (await client.get(f"/recordings/{ROW_ID_MAX}")).status == 404


async def test_pages_beyond_the_last_possible_are_refused(client: Client) -> None:
    assert await login(client, "aud") == 303
    for path in ("/audit", "/api/audit"):
        await _refused(client, f"{path}?page=99999999999999999999999", "from 1 to 1000000")
    assert (await client.get("/api/audit?page=1000000")).status == 200  # empty, but a page
    await client.post("/logout", data={"csrf_token": await csrf_token(client)})
    assert await login(client, "sup") == 303
    await _refused(client, "/api/calls?per_page=201", "per_page is a whole number from 1 to 200")


async def test_api_errors_are_json_whatever_refuses_them(client: Client) -> None:
    assert await login(client, "sup") == 303
    unknown = await client.get("/api/no-such-thing")
    assert unknown.status == 404 and "error" in await unknown.json()
    token = {"X-CSRF-Token": await csrf_token(client)}
    wrong_method = await client.delete("/api/calls", headers=token)
    assert wrong_method.status == 405 and "GET" in wrong_method.headers["Allow"]
    assert "error" in await wrong_method.json()


@pytest.mark.parametrize("target", ["/\x0b/x", "/calls\r\nSet-Cookie: x=1", "/calls\nx", "/\x7f"])
async def test_a_next_it_cannot_send_is_not_followed(client: Client, target: str) -> None:
    page = await client.get("/login")
    token = page.cookies["hotline_login"].value.split(".")[0]
    response = await client.post(
        "/login",
        data={"csrf_token": token, "username": "sup", "password": PASSWORD, "next": target},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/live"
    assert "x" not in response.cookies
    assert (await client.get("/api/session")).status == 200  # logged in, on the role's home


async def test_no_response_names_the_server_s_versions(client: Client) -> None:
    answers = [await client.get(path) for path in ("/login", "/static/console.css", "/nowhere")]
    assert await login(client, "sup") == 303
    answers.append(await client.get("/api/live/stream"))  # a stream: headers sent at once
    for response in answers:
        assert response.headers["Server"] == "hotline", response.url
        response.close()
