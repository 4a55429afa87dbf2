"""Building the catalog into sound files: what to redo, running it in parallel, the report."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ivr.config import Settings
from ivr.prompts.audio import FORMATS, Processing, process, silence
from ivr.prompts.manifest import Entry, Manifest, Source, prompt_hash, recording_hash
from ivr.prompts.tts import AUTO, ENGINE_NAMES, TtsEngine, create_engine, resolve_engine
from ivr.speech.catalog import CATALOG_DIR, LANGUAGES, Catalog
from ivr.speech.readback import SILENCES

__all__ = [
    "PROMPT_FOLDER",
    "RECORDED_DIR",
    "BuildReport",
    "PromptResult",
    "build_prompts",
    "built_sound_path",
    "is_built",
    "recorded_path",
    "tts_hash",
]

log = logging.getLogger(__name__)

PROMPT_FOLDER = "hotline"  # flows play "hotline/<key>"
RECORDED_DIR = CATALOG_DIR / "recorded"
# Keys become file names Asterisk is given: no separators, nothing hidden.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

Status = Literal["built", "unchanged", "failed", "removed"]


def built_sound_path(settings: Settings, lang: str, key: str, ext: str = "wav") -> Path:
    """The built sound of ``key`` in ``lang``: ``<prompts_dir>/<lang>/hotline/<key>.<ext>``."""
    if ext not in FORMATS:
        raise ValueError(f"no built format {ext!r}; formats: {', '.join(FORMATS)}")
    return settings.prompts_dir / lang / PROMPT_FOLDER / f"{key}.{ext}"


def is_built(settings: Settings, lang: str, key: str) -> bool:
    return all(built_sound_path(settings, lang, key, ext).exists() for ext in FORMATS)


def recorded_path(recorded_dir: Path, lang: str, key: str) -> Path:
    return recorded_dir / lang / f"{key}.wav"


@dataclass(frozen=True)
class PromptResult:
    lang: str
    key: str
    status: Status
    source: Source = "tts"
    engine: str = ""
    error: str = ""


@dataclass
class BuildReport:
    engine: str
    languages: tuple[str, ...]
    results: list[PromptResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[PromptResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def counts(self, lang: str) -> Counter[str]:
        return Counter(r.status for r in self.results if r.lang == lang)

    def summary(self) -> str:
        lines = [f"prompts: engine {self.engine}, {self.seconds:.1f} s"]
        for lang in self.languages:
            counts = self.counts(lang)
            recorded = sum(
                1
                for r in self.results
                if r.lang == lang and r.source == "recorded" and r.status != "failed"
            )
            line = (
                f"  {lang}: {counts['built']} built, {counts['unchanged']} unchanged, "
                f"{counts['failed']} failed"
            )
            extras = [f"{recorded} recorded"] if recorded else []
            if counts["removed"]:
                extras.append(f"{counts['removed']} removed")
            lines.append(line + (f" ({', '.join(extras)})" if extras else ""))
        lines += [f"  FAILED {r.lang}/{r.key}: {r.error}" for r in self.failures]
        return "\n".join(lines)


def tts_hash(engine: TtsEngine, speaker: str, text: str, processing: Processing) -> str:
    """The manifest hash of a synthesised prompt: what was said, by which voice, processed how.

    Blocking (it prepares the text: pinyin for the offline Mandarin voice): run it in a thread.
    """
    inputs = {
        "text": text,
        "speaker": speaker,
        "engine": engine.name,
        "voice": engine.settings_fingerprint(speaker),
        "processing": processing.fingerprint(),
    }
    said = engine.prepare_text(text, speaker)
    if said != text:  # a corrected reading rebuilds the prompts it changes, and only those
        inputs["said"] = said
    return prompt_hash(**inputs)


def _tts_hashes(
    engines: list[TtsEngine], speaker: str, text: str, processing: Processing
) -> dict[str, str]:
    return {engine.name: tts_hash(engine, speaker, text, processing) for engine in engines}


@dataclass(frozen=True)
class _Job:
    lang: str
    key: str
    text: str
    speaker: str  # the language whose voice speaks it ("For English, press 7" in every folder)
    recording: Path | None
    hash: str
    silence: float | None = None  # seconds: a pause, made rather than spoken


class _Builder:
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        engine: TtsEngine,
        accepted: list[TtsEngine],
        recorded_dir: Path,
        processing: Processing,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.engine = engine
        self.accepted = accepted  # engines whose earlier builds count as up to date
        self.recorded_dir = recorded_dir
        self.processing = processing
        self.manifest = Manifest.load(settings.prompts_dir)

    async def plan(self, lang: str, key: str, force: bool) -> _Job | PromptResult:
        """The job that builds ``key``, or its result when nothing needs doing."""
        text = self.catalog.text(lang, key)
        speaker = self.catalog.voice(lang, key)
        if not _KEY.fullmatch(key):
            return PromptResult(lang, key, "failed", error="key is not usable as a file name")
        recording = recorded_path(self.recorded_dir, lang, key)
        entry = self.manifest.get(lang, key)
        if key in SILENCES:
            seconds = SILENCES[key]
            wanted = prompt_hash(silence=f"{seconds:.3f}", processing=self.processing.fingerprint())
            job = _Job(lang, key, text, speaker, None, wanted, silence=seconds)
            up_to_date = entry is not None and entry.hash == wanted
        elif recording.exists():
            sha = await asyncio.to_thread(recording_hash, recording)
            wanted = prompt_hash(recording=sha, processing=self.processing.fingerprint())
            job = _Job(lang, key, text, speaker, recording, wanted)
            up_to_date = entry is not None and entry.hash == wanted
        else:
            hashes = await asyncio.to_thread(
                _tts_hashes, self.accepted, speaker, text, self.processing
            )
            job = _Job(lang, key, text, speaker, None, hashes[self.engine.name])
            up_to_date = entry is not None and hashes.get(entry.engine) == entry.hash
        if entry and up_to_date and not force and is_built(self.settings, lang, key):
            return PromptResult(lang, key, "unchanged", entry.source, entry.engine)
        return job

    async def run(self, job: _Job) -> PromptResult:
        source: Source = "recorded" if job.recording else "tts"
        engine = "" if job.recording else self.engine.name
        if job.silence is not None:
            source, engine = "silence", ""
        outputs = {ext: built_sound_path(self.settings, job.lang, job.key, ext) for ext in FORMATS}
        try:
            await asyncio.to_thread(outputs["wav"].parent.mkdir, parents=True, exist_ok=True)
            if job.silence is not None:
                await silence(outputs, job.silence)
            else:
                await self._speak(job, outputs)
        except Exception as exc:  # one prompt's failure is reported; the others still build
            log.debug("prompt %s/%s failed", job.lang, job.key, exc_info=True)
            return PromptResult(job.lang, job.key, "failed", source, engine, str(exc) or repr(exc))
        self.manifest.set(job.lang, job.key, Entry(job.hash, job.text, source, engine))
        log.debug("built %s/%s (%s)", job.lang, job.key, engine or source)
        return PromptResult(job.lang, job.key, "built", source, engine)

    async def _speak(self, job: _Job, outputs: dict[str, Path]) -> None:
        with tempfile.TemporaryDirectory(prefix="hotline-prompt-") as tmp:
            src = job.recording
            if src is None:
                src = Path(tmp) / "tts.wav"
                await self.engine.synthesize(job.text, job.speaker, src)
            await process(src, outputs, self.processing)

    def prune(self, lang: str) -> list[PromptResult]:
        """Remove what an earlier build made for keys no longer in the catalog."""
        gone = set(self.manifest.entries.get(lang, {})) - self.catalog.keys(lang)
        for key in sorted(gone):
            for ext in FORMATS:
                built_sound_path(self.settings, lang, key, ext).unlink(missing_ok=True)
            self.manifest.remove(lang, key)
        return [PromptResult(lang, key, "removed") for key in sorted(gone)]


def _accepted_engines(requested: str | TtsEngine, chosen: TtsEngine) -> list[TtsEngine]:
    """In auto mode an offline build keeps what a better engine built before (no downgrade)."""
    if requested != AUTO or chosen.name not in ENGINE_NAMES:
        return [chosen]
    better = ENGINE_NAMES[: ENGINE_NAMES.index(chosen.name)]
    return [create_engine(name) for name in better] + [chosen]


async def build_prompts(
    settings: Settings,
    catalog: Catalog,
    *,
    languages: Iterable[str] = LANGUAGES,
    engine: str | TtsEngine = AUTO,
    force: bool = False,
    jobs: int | None = None,
    recorded_dir: Path = RECORDED_DIR,
    processing: Processing | None = None,
) -> BuildReport:
    """Build every prompt of ``languages`` that changed since the last build (all with ``force``).

    Failures do not stop the other prompts; check ``report.ok``.
    """
    started = time.monotonic()
    languages = tuple(dict.fromkeys(languages))
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        raise ValueError(f"unknown language(s) {', '.join(unknown)}; known: {', '.join(LANGUAGES)}")
    tts = await resolve_engine(engine) if isinstance(engine, str) else engine
    builder = _Builder(
        settings,
        catalog,
        tts,
        _accepted_engines(engine, tts),
        recorded_dir,
        processing or Processing(),
    )
    report = BuildReport(tts.name, languages)
    limit = asyncio.Semaphore(max(1, jobs or os.cpu_count() or 1))

    async def one(lang: str, key: str) -> PromptResult:
        async with limit:
            try:
                planned = await builder.plan(lang, key, force)
            except Exception as exc:  # e.g. an engine with no voice for this language
                return PromptResult(lang, key, "failed", error=str(exc) or repr(exc))
            return planned if isinstance(planned, PromptResult) else await builder.run(planned)

    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(one(lang, key))
            for lang in languages
            for key in sorted(catalog.keys(lang))
        ]
    report.results = [task.result() for task in tasks]
    for lang in languages:
        report.results += builder.prune(lang)
    builder.manifest.save()
    report.seconds = time.monotonic() - started
    return report
