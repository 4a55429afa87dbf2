"""Logging set-up with a filter that masks resident ID numbers in every record, whatever logs it."""

from __future__ import annotations

import logging
import sys

from ivr.config import Settings
from ivr.domain.idnumber import mask_ids_in_text


class MaskIdNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_ids_in_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(settings: Settings, *, debug: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskIdNumbers())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else getattr(logging, settings.log_level.upper(), 20))
    if not debug:  # Alembic narrates every migration step at INFO
        logging.getLogger("alembic").setLevel(logging.WARNING)
