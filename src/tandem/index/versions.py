"""List an index's versions and roll CURRENT back (or forward) to one of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tandem.errors import IndexError_, InputError
from tandem.index.layout import IndexLayout, version_name
from tandem.index.manifest import Manifest


@dataclass(frozen=True)
class VersionInfo:
    name: str
    number: int
    parent: int | None
    created_at: str
    documents: int
    chunks: int
    encoder: str
    current: bool

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def list_versions(root: Path) -> list[VersionInfo]:
    """Every complete version on disk, oldest first; raises when there is no index at `root`."""
    layout = IndexLayout(root)
    current = layout.current_name()
    found = []
    for name in layout.version_names():
        manifest = Manifest.read(layout.versions / name)
        found.append(
            VersionInfo(
                name,
                manifest.version,
                manifest.parent,
                manifest.created_at,
                manifest.documents,
                manifest.chunks,
                manifest.encoder.model_id,
                name == current,
            )
        )
    return found


def parse_version(value: str) -> str:
    """'3', 'v3' or 'v000003' -> 'v000003'."""
    match = re.fullmatch(r"v?0*(\d+)", value.strip())
    if match is None or int(match.group(1)) < 1:
        raise InputError(f"{value!r} is not a version; give a number such as 3 (see `tandem index versions`)")
    return version_name(int(match.group(1)))


def rollback(root: Path, version: str) -> VersionInfo:
    """Point CURRENT at `version` (taking the writer lock, so no ingest is publishing meanwhile).

    The next ingest starts from this version and gets a new, higher number; nothing is deleted.
    """
    layout = IndexLayout(root, writer="ingest or rollback")
    name = parse_version(version)
    with layout.write_lock():
        available = layout.version_names()
        if name not in available:
            listed = ", ".join(str(int(n[1:])) for n in available) or "none"
            raise IndexError_(f"index {root} has no version {int(name[1:])} (available: {listed})")
        layout.point_to(name)
    return next(v for v in list_versions(root) if v.name == name)
