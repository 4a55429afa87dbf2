"""Policy figures the prompts state in words, and the settings they must agree with.

A recorded prompt cannot change with a setting, so the texts that state a figure (the 24-hour
lock, the ten days a provisional report lasts, the fifteen working days a new card takes) are
listed here with the setting, and the engine refuses to start when a text in some language no
longer says what the setting does: change the text in ``prompts/catalog.yaml`` together with the
setting (``HOTLINE_PASSWORD_LOCK_HOURS``, ...). The figures read back with a value (a date, a
reference) need no such care.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.config import Settings
from ivr.speech import readback
from ivr.speech.catalog import LANGUAGES, Catalog

__all__ = ["STATED_FIGURES", "figure_problems"]

# The words after the number, in each language (hours are feminine in Spanish).
_UNITS: Mapping[str, tuple[Mapping[str, str], bool]] = {
    "hours": ({"zh": "小时", "en": "hours", "es": "horas"}, True),
    "days": ({"zh": "天", "en": "days", "es": "días"}, False),
    "working_days": ({"zh": "个工作日", "en": "working days", "es": "días hábiles"}, False),
}

# setting -> (its unit, the prompts that state it)
STATED_FIGURES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "password_lock_hours": ("hours", ("account_locked", "password_wrong_last_try")),
    "provisional_lapse_days": ("days", ("info_provisional", "info_formal")),
    "reissue_working_days": ("working_days", ("info_formal",)),
}


def _said(catalog: Catalog, language: str, figure: int, unit: str) -> str:
    words, feminine = _UNITS[unit]
    number = catalog.render(language, readback.number(language, figure, feminine=feminine))
    return _plain(f"{number}{'' if language == 'zh' else ' '}{words[language]}")


def _plain(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())


def figure_problems(catalog: Catalog, settings: Settings) -> list[str]:
    """Every prompt whose text does not state its setting's figure, in each language."""
    problems: list[str] = []
    for setting, (unit, keys) in STATED_FIGURES.items():
        figure = getattr(settings, setting)
        for language in LANGUAGES:
            said = _said(catalog, language, figure, unit)
            for key in keys:
                if said not in _plain(catalog.text(language, key)):
                    problems.append(f"{language}:{key} does not say {said!r} ({setting}={figure})")
    return problems
