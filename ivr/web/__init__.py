"""The supervisor console: an aiohttp app with server-rendered pages and a JSON API.

``create_app(settings, database, live=...)`` builds it; ``start_web`` serves it and returns a
``WebServer`` to ``close``. ``hotline web`` runs it alone; ``hotline up`` next to the hotline.

The folders follow the console's menu, so a page, its API and what they rely on are found where
the URL says: each resource (``live``, ``calls/``, ``cases/``, ``stats/``, ``prompts``, ``audit``,
``auth``) holds its page(s) and its ``/api/`` routes together; a resource with several pages or
helpers is a package. ``plumbing/`` is what every page relies on and none owns (sessions, CSRF,
routes and roles, menu, headers, templating, the audit helper). ``serialize`` turns the store's
views into the API's JSON, ``openapi`` describes that API, ``state`` is what handlers share.
"""

from ivr.web.app import WebServer, create_app, start_web

__all__ = ["WebServer", "create_app", "start_web"]
