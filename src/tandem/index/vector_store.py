"""Where chunk vectors live and how the retriever asks them for dense scores.

Two backends, one file each: `embedded_store.py` (NumPy arrays in the version folder, brute force)
and `milvus_store.py` (one pair of Milvus collections per index version). Both score a chunk as
today's index does: the cosine to the chunk, averaged with the cosine to its closest sentence when
sentence vectors were built. BM25 always stays local (`lexical.py`), whatever the backend.

>>> config = VectorStoreConfig("milvus", milvus_uri="http://milvus.internal:19530")
>>> config.backend
'milvus'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from tandem.index.layout import TEMP_PREFIX, IndexLayout
from tandem.index.manifest import Manifest, VectorsInfo

Backend = Literal["embedded", "milvus"]


@dataclass(frozen=True)
class VectorStoreConfig:
    """The `vector_store`, `milvus_uri` and `milvus_token` settings.

    `backend` decides where new versions are written; a version is always read from where its
    manifest says it was written. `milvus_uri` None means a Milvus Lite file, `milvus.db`, in the
    index folder.
    """

    backend: Backend = "embedded"
    milvus_uri: str | None = None
    milvus_token: str | None = None


@dataclass(frozen=True)
class DenseHits:
    """A store's answer: the best rows, best first, and a score array over all rows of the version.

    `scores` is exact at `rows` and at every row the caller asked for; other entries are not
    defined (the embedded store fills them all, Milvus leaves them 0).
    """

    rows: np.ndarray
    scores: np.ndarray


class VectorStore(Protocol):
    """Dense scoring for one index version."""

    backend: str

    def search(
        self, query_vector: np.ndarray, k: int, docs: np.ndarray | None, rows: np.ndarray
    ) -> DenseHits:
        """The `k` best rows among documents allowed by `docs` (a mask over the snapshot's sorted
        doc ids; None: all), plus the exact scores of `rows`."""
        ...

    def vectors_of(self, rows: list[int]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Chunk vectors of `rows` and, when built, each row's sentence vectors (to copy a document
        into the next version without re-embedding it)."""
        ...

    def close(self) -> None: ...


class VectorWriter(Protocol):
    """Writes a version's vectors while it is built, before it is published."""

    def write(
        self,
        folder: Path,
        vectors: np.ndarray,
        sentence_vectors: np.ndarray | None,
        sentence_starts: np.ndarray | None,
        row_doc: np.ndarray,
    ) -> VectorsInfo:
        """Store the vectors; `row_doc` is each row's position in the sorted doc ids."""
        ...


def open_vector_store(
    folder: Path, manifest: Manifest, row_doc: np.ndarray, config: VectorStoreConfig | None = None
) -> VectorStore:
    """The store a version was written to, according to its manifest."""
    if manifest.vectors.backend == "milvus":
        from tandem.index.milvus_store import MilvusVectorStore

        return MilvusVectorStore(folder, manifest, row_doc, config or VectorStoreConfig("milvus"))
    from tandem.index.embedded_store import EmbeddedVectorStore

    return EmbeddedVectorStore(folder, manifest.chunks, manifest.encoder.dimension, row_doc)


def vector_writer(
    config: VectorStoreConfig | None, root: Path, number: int, previous: Manifest | None
) -> VectorWriter:
    """The writer for a new version `number` of the index at `root`, as configured."""
    if config is not None and config.backend == "milvus":
        from tandem.index.milvus_store import MilvusVectorWriter

        return MilvusVectorWriter(config, root, number, previous)
    from tandem.index.embedded_store import EmbeddedVectorWriter

    return EmbeddedVectorWriter()


def moves_vectors(config: VectorStoreConfig | None, root: Path, manifest: Manifest) -> bool:
    """True when new versions go elsewhere than `manifest`'s vectors are (another backend or
    Milvus URI): the next ingest then copies every vector over, without re-embedding."""
    backend = config.backend if config is not None else "embedded"
    if backend != manifest.vectors.backend:
        return True
    if backend == "embedded" or config is None:
        return False
    from tandem.index.milvus_client import resolve_uri

    return resolve_uri(root, config.milvus_uri, None) != resolve_uri(root, None, manifest.vectors.uri)


# -- lifecycle: nothing a reader cannot see stays behind -------------------------------------------
PENDING_FILE = "milvus-collections.json"  # written into a build folder before its collections


def remove_stale_builds(layout: IndexLayout, config: VectorStoreConfig | None = None) -> list[str]:
    """Delete what builds that crashed left behind: their folders and the Milvus collections they
    had started (named in the folder before creation). Call with the write lock held."""
    dropped: list[str] = []
    if layout.versions.is_dir():
        for folder in layout.versions.glob(f"{TEMP_PREFIX}*"):
            pending = folder / PENDING_FILE
            if pending.is_file():
                dropped += _drop_collections([json.loads(pending.read_text())], layout.root, config)
        for name in layout.unpublished_versions():
            try:
                vectors = Manifest.read(layout.versions / name).vectors
            except (OSError, ValueError):
                continue
            if vectors.backend == "milvus":
                dropped += _drop_collections([vectors.model_dump()], layout.root, config)
    layout.remove_stale_builds()
    return dropped


def prune_versions(layout: IndexLayout, keep: int, config: VectorStoreConfig | None = None) -> list[str]:
    """`layout.prune(keep)`, then drop the Milvus collections of the versions it deleted."""
    recorded = {}
    for name in layout.version_names():
        try:
            recorded[name] = Manifest.read(layout.versions / name).vectors
        except (OSError, ValueError):
            continue
    doomed = layout.prune(keep)
    gone = [recorded[n].model_dump() for n in doomed if n in recorded and recorded[n].backend == "milvus"]
    if gone:
        _drop_collections(gone, layout.root, config)
    return doomed


def _drop_collections(records: list[dict], root: Path, config: VectorStoreConfig | None) -> list[str]:
    from tandem.index.milvus_client import drop_collections

    return drop_collections(records, root, config or VectorStoreConfig("milvus"))
