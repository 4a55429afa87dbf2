"""``hotline prompts build|list|pinyin``: turn the catalog into the sound files Asterisk plays."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import yaml

from ivr.config import Settings
from ivr.prompts import AUTO, ENGINE_NAMES, build_prompts, is_built
from ivr.prompts.manifest import Manifest
from ivr.prompts.pinyin import Readings, polyphones_read, to_tone_pinyin
from ivr.speech.catalog import CATALOG_DIR, LANGUAGES, Catalog
from ivr.speech.readback import SILENCES

__all__ = ["add_parser"]


def _engine_name(value: str) -> str:
    if value in (*ENGINE_NAMES, AUTO) or ":" in value:
        return value
    raise argparse.ArgumentTypeError(
        f"{value!r}: use {', '.join((*ENGINE_NAMES, AUTO))} or package.module:Class"
    )


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("prompts", help="build and list the voice prompts")
    commands = parser.add_subparsers(dest="prompts_command", required=True)

    build = commands.add_parser(
        "build",
        help="synthesise, trim, normalise and convert the prompts that changed",
        description="Build the catalog into <prompts_dir>/<lang>/hotline/<key>.{wav,sln16,ulaw}. "
        "A recording at <catalog>/recorded/<lang>/<key>.wav is used instead of synthesis.",
    )
    _add_common(build)
    build.add_argument(
        "--engine",
        type=_engine_name,
        default=AUTO,
        help="gtts (online), espeak (offline), auto: gtts when reachable (default), "
        "or package.module:Class",
    )
    build.add_argument("--force", action="store_true", help="rebuild every prompt")
    build.add_argument(
        "--jobs", type=_positive, default=None, help="conversions at once (default: CPU count)"
    )
    build.add_argument(
        "--recorded",
        type=Path,
        default=None,
        help="folder of human recordings <lang>/<key>.wav (default: <catalog>/recorded)",
    )
    build.set_defaults(func=run_build)

    listing = commands.add_parser("list", help="every prompt with its text and whether it is built")
    _add_common(listing)
    listing.set_defaults(func=run_list)

    pinyin = commands.add_parser(
        "pinyin",
        help="the pinyin the offline Mandarin voice reads, for review",
        description="Print each Mandarin prompt's text and the tone-numbered pinyin espeak-ng is "
        "given, as YAML entries of tests/prompts/expected_pinyin.yaml, with the polyphones and "
        "the reading chosen for each. Review them before copying them there; correct a wrong "
        "reading in <catalog>/pinyin.yaml.",
    )
    pinyin.add_argument("keys", nargs="*", metavar="KEY", help="only these prompts")
    pinyin.add_argument(
        "--catalog",
        type=Path,
        default=CATALOG_DIR,
        help="folder holding catalog.yaml, fragments.yaml and pinyin.yaml",
    )
    pinyin.set_defaults(func=run_pinyin)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        action="append",
        choices=LANGUAGES,
        help="only this language (repeatable; default: all)",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        default=CATALOG_DIR,
        help="folder holding catalog.yaml and fragments.yaml",
    )


def run_build(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.load(args.catalog)
    report = asyncio.run(
        build_prompts(
            settings,
            catalog,
            languages=args.lang or LANGUAGES,
            engine=args.engine,
            force=args.force,
            jobs=args.jobs,
            recorded_dir=args.recorded or args.catalog / "recorded",
        )
    )
    print(report.summary())
    if not report.ok:
        print(f"hotline: {len(report.failures)} prompt(s) failed to build", file=sys.stderr)
        return 1
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.load(args.catalog)
    manifest = Manifest.load(settings.prompts_dir)
    rows: list[tuple[str, str, str, str]] = []
    for lang in args.lang or LANGUAGES:
        for key in sorted(catalog.keys(lang)):
            text = catalog.text(lang, key)
            entry = manifest.get(lang, key)
            if not is_built(settings, lang, key) or entry is None:
                built = "no"
            elif entry.source == "recorded" or entry.text == text:
                built = "yes"
            else:
                built = "stale"  # built from an older wording; the next build redoes it
            rows.append((key, lang, built, " ".join(text.split())))
    width = max((len(row[0]) for row in rows), default=3)
    print(f"{'key':<{width}}  lang  built  text")
    for key, lang, built, text in rows:
        print(f"{key:<{width}}  {lang:<4}  {built:<5}  {text}")
    return 0


def mandarin_keys(catalog: Catalog) -> list[str]:
    """The keys the Mandarin voice speaks: every zh prompt and fragment but the silences."""
    return sorted(
        key
        for key in catalog.keys("zh")
        if catalog.voice("zh", key) == "zh" and key not in SILENCES
    )


def pinyin_entry(key: str, text: str, readings: Readings) -> str:
    """One reviewed-readings entry: the text, its pinyin, and the polyphones to check."""
    entry = yaml.safe_dump(
        {key: {"text": text, "pinyin": to_tone_pinyin(text, readings)}},
        allow_unicode=True,
        width=10_000,
        sort_keys=False,
    )
    review = polyphones_read(text, readings)
    if review:
        entry += "  # " + " · ".join(f"{char} {reading}" for char, reading in review) + "\n"
    return entry


def run_pinyin(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.load(args.catalog)
    readings = Readings.load(args.catalog / "pinyin.yaml")
    keys = args.keys or mandarin_keys(catalog)
    unknown = [key for key in keys if key not in catalog.keys("zh")]
    if unknown:
        print(f"hotline: no Mandarin prompt {', '.join(unknown)}", file=sys.stderr)
        return 2
    for key in keys:
        print(pinyin_entry(key, catalog.text("zh", key), readings), end="")
    return 0
