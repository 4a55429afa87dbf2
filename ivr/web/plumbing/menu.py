"""The navigation menu, read off the route tables: the GET pages that carry a ``menu`` label.

A role sees, in the order the tables are given to the app, the labelled pages its role may open,
so the menu cannot offer a page that answers 403 nor miss one the role has. A role lands on its
first entry after log-in; a role without any entry fails when the app is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from ivr.store.users import Role
from ivr.web.plumbing.i18n import Text
from ivr.web.plumbing.routing import Routes

__all__ = ["MENU", "Menu", "MenuEntry"]


@dataclass(frozen=True)
class MenuEntry:
    path: str
    label: Text
    roles: frozenset[Role]


@dataclass(frozen=True)
class Menu:
    entries: tuple[MenuEntry, ...]

    @classmethod
    def from_routes(cls, tables: Iterable[Routes]) -> Menu:
        entries = tuple(
            MenuEntry(route.path, route.menu, route.roles)
            for table in tables
            for route in table
            if route.menu is not None
        )
        homeless = [role.value for role in Role if not any(role in e.roles for e in entries)]
        if homeless:
            raise ValueError(f"no menu entry for the role(s) {', '.join(homeless)}")
        return cls(entries)

    def for_role(self, role: Role) -> list[MenuEntry]:
        return [entry for entry in self.entries if role in entry.roles]

    def home(self, role: Role) -> str:
        """Where a user of ``role`` lands: the first page of its menu."""
        return self.for_role(role)[0].path


MENU = web.AppKey("menu", Menu)
