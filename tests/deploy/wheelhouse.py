"""Wheels of a package's dependencies, packed from the distributions installed in this virtualenv.

The machine has no network for a test, so the clean virtualenv cannot fetch what the hotline
wheel requires. Instead, each distribution that the wheel's ``Requires-Dist`` lead to (with their
own requirements, extras and markers, as pip would resolve them) is packed back into a wheel from
the files its installed ``RECORD`` lists, and ``pip install --no-index --find-links`` resolves the
hotline wheel against those alone: a dependency missing from ``pyproject.toml`` is missing there
too, and a version the installed one does not satisfy fails here, before pip.

Files a distribution installed outside ``site-packages`` (its console scripts, headers) are left
out: pip writes console scripts again from ``entry_points.txt``, and the hotline needs no other.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name

__all__ = ["pack_requirements", "requirements_of_wheel"]

# Written by the installer, not part of what a wheel carries (RECORD is written anew).
INSTALLER_FILES = {"INSTALLER", "REQUESTED", "RECORD", "direct_url.json"}


def requirements_of_wheel(wheel: Path) -> list[Requirement]:
    """The ``Requires-Dist`` of a built wheel (its own, not the editable install's metadata)."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        headers = HeaderParser().parsestr(archive.read(name).decode())
    return [Requirement(line) for line in headers.get_all("Requires-Dist") or []]


def _applies(marker: Marker | None, extras: Iterable[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({"extra": extra}) for extra in ("", *extras))


def _closure(requirements: Iterable[Requirement]) -> dict[str, metadata.Distribution]:
    """Every installed distribution the requirements lead to, by canonical name."""
    found: dict[str, metadata.Distribution] = {}
    extras_seen: dict[str, set[str]] = {}
    pending = [(req, ()) for req in requirements]
    while pending:
        req, parent_extras = pending.pop()
        if not _applies(req.marker, parent_extras):
            continue
        name = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{req} is required but not installed here") from None
        assert req.specifier.contains(dist.version, prereleases=True), (str(req), dist.version)
        new_extras = set(req.extras) - extras_seen.get(name, set())
        if name in found and not new_extras:
            continue
        found[name] = dist
        extras_seen.setdefault(name, set()).update(req.extras)
        own = [Requirement(line) for line in dist.requires or []]
        pending.extend((sub, tuple(extras_seen[name])) for sub in own)
    return found


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _supported_tag(tags: list[str], info: str) -> str:
    """One of the wheel's tags that this interpreter takes (py2-none-any is often listed first)."""
    supported = {str(tag) for tag in sys_tags()}
    usable = [tag for tag in tags if tag in supported]
    assert usable, (info, tags)
    return usable[0]


def _pack(dist: metadata.Distribution, out: Path) -> Path:
    """One installed distribution as a wheel in ``out``."""
    site = Path(str(dist.locate_file(""))).resolve()
    files = [Path(str(p)) for p in dist.files or []]
    (info,) = {p.parts[0] for p in files if p.parts[0].endswith(".dist-info")}
    wheel_meta = HeaderParser().parsestr((site / info / "WHEEL").read_text())
    tag = _supported_tag(wheel_meta.get_all("Tag") or [], info)
    stem = info.removesuffix(".dist-info")  # name-version as installed, matching METADATA
    target = out / f"{stem}-{tag}.whl"
    record = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(set(files)):
            if path.parts[0] == ".." or "__pycache__" in path.parts:
                continue
            if path.parts[0] == info and path.name in INSTALLER_FILES:
                continue
            data = (site / path).read_bytes()
            archive.writestr(path.as_posix(), data)
            record.append(f"{path.as_posix()},sha256={_digest(data)},{len(data)}")
        record.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return target


def pack_requirements(requirements: Iterable[Requirement], out: Path) -> list[Path]:
    """Wheels in ``out`` of every distribution ``requirements`` lead to, as installed here."""
    out.mkdir(parents=True, exist_ok=True)
    return [_pack(dist, out) for dist in _closure(requirements).values()]
