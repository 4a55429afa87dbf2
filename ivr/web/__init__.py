"""The supervisor console: an aiohttp app with server-rendered pages and a JSON API.

``create_app(settings, database, live=...)`` builds it; ``start_web`` serves it and returns a
``WebServer`` to ``close``. ``hotline web`` runs it alone; ``hotline up`` next to the hotline.
"""

from ivr.web.app import WebServer, create_app, start_web

__all__ = ["WebServer", "create_app", "start_web"]
