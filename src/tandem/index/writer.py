"""The one way into an index for writing, and its lifecycle rules.

Only one writer at a time (a lock file); builds that a crash left behind are removed first; a new
version is built in a folder of its own, then published by switching the CURRENT pointer; old
versions beyond `keep_versions` (and their Milvus collections) are pruned after that.

>>> writer = IndexWriter(Path("tandem-index"), None, keep_versions=5)  # doctest: +SKIP
>>> with writer.open() as previous:                                     # doctest: +SKIP
...     version = writer.start_version(384, previous)
...     version.builder.add(document, chunks, vectors, sentence_vectors)
...     writer.publish(version, manifest)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tandem.index.builder import VersionBuilder
from tandem.index.layout import IndexLayout
from tandem.index.manifest import Manifest
from tandem.index.snapshot import IndexSnapshot
from tandem.index.vector_store import (
    VectorStoreConfig,
    moves_vectors,
    prune_versions,
    remove_stale_builds,
    vector_writer,
)


@dataclass
class NewVersion:
    """A version being built: its number, its build folder and the builder that fills it."""

    number: int
    folder: Path
    builder: VersionBuilder


class IndexWriter:
    """Writes new versions of the index at `root`; every step needs the lock `open()` holds."""

    def __init__(self, root: Path, vector_store: VectorStoreConfig | None, keep_versions: int = 5) -> None:
        self.layout = IndexLayout(root)
        self.vector_store = vector_store
        self.keep_versions = keep_versions
        self._locked = False

    @contextmanager
    def open(self, wait_s: float = 0.0) -> Iterator[IndexSnapshot | None]:
        """Take the write lock (waiting up to `wait_s` for another writer), remove stale builds, and
        yield the current version (None for a new index); it is closed and the lock released on exit."""
        with self.layout.write_lock(wait_s):
            self._locked = True
            try:
                remove_stale_builds(self.layout, self.vector_store)
                previous = (
                    IndexSnapshot(self.layout.current_folder(), self.vector_store)
                    if self.layout.exists()
                    else None
                )
                try:
                    yield previous
                finally:
                    if previous is not None:
                        previous.close()
            finally:
                self._locked = False

    def moves_vectors(self, previous: IndexSnapshot) -> bool:
        """Whether the configured vector store differs from the one `previous` was written to."""
        return moves_vectors(self.vector_store, self.layout.root, previous.manifest)

    def start_version(self, dimension: int, previous: IndexSnapshot | None) -> NewVersion:
        """A build folder and a builder for the next version number."""
        self._check_locked()
        number = self.layout.next_number()
        folder = self.layout.new_build_folder(number)
        manifest = previous.manifest if previous is not None else None
        writer = vector_writer(self.vector_store, self.layout.root, number, manifest)
        return NewVersion(number, folder, VersionBuilder(folder, dimension, writer))

    def abandon(self, version: NewVersion) -> None:
        """Drop a build that will not be published (nothing changed): the current version stays."""
        self._check_locked()
        version.builder.close()
        self.layout.remove_stale_builds()

    def publish(self, version: NewVersion, manifest: Manifest) -> None:
        """Finish the build, make it the current version, then prune the oldest versions."""
        self._check_locked()
        version.builder.finish(manifest)
        self.layout.publish(version.folder, version.number)
        prune_versions(self.layout, self.keep_versions, self.vector_store)

    def _check_locked(self) -> None:
        if not self._locked:
            raise RuntimeError("IndexWriter: write inside `with writer.open():` (it holds the index lock)")
