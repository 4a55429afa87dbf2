"""What counts as something said: a recording shorter than this is a click or a cough."""

from __future__ import annotations

MIN_RECORDING_SECONDS = 1.0
