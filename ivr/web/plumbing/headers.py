"""Security headers on every response: a strict content policy, no framing, no caching of pages.

Pages hold personal data (masked ID numbers, caller numbers, recordings), so only the static
files may be cached. The ``Server`` header names no versions (aiohttp's names Python's and its
own): it is set as each response is prepared, streams and files included.
"""

from __future__ import annotations

from aiohttp import web

from ivr.web.plumbing.routing import Handler

__all__ = ["SERVER", "name_server", "security_headers"]

# Scripts and styles come from /static only: no inline script runs, no CDN is ever asked.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SERVER = "hotline"


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
        _secure(request, response)
        raise
    _secure(request, response)
    return response


def _secure(request: web.Request, response: web.StreamResponse) -> None:
    if response.prepared:  # a stream (live events, a file) sent its headers already
        return
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if not request.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")  # pages hold personal data


async def name_server(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the server's name without versions."""
    response.headers["Server"] = SERVER
