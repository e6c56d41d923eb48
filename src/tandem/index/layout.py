"""The on-disk layout of an index folder: immutable versions plus a CURRENT pointer.

    DIR/CURRENT               name of the live version, replaced atomically
    DIR/versions/v000003/     manifest.json, chunks.sqlite, vectors.npy, bm25/, units.sqlite
    DIR/.lock                 held by the one writer

A writer builds a new version in a temporary folder, renames it into place and only then moves
CURRENT, so a crash at any point leaves the previous version readable.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tandem.errors import IndexError_

VERSION_PREFIX = "v"
TEMP_PREFIX = ".building-"
PUBLISHED_FILE = "PUBLISHED"  # every version CURRENT has ever pointed to, one per line


def version_name(number: int) -> str:
    return f"{VERSION_PREFIX}{number:06d}"


def version_number(name: str) -> int:
    return int(name.removeprefix(VERSION_PREFIX))


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class IndexLayout:
    """Paths and pointer operations for one index folder."""

    def __init__(self, root: Path, writer: str = "ingest") -> None:
        self.root = Path(root)
        self.writer = writer
        self.versions = self.root / "versions"

    def exists(self) -> bool:
        return (self.root / "CURRENT").is_file()

    def current_name(self) -> str:
        pointer = self.root / "CURRENT"
        if not pointer.is_file():
            raise IndexError_(f"no index at {self.root}: run `tandem ingest PATH --index {self.root}` first")
        name = pointer.read_text().strip()
        if not (self.versions / name / "manifest.json").is_file():
            raise IndexError_(
                f"index at {self.root} points to version {name!r}, which is missing; "
                "run `tandem index versions` and roll back, or re-ingest"
            )
        return name

    def current_folder(self) -> Path:
        return self.versions / self.current_name()

    def version_names(self) -> list[str]:
        if not self.versions.is_dir():
            return []
        return sorted(
            p.name
            for p in self.versions.iterdir()
            if p.name.startswith(VERSION_PREFIX) and (p / "manifest.json").is_file()
        )

    def next_number(self) -> int:
        names = self.version_names()
        return version_number(names[-1]) + 1 if names else 1

    def new_build_folder(self, number: int) -> Path:
        self.versions.mkdir(parents=True, exist_ok=True)
        folder = self.versions / f"{TEMP_PREFIX}{version_name(number)}-{os.getpid()}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        return folder

    def publish(self, build_folder: Path, number: int) -> Path:
        """Move a finished build into place and point CURRENT at it (each step atomic)."""
        for path in build_folder.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        final = self.versions / version_name(number)
        os.rename(build_folder, final)
        _fsync_dir(self.versions)
        self.point_to(final.name)
        return final

    def point_to(self, name: str) -> None:
        published = self.published_names()
        if published is None:  # an index from before the record: all it holds counts as published
            published = [n for n in self.version_names() if n != name]
        temporary = self.root / f".CURRENT.{os.getpid()}"
        temporary.write_text(name + "\n")
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self.root / "CURRENT")
        _fsync_dir(self.root)
        if name not in published:  # a crash before this line leaves CURRENT, which is never removed
            (self.root / PUBLISHED_FILE).write_text("".join(f"{n}\n" for n in [*published, name]))

    def published_names(self) -> list[str] | None:
        """Versions CURRENT has pointed to (publish or rollback), or None for an older index."""
        record = self.root / PUBLISHED_FILE
        return record.read_text().split() if record.is_file() else None

    def unpublished_versions(self) -> list[str]:
        """Complete versions that were never made current: a crash between moving a build into
        place and pointing CURRENT at it."""
        published = self.published_names()
        if published is None or not self.exists():
            return []
        current = self.current_name()
        return [n for n in self.version_names() if n not in published and n != current]

    def remove_stale_builds(self) -> None:
        """Delete what crashed writers left: build folders, unpublished versions and CURRENT temp
        files (call with the write lock held)."""
        if self.versions.is_dir():
            for folder in self.versions.glob(f"{TEMP_PREFIX}*"):
                shutil.rmtree(folder, ignore_errors=True)
            for name in self.unpublished_versions():
                shutil.rmtree(self.versions / name, ignore_errors=True)
        for temporary in self.root.glob(".CURRENT.*"):
            temporary.unlink(missing_ok=True)

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest `keep` versions, never the current one."""
        current = self.current_name()
        names = self.version_names()
        doomed = [n for n in names[: max(len(names) - keep, 0)] if n != current]
        for name in doomed:
            shutil.rmtree(self.versions / name, ignore_errors=True)
        published = self.published_names()
        if published is not None and doomed:
            kept = [n for n in published if n not in doomed]
            (self.root / PUBLISHED_FILE).write_text("".join(f"{n}\n" for n in kept))
        return doomed

    @contextmanager
    def write_lock(self, wait_s: float = 0.0) -> Iterator[None]:
        """Exclusive writer lock. A second writer waits up to `wait_s` seconds for the first to finish
        (by default not at all), then fails with a clear message."""
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        with open(self.root / ".lock", "w") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexError_(
                            f"another {self.writer} is writing to {self.root}; wait for it to finish"
                        ) from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
