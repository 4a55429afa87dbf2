"""The console's languages: Simplified Chinese first, English second; each person's choice.

Texts are written in English in the code and the templates (the gettext message ids) and
translated through the catalogues in ``ivr/web/locale`` (``ivr.web.locale`` makes and checks
them). The catalogues are compiled in memory when the console starts, so a fresh clone needs no
build step and no compiled file can be older than its source.

A request's language (``language(request)``): the logged-in account's (``users.locale``), else
the one chosen on the log-in page (a cookie), else Simplified Chinese. Every page offers the
switch (``ivr.web.language``).

A message the Python code shows a person is a ``Text`` (``_l``/``_nl``): its id and parameters,
translated when it is shown, in the language of whoever sees it; ``str()`` gives the English.
Dates and times are shown in China Standard Time (``ivr.domain.clock``) in the language's own
format, numbers and money (元) by Babel.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final

from aiohttp import web
from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

from ivr.domain.clock import local
from ivr.store.users import DEFAULT_LOCALE
from ivr.web.state import console, session_of

__all__ = [
    "DOMAIN",
    "LANG_COOKIE",
    "LOCALES",
    "LOCALE_DIR",
    "Language",
    "Languages",
    "Text",
    "TextError",
    "_l",
    "_nl",
    "language",
    "load_languages",
]

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANG_COOKIE = "hotline_lang"  # the language chosen before logging in
# Each language named in itself (a person who cannot read the page still finds their own).
LOCALES: Final[Mapping[str, str]] = {"zh_Hans_CN": "简体中文", "en": "English"}
SOURCE_LOCALE = "en"  # the message ids are the English texts: English needs no catalogue
CURRENCY = "CNY"
assert DEFAULT_LOCALE in LOCALES


@dataclass(frozen=True)
class Text:
    """A message for a person, translated when shown: ``_l("no call %(id)s", id=3)``.

    Parameters are ``%(name)s`` placeholders (gettext's python-format); a parameter that is
    itself a ``Text`` is translated too.
    """

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)
    plural: str | None = None
    count: int = 1

    def __str__(self) -> str:
        template = self.msgid if self.plural is None or self.count == 1 else self.plural
        values = {k: str(v) for k, v in self.params.items()}
        return template % values if values or self.plural is not None else template


def _l(msgid: str, **params: object) -> Text:
    """A message to translate when it is shown (extracted by ``ivr.web.locale``)."""
    return Text(msgid, params)


def _nl(singular: str, plural: str, count: int, **params: object) -> Text:
    """A message with a count: ``_nl("%(num)s call", "%(num)s calls", n)``."""
    return Text(singular, {"num": count, **params}, plural, count)


class TextError(ValueError):
    """A refusal whose message (a ``Text``) is shown to the person who asked."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


@dataclass(frozen=True)
class Language:
    """One language: its translations and Babel's formats for it."""

    code: str  # as stored in ``users.locale``: zh_Hans_CN, en
    locale: Locale
    translations: gettext.NullTranslations

    @property
    def name(self) -> str:
        return LOCALES[self.code]

    @property
    def tag(self) -> str:
        """The BCP 47 tag (``<html lang>``, the browser's own formats): zh-Hans-CN, en."""
        parts = (self.locale.language, self.locale.script, self.locale.territory)
        return "-".join(part for part in parts if part)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def text(self, text: Text | str) -> str:
        """A ``Text`` in this language (a plain string is taken as it is: data, not a message)."""
        if isinstance(text, str):
            return text
        if text.plural is None:
            template = self.gettext(text.msgid)
        else:
            template = self.ngettext(text.msgid, text.plural, text.count)
        values = {
            name: self.text(value) if isinstance(value, Text) else self._value(value)
            for name, value in text.params.items()
        }
        if text.plural is not None:  # the count is a quantity: grouped as the language does
            values["num"] = self.number(text.count)
        return template % values if values or text.plural is not None else template

    def _value(self, value: object) -> str:
        """A parameter as shown: a moment or a day in this language's format; anything else as
        it is (an id or a reference is not a quantity: ``12,333`` would be wrong)."""
        if isinstance(value, dt.datetime):
            return self.datetime(value)
        if isinstance(value, dt.date):
            return self.date(value)
        return str(value)

    # -- formats: China Standard Time, the language's own patterns -----------------------------

    def datetime(self, moment: dt.datetime | None, width: str = "medium") -> str:
        """A moment in China Standard Time: ``2026年3月3日 09:00:00``, ``Mar 3, 2026, 9:00 AM``."""
        return "" if moment is None else format_datetime(local(moment), width, locale=self.locale)

    def date(self, day: dt.date | dt.datetime | None, width: str = "medium") -> str:
        """A day (a moment's day in China Standard Time): ``2026年3月3日``, ``Mar 3, 2026``."""
        if day is None:
            return ""
        if isinstance(day, dt.datetime):
            day = local(day).date()
        return format_date(day, width, locale=self.locale)

    def weekday_date(self, day: dt.date | None) -> str:
        """A day with its weekday: ``2026年3月24日星期二``, ``Tuesday, March 24, 2026``."""
        return "" if day is None else format_date(day, "full", locale=self.locale)

    def time(self, moment: dt.datetime | None) -> str:
        """The time of day in China Standard Time: ``09:00:00``, ``9:00:00 AM``."""
        return "" if moment is None else format_time(local(moment), "medium", locale=self.locale)

    def month_day(self, day: dt.date) -> str:
        """A short day for a chart's axis: ``3月3日``, ``Mar 3``."""
        return format_skeleton("MMMd", day, locale=self.locale)

    def number(self, value: float | Decimal | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.locale)

    def percent(self, share: float | None) -> str:
        return "" if share is None else format_percent(share, locale=self.locale)

    def money(self, yuan: Decimal) -> str:
        """An amount in yuan: ``¥20.00`` in Chinese, ``CN¥20.00`` in English."""
        return format_currency(yuan, CURRENCY, locale=self.locale)


@dataclass(frozen=True)
class Languages:
    """Every language of the console, by code; the default for a person who chose none."""

    by_code: Mapping[str, Language]

    @property
    def default(self) -> Language:
        return self.by_code[DEFAULT_LOCALE]

    def get(self, code: str | None) -> Language:
        return self.by_code.get(code or "", self.default)

    def __iter__(self) -> Iterator[Language]:
        return iter(self.by_code.values())


def catalogue_file(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compiled(code: str) -> gettext.NullTranslations:
    """The language's catalogue compiled in memory (fuzzy entries are not used)."""
    if code == SOURCE_LOCALE:
        return gettext.NullTranslations()
    with catalogue_file(code).open("rb") as source:
        catalogue = read_po(source, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def load_languages() -> Languages:
    """Every language with its catalogue. Blocking (reads the files): call it from a thread."""
    return Languages(
        {code: Language(code, Locale.parse(code), _compiled(code)) for code in LOCALES}
    )


_LANGUAGE = web.RequestKey("language", Language)


def language(request: web.Request) -> Language:
    """The language of the person asking: their account's, or the one chosen before log-in."""
    found = request.get(_LANGUAGE)
    if found is None:
        session = session_of(request)
        languages = console(request).languages
        if session is not None:
            found = languages.get(session.user.locale)
        else:
            found = languages.get(request.cookies.get(LANG_COOKIE))
        request[_LANGUAGE] = found
    return found
