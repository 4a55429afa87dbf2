"""Where the shipped files are read from in a checkout: the repository's own folders, so an edit
of ``prompts/catalog.yaml`` (or a template, or the holiday schedule) is what the next start reads.
An installed wheel reads its own copies instead: ``tests/deploy/test_wheel.py``."""

from __future__ import annotations

from ivr import resources
from ivr.domain.workdays import SHIPPED_SCHEDULE
from ivr.speech.catalog import CATALOG_DIR
from ivr.telephony.dialplan import TEMPLATE_DIR
from tests.paths import REPO_ROOT


def test_in_a_checkout_the_shipped_folders_are_the_repositorys() -> None:
    assert resources.SHIPPED_PROMPTS.resolve() == REPO_ROOT / "prompts"
    assert resources.SHIPPED_DIALPLAN.resolve() == REPO_ROOT / "dialplan"
    assert resources.SHIPPED_DATA.resolve() == REPO_ROOT / "data"


def test_the_readers_take_their_files_from_the_shipped_folders() -> None:
    assert (CATALOG_DIR / "catalog.yaml").resolve() == REPO_ROOT / "prompts" / "catalog.yaml"
    assert (TEMPLATE_DIR / "extensions.conf.j2").resolve().parent == REPO_ROOT / "dialplan"
    assert SHIPPED_SCHEDULE.resolve() == REPO_ROOT / "data" / "official-holidays.yaml"
