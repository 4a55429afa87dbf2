"""Prompts joined into one sound: what Asterisk is handed is the fragments end to end, in every raw
format they all have, written once, renamed into place off the event loop, and kept bounded."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.prompts.joined import JoinedPrompts

LANG = "zh"


def built(prompts: Path, key: str, data: bytes) -> None:
    """A built prompt as ``hotline prompts build`` lays it out, each format's bytes told apart."""
    folder = prompts / LANG / "hotline"
    folder.mkdir(parents=True, exist_ok=True)
    for ext in ("wav", "sln16", "ulaw"):
        (folder / f"{key}.{ext}").write_bytes(ext.encode() + b":" + data)


def joined_file(prompts: Path, name: str, ext: str) -> Path:
    return prompts / LANG / "hotline" / f"{name}.{ext}"


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    folder = tmp_path / "sounds"
    for key, data in {"a": b"AAAA", "b": b"BB", "c": b"CCCCCC"}.items():
        built(folder, key, data)
    return folder


def sound(
    joiner: JoinedPrompts, keys: list[str], language: str = LANG, audio: str = ""
) -> str | None:
    return asyncio.run(joiner.sound(language, keys, audio))


def test_the_joined_sound_is_the_fragments_end_to_end_in_each_raw_format(prompts: Path) -> None:
    name = sound(JoinedPrompts(prompts), ["a", "b", "a", "c"])
    assert name is not None and name.startswith("joined/")
    for ext in ("sln16", "ulaw"):
        parts = [(prompts / LANG / "hotline" / f"{k}.{ext}").read_bytes() for k in "abac"]
        assert joined_file(prompts, name, ext).read_bytes() == b"".join(parts)
    assert not joined_file(prompts, name, "wav").exists()  # a header: not joined by bytes
    left = [p.name for p in (prompts / LANG / "hotline" / "joined").iterdir()]
    assert not [n for n in left if n.startswith(".")]  # no temporary file left behind


def test_a_format_one_fragment_lacks_is_left_out(prompts: Path) -> None:
    (prompts / LANG / "hotline" / "b.sln16").unlink()
    name = sound(JoinedPrompts(prompts), ["a", "b"])
    assert name is not None
    assert joined_file(prompts, name, "ulaw").read_bytes() == b"ulaw:AAAAulaw:BB"
    assert not joined_file(prompts, name, "sln16").exists()


@pytest.mark.parametrize(
    ("audio", "ext"),
    [("(ulaw)", "ulaw"), ("(alaw)", "ulaw"), ("(slin)", "ulaw"), ("(g722)", "sln16"),
     ("(opus|ulaw)", "sln16"), ("(slin16)", "sln16")],
)  # fmt: skip
def test_a_call_that_names_its_audio_gets_only_the_format_it_plays(
    prompts: Path, audio: str, ext: str
) -> None:
    name = sound(JoinedPrompts(prompts), ["a", "b"], audio=audio)
    assert name is not None
    other = "sln16" if ext == "ulaw" else "ulaw"
    assert joined_file(prompts, name, ext).read_bytes() == f"{ext}:AAAA{ext}:BB".encode()
    assert not joined_file(prompts, name, other).exists()


def test_the_call_gets_the_other_raw_format_when_a_fragment_lacks_its_own(prompts: Path) -> None:
    (prompts / LANG / "hotline" / "b.ulaw").unlink()
    name = sound(JoinedPrompts(prompts), ["a", "b"], audio="(ulaw)")
    assert name is not None  # Asterisk translates sln16 for the ulaw call
    assert joined_file(prompts, name, "sln16").read_bytes() == b"sln16:AAAAsln16:BB"
    assert not joined_file(prompts, name, "ulaw").exists()


def test_a_missing_fragment_means_no_joined_sound_said_once(
    prompts: Path, caplog: pytest.LogCaptureFixture
) -> None:
    joiner = JoinedPrompts(prompts)
    with caplog.at_level(logging.WARNING, "ivr.prompts.joined"):
        assert sound(joiner, ["a", "gone"]) is None
        assert sound(joiner, ["gone", "b"]) is None
    assert len([r for r in caplog.records if "one by one" in r.getMessage()]) == 1
    assert not (prompts / LANG / "hotline" / "joined").exists()


def test_an_unwritable_folder_means_no_joined_sound(prompts: Path) -> None:
    (prompts / LANG / "hotline" / "joined").write_text("not a folder")
    assert sound(JoinedPrompts(prompts), ["a", "b"]) is None


def test_the_same_keys_reuse_the_file_and_a_rebuilt_fragment_gets_a_new_one(
    prompts: Path,
) -> None:
    joiner = JoinedPrompts(prompts)
    first = sound(joiner, ["a", "b"])
    assert first is not None
    written = joined_file(prompts, first, "ulaw").stat()
    assert sound(joiner, ["a", "b"]) == first
    again = joined_file(prompts, first, "ulaw").stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert sound(joiner, ["b", "a"]) != first  # the order is part of the sound
    assert sound(joiner, ["a", "b"], language="en") is None  # another language's folder

    built(prompts, "b", b"NEW")  # `hotline prompts build` rewrote b
    rebuilt = sound(joiner, ["a", "b"])
    assert rebuilt is not None and rebuilt != first
    assert joined_file(prompts, rebuilt, "ulaw").read_bytes() == b"ulaw:AAAAulaw:NEW"


def test_a_joined_file_removed_behind_its_back_is_written_again(prompts: Path) -> None:
    joiner = JoinedPrompts(prompts)
    name = sound(joiner, ["a", "c"])
    assert name is not None
    joined_file(prompts, name, "ulaw").unlink()
    assert sound(joiner, ["a", "c"]) == name
    assert joined_file(prompts, name, "ulaw").read_bytes() == b"ulaw:AAAAulaw:CCCCCC"


def joined_names(prompts: Path) -> set[str]:
    return {p.name for p in (prompts / LANG / "hotline" / "joined").iterdir()}


def test_the_folder_keeps_the_most_recently_used_sounds_only(prompts: Path) -> None:
    joiner = JoinedPrompts(prompts, max_files=2)
    ab, bc = sound(joiner, ["a", "b"]), sound(joiner, ["b", "c"])
    assert ab is not None and bc is not None
    assert sound(joiner, ["a", "b"]) == ab  # used again: now the most recent
    ca = sound(joiner, ["c", "a"])
    assert ca is not None
    stems = {name.partition(".")[0] for name in joined_names(prompts)}
    assert stems == {ab.removeprefix("joined/"), ca.removeprefix("joined/")}
    assert len(joined_names(prompts)) == 4  # two sounds, two formats each
    # What each one plays, while it is kept: the sound dropped tells nothing any more.
    assert (joiner.keys_of(ab), joiner.keys_of(ca)) == (("a", "b"), ("c", "a"))
    assert joiner.keys_of(bc) is None and joiner.keys_of("joined/unknown") is None


def test_files_left_by_an_earlier_run_count_against_the_bound(prompts: Path) -> None:
    earlier = JoinedPrompts(prompts)
    names = [sound(earlier, keys) or "" for keys in (["a", "b"], ["b", "c"], ["c", "a"])]
    stray = prompts / LANG / "hotline" / "joined" / ".joining-crashed"
    stray.write_bytes(b"half")
    later = JoinedPrompts(prompts, max_files=2)
    newest = sound(later, ["a", "c"])
    assert newest is not None
    stems = {name.partition(".")[0] for name in joined_names(prompts)}
    assert stems == {names[2].removeprefix("joined/"), newest.removeprefix("joined/")}
    assert not stray.exists()


@pytest.fixture
def file_access_threads(tmp_path: Path) -> Iterator[list[tuple[str, int]]]:
    """(audit event, thread id) of every file operation under ``tmp_path`` while the test runs."""
    seen: list[tuple[str, int]] = []
    active = [True]
    watched = ("open", "os.rename", "os.remove", "os.mkdir", "os.listdir")

    def hook(event: str, args: tuple[object, ...]) -> None:
        if active[0] and event in watched and args and str(tmp_path) in str(args[0]):
            seen.append((event, threading.get_ident()))

    sys.addaudithook(hook)  # hooks cannot be removed: this one goes quiet after the test
    try:
        yield seen
    finally:
        active[0] = False


def test_no_file_is_touched_on_the_event_loop(
    prompts: Path, file_access_threads: list[tuple[str, int]]
) -> None:
    async def run() -> int:
        joiner = JoinedPrompts(prompts, max_files=1)
        for keys in (["a", "b"], ["b", "c"], ["a", "b"]):  # writes, reads, evictions
            assert await joiner.sound(LANG, keys) is not None
        return threading.get_ident()

    loop_thread = asyncio.run(run())
    events = {event for event, _ in file_access_threads}
    assert {"open", "os.rename", "os.remove", "os.mkdir", "os.listdir"} <= events
    assert [e for e, thread in file_access_threads if thread == loop_thread] == []


def test_a_bound_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_files"):
        JoinedPrompts(tmp_path, max_files=0)
