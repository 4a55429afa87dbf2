"""The prompt build pipeline: catalog text (or a human recording) to the sound files Asterisk plays.

``build_prompts`` synthesises each prompt (gTTS online, espeak-ng offline), trims its silence,
brings it to one loudness and writes ``<prompts_dir>/<lang>/hotline/<key>.{wav,sln16,ulaw}``;
``built_sound_path`` tells the rest of the project where a built prompt is.
"""

from ivr.prompts.audio import FORMATS, Processing
from ivr.prompts.build import (
    RECORDED_DIR,
    BuildReport,
    PromptResult,
    build_prompts,
    built_sound_path,
    is_built,
)
from ivr.prompts.tts import AUTO, ENGINE_NAMES, TtsEngine, TtsError, create_engine, resolve_engine

__all__ = [
    "AUTO",
    "ENGINE_NAMES",
    "FORMATS",
    "RECORDED_DIR",
    "BuildReport",
    "Processing",
    "PromptResult",
    "TtsEngine",
    "TtsError",
    "build_prompts",
    "built_sound_path",
    "create_engine",
    "is_built",
    "resolve_engine",
]
