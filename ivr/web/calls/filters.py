"""The call log's filters, read from a query string (pages, API, CSV) and written back to links.

An ID number is never among them: a typed number is turned into its keyed hash (``idh``) and
masked form (``idm``) by ``with_id_number`` and only those travel in URLs, so the clear number
never reaches an address bar, a browser history or an access log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from ivr.domain.clock import day_bounds, local_today
from ivr.domain.hotlines import HOTLINES
from ivr.domain.idnumber import IdNumberError, id_hash, parse_id
from ivr.domain.outcomes import Outcome
from ivr.store.console import CallQuery
from ivr.web.plumbing.i18n import TextError, _l
from ivr.web.plumbing.labels import ID_PROBLEMS
from ivr.web.plumbing.paging import MAX_PAGE, day, whole_number

__all__ = [
    "CALLER_PATTERN",
    "DEFAULT_PER_PAGE",
    "ID_HASH_PATTERN",
    "MAX_PER_PAGE",
    "OUTCOMES",
    "CallFilter",
    "FilterError",
]

OUTCOMES = tuple(Outcome)
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
ID_HASH_PATTERN = r"[0-9a-fA-F]{64}"
_HASH = re.compile(ID_HASH_PATTERN)
_MASKED = re.compile(r"[0-9]{6}\*{5,8}[0-9]{3}[0-9X]")
CALLER_PATTERN = r"[0-9+*#]{1,40}"
_CALLER = re.compile(CALLER_PATTERN)


class FilterError(TextError):
    """A filter value that cannot be used; the message is safe to show (never holds an ID)."""


@dataclass(frozen=True)
class CallFilter:
    date_from: date | None = None
    date_to: date | None = None
    hotline: str = ""
    outcome: str = ""
    caller: str = ""
    idh: str = ""  # keyed hash of the ID number searched for
    idm: str = ""  # its masked form, to show what is being searched
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> CallFilter:
        """The filters of a query (an empty value is no filter); what a person typed is trimmed
        by the form's handler, so that the API takes values exactly as it describes them."""

        def get(name: str) -> str:
            return str(params.get(name, ""))

        hotline, outcome, caller = get("hotline"), get("outcome"), get("caller")
        idh, idm = get("idh").lower(), get("idm").upper()
        if hotline and hotline not in HOTLINES:
            raise FilterError(_l("Unknown hotline %(hotline)s.", hotline=repr(hotline)))
        if outcome and outcome not in OUTCOMES:
            raise FilterError(_l("Unknown outcome %(outcome)s.", outcome=repr(outcome)))
        if caller and not _CALLER.fullmatch(caller):
            raise FilterError(_l("A caller number has only digits, + * and #."))
        if idh and not _HASH.fullmatch(idh):
            raise FilterError(_l("Malformed ID reference."))
        if idm and not _MASKED.fullmatch(idm):
            idm = ""
        first, last = _date(get("from"), "from"), _date(get("to"), "to")
        if first and last and first > last:
            raise FilterError(_l("The first day is after the last."))
        return cls(
            date_from=first,
            date_to=last,
            hotline=hotline,
            outcome=outcome,
            caller=caller,
            idh=idh,
            idm=idm if idh else "",
            page=_number(get("page"), "page", 1, MAX_PAGE),
            per_page=_number(get("per_page"), "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
        )

    def with_id_number(self, typed: str, key: bytes) -> CallFilter:
        """Search by a typed ID number: validated, then kept only as hash and masked form."""
        try:
            resident = parse_id(typed, today=local_today())
        except IdNumberError as error:
            raise FilterError(
                _l("Not a valid ID number: %(problem)s.", problem=ID_PROBLEMS[error.problem])
            ) from None
        return replace(self, idh=id_hash(key, resident), idm=resident.masked)

    def query(self) -> CallQuery:
        start, end = day_bounds(self.date_from, self.date_to)
        return CallQuery(
            start=start,
            end=end,
            hotline=self.hotline or None,
            outcome=self.outcome or None,
            caller=self.caller or None,
            id_hash=self.idh or None,
        )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def params(self, **changes: object) -> dict[str, str]:
        """The non-empty filters as query parameters (``changes`` override, e.g. ``page=2``)."""
        values: dict[str, object] = {
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "hotline": self.hotline,
            "outcome": self.outcome,
            "caller": self.caller,
            "idh": self.idh,
            "idm": self.idm,
            "page": self.page if self.page != 1 else "",
            "per_page": self.per_page if self.per_page != DEFAULT_PER_PAGE else "",
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def url(self, path: str, **changes: object) -> str:
        params = self.params(**changes)
        return f"{path}?{urlencode(params)}" if params else path

    def describe(self) -> str:
        """A one-line summary for the audit log (the ID only masked)."""
        parts = [f"{k}={v}" for k, v in self.params(page="", per_page="").items() if k != "idh"]
        return ", ".join(parts) or "no filter"


def _date(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return day(text, name)
    except TextError as error:
        raise FilterError(error.text) from None


def _number(text: str, name: str, default: int, high: int) -> int:
    try:
        return whole_number(text, name, default=default, low=1, high=high)
    except TextError as error:
        raise FilterError(error.text) from None
