"""How the console refuses a request: ``{"error": ...}`` under ``/api/``, a small page elsewhere.

Handlers (and the router, for an unknown path or method) refuse by raising an ``HTTPException``
with a message for the user; ``client_errors`` answers every one of them the same way, so that an
API client never has to parse a plain-text or HTML error, and a person sees what was wrong.
"""

from __future__ import annotations

import html
from http import HTTPStatus

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = ["client_errors", "error_response", "forbidden", "is_api"]


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    if is_api(request):
        return web.json_response({"error": message}, status=status)
    title = f"{status} {HTTPStatus(status).phrase}"
    return web.Response(
        status=status,
        text=f"<!doctype html><title>{title}</title><h1>{title}</h1>"
        f"<p>{html.escape(message)}</p>"
        '<p><a href="/">Back</a></p>',
        content_type="text/html",
    )


def forbidden(request: web.Request, message: str = "forbidden") -> web.Response:
    return error_response(request, 403, message)


@web.middleware
async def client_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:  # a redirect
            raise
        response = error_response(request, error.status, error.text or error.reason)
        if "Allow" in error.headers:  # 405: the methods the path takes
            response.headers["Allow"] = error.headers["Allow"]
        return response
