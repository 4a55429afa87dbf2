"""The cached root file system: mirror lookup, the stamp, building into a temporary sibling."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ivr.config import Settings
from ivr.telephony import LocalAsterisk, RootfsBuildError, TelephonyError, ToolMissingError
from ivr.telephony.rootfs import (
    PACKAGES,
    STAMP_NAME,
    SUITE,
    apt_mirror,
    ensure_rootfs,
    mounts_under,
    remove_tree,
    rootfs_ready,
)

MIRROR = "http://mirror.invalid/debian"


def test_mirror_comes_from_the_deb822_sources(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list.d"
    sources.mkdir()
    (sources / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian-security\n"
        "Suites: bookworm-security\n\n"
        f"Types: deb\nURIs: {MIRROR}\nSuites: bookworm\nComponents: main\n"
    )
    assert apt_mirror([sources]) == MIRROR


def test_mirror_comes_from_a_one_line_sources_list(tmp_path: Path) -> None:
    sources = tmp_path / "sources.list"
    sources.write_text(f"# deb http://old.invalid/x sid main\ndeb [arch=amd64] {MIRROR} sid main\n")
    assert apt_mirror([sources]) == MIRROR


def test_no_mirror_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TelephonyError, match="no Debian mirror"):
        apt_mirror([tmp_path / "missing"])


def fake_root(root: Path, packages: tuple[str, ...] = PACKAGES) -> None:
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/asterisk").write_text("")
    stamp = {"suite": SUITE, "packages": list(packages)}
    (root / STAMP_NAME).write_text(json.dumps(stamp))


def test_only_a_stamped_root_with_the_same_packages_is_ready(tmp_path: Path) -> None:
    assert not rootfs_ready(tmp_path / "none")
    fake_root(tmp_path / "old", ("asterisk",))
    assert not rootfs_ready(tmp_path / "old")
    fake_root(tmp_path / "current")
    assert rootfs_ready(tmp_path / "current")


async def test_a_ready_root_is_used_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_root(tmp_path / "rootfs")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # mmdebstrap is not even needed
    assert await ensure_rootfs(tmp_path / "rootfs") == tmp_path / "rootfs"


def fake_mmdebstrap(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir()
    script = bin_dir / "mmdebstrap"
    script.write_text(f"#!/bin/sh\n# args: options... suite target mirror\n{body}\n")
    script.chmod(0o755)


async def test_the_build_is_renamed_into_place_and_stamped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = 'eval "target=\\${$(($# - 1))}"\n'  # the second last argument
    body += 'mkdir -p "$target/usr/sbin" && touch "$target/usr/sbin/asterisk"\necho "$@" >&2'
    fake_mmdebstrap(tmp_path / "bin", body)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    root = tmp_path / "cache" / "rootfs"
    fake_root(root, ("asterisk",))  # an older build with other packages is replaced
    await ensure_rootfs(root, mirror=MIRROR)
    assert rootfs_ready(root)
    assert sorted(p.name for p in root.parent.iterdir()) == [
        ".rootfs.lock",
        "rootfs",
        "rootfs.build.log",
    ]
    arguments = (root.parent / "rootfs.build.log").read_text()
    assert f"--include={','.join(PACKAGES)}" in arguments
    assert arguments.rstrip().endswith(f"{SUITE} {root}.building-{os.getpid()} {MIRROR}")


async def test_a_failed_build_leaves_nothing_half_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_mmdebstrap(tmp_path / "bin", 'echo "E: cannot reach the mirror" >&2\nexit 1')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    root = tmp_path / "cache" / "rootfs"
    with pytest.raises(RootfsBuildError, match="cannot reach the mirror"):
        await ensure_rootfs(root, mirror=MIRROR)
    assert not root.exists()
    assert not list(root.parent.glob("rootfs.building-*"))


async def test_missing_tools_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolMissingError, match=r"mmdebstrap.*scripts/setup\.sh"):
        await ensure_rootfs(tmp_path / "rootfs", mirror=MIRROR)
    with pytest.raises(ToolMissingError, match=r"chroot.*scripts/setup\.sh"):
        await LocalAsterisk(Settings(data_dir=tmp_path)).start()


def test_a_root_with_something_mounted_inside_is_never_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "/proc" in mounts_under(Path("/proc"))
    (tmp_path / "root" / "proc").mkdir(parents=True)
    monkeypatch.setattr("ivr.telephony.rootfs.mounts_under", lambda path: [str(path / "proc")])
    with pytest.raises(TelephonyError, match="still mounted"):
        remove_tree(tmp_path / "root")
    assert (tmp_path / "root" / "proc").exists()
