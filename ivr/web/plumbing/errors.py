"""How the console refuses a request: ``{"error": ...}`` under ``/api/``, a page elsewhere, both in
the language of the person asking.

Handlers refuse by raising ``Refusal(status, text)`` with a message for the user (a ``Text``,
translated when shown); the router refuses an unknown path or method with aiohttp's own
``HTTPException``, which is answered with the status's name. ``client_errors`` answers every one
of them the same way, so that an API client never has to parse a plain-text or HTML error, and a
person sees, in their language and on a page with the console's header, what was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from ivr.web.plumbing.i18n import Text, TextError, _l, language

__all__ = ["Refusal", "client_errors", "error_response", "forbidden", "is_api"]

# What each status means to a person (a refusal without a message of its own says this).
STATUS_TEXTS: Final[Mapping[int, Text]] = {
    400: _l("The request cannot be used."),
    401: _l("Please log in."),
    403: _l("You have no access to this."),
    404: _l("There is nothing here."),
    405: _l("This address does not take that kind of request."),
    409: _l("Not possible in the current state."),
    410: _l("This is gone."),
    413: _l("What was sent is too large."),
    429: _l("Too many requests: try again in a moment."),
}
_FALLBACK = _l("The request was refused.")


class Refusal(Exception):
    """A request refused with ``status``; ``text`` tells the person why."""

    def __init__(self, status: int, text: Text) -> None:
        super().__init__(str(text))
        self.status = status
        self.text = text


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


async def error_response(request: web.Request, status: int, text: Text | str) -> web.Response:
    lang = language(request)
    message = lang.text(text)  # a plain string: a message no one could translate, as it is
    if is_api(request):
        return web.json_response({"error": message}, status=status)
    if aiohttp_jinja2.REQUEST_CONTEXT_KEY not in request:  # refused before the page context
        context: dict[str, object] = {}
        for processor in request.app[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY]:
            context.update(await processor(request))
        request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = context
    return aiohttp_jinja2.render_template(
        "error.html",
        request,
        {
            "status": status,
            "what": lang.text(STATUS_TEXTS.get(status, _FALLBACK)),
            "message": message,
        },
        status=status,
    )


async def forbidden(request: web.Request, text: Text) -> web.Response:
    return await error_response(request, 403, text)


def _message(error: web.HTTPException) -> Text | str:
    """What an ``HTTPException`` tells: the ``TextError`` it was raised from (translated), the
    text it was given, or (aiohttp's own: ``404: Not Found``) what its status means."""
    cause = error.__context__
    if isinstance(cause, TextError):
        return cause.text
    if error.text and error.text != f"{error.status}: {error.reason}":
        return error.text
    return STATUS_TEXTS.get(error.status, _FALLBACK)


@web.middleware
async def client_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refusal as refusal:
        return await error_response(request, refusal.status, refusal.text)
    except web.HTTPException as error:
        if error.status < 400:  # a redirect
            raise
        response = await error_response(request, error.status, _message(error))
        if "Allow" in error.headers:  # 405: the methods the path takes
            response.headers["Allow"] = error.headers["Allow"]
        return response
