"""Routes as frozen data, each with the roles allowed on it; the guard that enforces them.

Every route names its roles (or says ``public=True``), so a page cannot be added without deciding
who may see it; a page that belongs in the navigation menu says so on its route (``menu=``) and
``menu.Menu`` lists it for those same roles. A handler that is not a coroutine function, or a
route added twice, fails when the app is built, not when the page is first requested.

A path parameter written ``{name:id}`` is a row id: digits, refused with a 400 before the handler
runs when the database could not hold it (rather than failing in the database with a 500).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from ivr.store.types import ROW_ID_MAX
from ivr.store.users import Role
from ivr.web.plumbing.errors import Refusal, error_response, forbidden, is_api
from ivr.web.plumbing.i18n import Text, _l
from ivr.web.state import session_of

__all__ = [
    "Handler",
    "Route",
    "Routes",
    "add_routes",
    "see_other",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ROW_ID = re.compile(r"\{(\w+):id\}")
_ROW_ID_DIGITS = len(str(ROW_ID_MAX))


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    public: bool = False
    menu: Text | None = None  # the page's label in the navigation menu
    ids: tuple[str, ...] = ()  # its path parameters that are row ids


class Routes:
    """Collects routes with decorators: ``@routes.get("/calls", roles=SUPERVISORS)``."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def get(
        self,
        path: str,
        *,
        roles: Iterable[Role] = (),
        public: bool = False,
        menu: Text | None = None,
    ) -> Callable[[Handler], Handler]:
        """``menu``: list the page in the navigation menu, under this label, for its roles."""
        return self._add("GET", path, roles, public, menu)

    def post(
        self, path: str, *, roles: Iterable[Role] = (), public: bool = False
    ) -> Callable[[Handler], Handler]:
        return self._add("POST", path, roles, public, None)

    def _add(
        self, method: str, path: str, roles: Iterable[Role], public: bool, menu: Text | None
    ) -> Callable[[Handler], Handler]:
        allowed = frozenset(roles)
        if public == bool(allowed):
            raise ValueError(f"{method} {path}: give either roles or public=True")
        if menu is not None and (public or "{" in path):
            raise ValueError(f"{method} {path}: a menu entry is a fixed path for some roles")

        ids = tuple(_ROW_ID.findall(path))
        pattern = _ROW_ID.sub(r"{\1:\\d+}", path)

        def register(handler: Handler) -> Handler:
            if not inspect.iscoroutinefunction(handler):
                raise TypeError(f"{method} {path}: handler {handler!r} is not a coroutine function")
            self._routes.append(Route(method, pattern, handler, allowed, public, menu, ids))
            return handler

        return register

    def __iter__(self) -> Iterator[Route]:
        return iter(self._routes)


def add_routes(app: web.Application, *tables: Routes) -> None:
    seen: set[tuple[str, str]] = set()
    for table in tables:
        for route in table:
            if (route.method, route.path) in seen:
                raise ValueError(f"route {route.method} {route.path} defined twice")
            seen.add((route.method, route.path))
            app.router.add_route(route.method, route.path, _guarded(route))


def see_other(location: str) -> web.Response:
    """A 303 redirect (after a POST, or to the log-in page) as a plain response."""
    return web.Response(status=303, headers={"Location": location})


def _check_ids(request: web.Request, names: tuple[str, ...]) -> None:
    for name in names:
        digits = request.match_info[name].lstrip("0")
        if len(digits) > _ROW_ID_DIGITS or int(digits or "0") > ROW_ID_MAX:
            raise Refusal(
                400, _l("%(name)s is too large: ids go up to %(max)s.", name=name, max=ROW_ID_MAX)
            )


def _guarded(route: Route) -> Handler:
    async def guard(request: web.Request) -> web.StreamResponse:
        if route.public:
            return await route.handler(request)
        session = session_of(request)
        if session is None:
            if is_api(request):
                return await error_response(request, 401, _l("Please log in."))
            target = quote(request.path_qs if request.method == "GET" else "/", safe="")
            return see_other(f"/login?next={target}")
        if session.user.role not in route.roles:
            return await forbidden(request, _l("Your role has no access to this page."))
        _check_ids(request, route.ids)
        return await route.handler(request)

    guard.__name__ = getattr(route.handler, "__name__", "guard")
    return guard
