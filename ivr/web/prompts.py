"""The prompt catalog (``/prompts``): every key with its text in each language and a player for
the sound ``hotline prompts build`` made, when there is one
(``<prompts_dir>/<lang>/hotline/<key>.wav``).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ivr.speech.catalog import LANGUAGES, Catalog
from ivr.web.plumbing.errors import Refusal
from ivr.web.plumbing.i18n import _l
from ivr.web.plumbing.roles import SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.state import console

__all__ = ["prompt_keys", "routes"]

PROMPT_FOLDER = "hotline"
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")

routes = Routes()


def prompt_keys(catalog: Catalog) -> list[str]:
    """Keys in catalog order (prompts first, then read-back fragments), each once."""
    keys: dict[str, None] = {}
    for language in LANGUAGES:
        keys.update(dict.fromkeys(catalog.texts.get(language, {})))
    return list(keys)


def _sound(prompts_dir: Path, language: str, key: str) -> Path:
    return prompts_dir / language / PROMPT_FOLDER / f"{key}.wav"


def _built(prompts_dir: Path, keys: list[str]) -> set[tuple[str, str]]:
    """(language, key) of every built sound; blocking (many stats): run in a thread."""
    found: set[tuple[str, str]] = set()
    for language in LANGUAGES:
        folder = prompts_dir / language / PROMPT_FOLDER
        if not folder.is_dir():
            continue
        names = {p.name for p in folder.iterdir()}
        found.update((language, key) for key in keys if f"{key}.wav" in names)
    return found


@routes.get("/prompts", roles=SUPERVISORS, menu=_l("Prompts"))
async def prompts_page(request: web.Request) -> web.StreamResponse:
    state = console(request)
    keys = prompt_keys(state.catalog)
    built = await asyncio.to_thread(_built, state.settings.prompts_dir, keys)
    rows = [
        {
            "key": key,
            "texts": {lang: state.catalog.texts.get(lang, {}).get(key, "") for lang in LANGUAGES},
            "built": {lang: (lang, key) in built for lang in LANGUAGES},
        }
        for key in keys
    ]
    context: dict[str, Any] = {
        "rows": rows,
        "call_languages": LANGUAGES,
        "built_count": len(built),
        "prompts_dir": state.settings.prompts_dir,
    }
    return aiohttp_jinja2.render_template("prompts.html", request, context)


@routes.get(r"/prompts/audio/{lang}/{key}.wav", roles=SUPERVISORS)
async def prompt_audio(request: web.Request) -> web.StreamResponse:
    state = console(request)
    language, key = request.match_info["lang"], request.match_info["key"]
    # Only a known language and a catalog key: nothing typed in the URL reaches the file system.
    if language not in LANGUAGES or not _KEY.fullmatch(key):
        raise web.HTTPNotFound()
    if key not in state.catalog.texts.get(language, {}):
        raise web.HTTPNotFound()
    path = _sound(state.settings.prompts_dir, language, key)
    if not await asyncio.to_thread(path.is_file):
        raise Refusal(404, _l("Not built yet: run `hotline prompts build`."))
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})
