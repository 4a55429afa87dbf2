"""The console's message catalogues: how they are made from the code and checked.

The messages are the English texts in the console's Python code (``_l``, ``_nl``, ``N_``) and
templates (``_``, ``gettext``, ``ngettext``, ``{% trans %}``), found as ``METHODS`` says. The
JavaScript in ``ivr/web/static`` has no text of its own: pages hand it their words in data
attributes, and the server sends live data already in the reader's language. With pybabel the
same extraction is::

    pybabel extract -k _l -k _nl:1,2 -F <a mapping file with METHODS and OPTIONS> -o messages.pot .
``<code>/LC_MESSAGES/messages.po`` holds each language's translations (English needs none: its
texts are the message ids). The console compiles them in memory when it starts
(``ivr.web.plumbing.i18n``).

    .venv/bin/python -m ivr.web.locale update   # new messages in, gone ones out (then translate)
    .venv/bin/python -m ivr.web.locale check    # what is missing, fuzzy, wrong or out of date

The tests run ``problems``: a catalogue that does not translate every message the code has, has
a fuzzy or obsolete entry, or a translation whose placeholders differ from its message's, fails.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from ivr.web.plumbing.i18n import DOMAIN, LOCALES, SOURCE_LOCALE, catalogue_file

__all__ = ["KEYWORDS", "METHODS", "Problem", "extract", "problems", "translated", "update"]

# The folder that holds the ``ivr`` package (a checkout, or site-packages): the messages'
# locations are written relative to it (``ivr/web/audit.py``).
SOURCES = Path(__file__).resolve().parents[3]
METHODS = [("ivr/web/**.py", "python"), ("ivr/web/templates/**.html", "jinja2")]
# As the console's Jinja2 environment (ext.i18n.trimmed): a {% trans %} block's line breaks and
# indentation are not part of its message.
OPTIONS = {"ivr/web/templates/**.html": {"trimmed": "true"}}
# Babel's defaults (``_``, ``gettext``, ``ngettext``, ``N_``...) and the console's lazy ``Text``s.
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "_l": None,
    "_nl": (1, 2),
}


@dataclass(frozen=True)
class Problem:
    locale: str
    message: str
    what: str

    def __str__(self) -> str:
        return f"{self.locale}: {self.what}: {self.message!r}"


def translated() -> list[str]:
    """The languages with a catalogue (all but the language of the message ids)."""
    return [code for code in LOCALES if code != SOURCE_LOCALE]


def extract() -> Catalog:
    """Every message of the console's code and templates, as a template catalogue (.pot)."""
    catalogue = Catalog(domain=DOMAIN, project="hotline console", charset="utf-8")
    found = extract_from_dir(
        SOURCES, METHODS, OPTIONS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    )
    for filename, line, message, comments, context in found:
        where = [(str(Path(filename)), line)]
        catalogue.add(message, None, where, auto_comments=comments, context=context)
    return catalogue


def _new(code: str) -> Catalog:
    return Catalog(
        locale=code,
        domain=DOMAIN,
        project="hotline console",
        version="1",
        copyright_holder="the hotline authors",
        msgid_bugs_address="",
        last_translator="the hotline authors",
        language_team=LOCALES[code],
        fuzzy=False,
    )


def _read(code: str) -> Catalog:
    with catalogue_file(code).open("rb") as source:
        return read_po(source, locale=code, domain=DOMAIN)


def update() -> list[str]:
    """Bring each catalogue in step with the code (new messages empty, obsolete ones dropped);
    the languages whose file changed."""
    template = extract()
    changed = []
    for code in translated():
        path = catalogue_file(code)
        catalogue = _read(code) if path.exists() else _new(code)
        before = path.read_bytes() if path.exists() else b""
        created = catalogue.creation_date
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.obsolete.clear()
        catalogue.creation_date = created  # unchanged when nothing else is: no churn in git
        out = io.BytesIO()
        # Files without line numbers: moving code about does not touch the catalogues.
        write_po(out, catalogue, width=100, include_lineno=False)
        if out.getvalue() != before:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(out.getvalue())
            changed.append(code)
    return changed


def problems(
    template: Catalog | None = None, catalogues: Mapping[str, Catalog] | None = None
) -> list[Problem]:
    """What keeps a catalogue from translating the console as it is: a message of the code
    missing or untranslated, fuzzy, obsolete (no longer in the code), or with placeholders that
    differ from its message's. By default the code's messages and the committed catalogues."""
    template = extract() if template is None else template
    if catalogues is None:
        catalogues = {code: _read(code) for code in translated()}
    wanted = {message.id for message in template if message.id}
    found: list[Problem] = []
    for code, catalogue in catalogues.items():
        have = {message.id for message in catalogue if message.id}
        found += [
            Problem(code, _id(m), "not in the catalogue") for m in sorted(wanted - have, key=_id)
        ]
        found += [
            Problem(code, _id(m), "no longer in the code") for m in sorted(have - wanted, key=_id)
        ]
        found += [Problem(code, _id(m), "obsolete entry") for m in catalogue.obsolete]
        for message in catalogue:
            if not message.id:
                continue
            if message.fuzzy:
                found.append(Problem(code, _id(message.id), "fuzzy"))
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                found.append(Problem(code, _id(message.id), "not translated"))
            for error in message.check(catalogue):
                found.append(Problem(code, _id(message.id), f"wrong: {error}"))
    return found


def _id(message_id: object) -> str:
    return message_id[0] if isinstance(message_id, tuple) else str(message_id)
