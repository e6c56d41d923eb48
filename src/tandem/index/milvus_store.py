"""Chunk and sentence vectors in Milvus: a server (`http://host:19530`) or Milvus Lite (a `.db` path).

Every index version gets its own collections, written while the version is built, before it is
published, and never changed afterwards:

    tandem_<index id>_v000003             row (primary key), doc, vector     one entity per chunk
    tandem_<index id>_v000003_sentences   id (primary key), row, doc, vector one per chunk sentence

So a re-ingest cannot leave an old vector searchable (the new version only reads its own
collections), a crash before publishing leaves the previous version's collections untouched, and
pruning a version drops its collections. `doc` is the chunk's position in the version's sorted doc
ids, which is what search filters select on. Search is exact (FLAT index, inner product of unit
vectors, i.e. cosine), and the chunk/closest-sentence mix of the embedded store is computed with a
threshold algorithm, so results match the embedded store up to float rounding.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from tandem.errors import IndexError_
from tandem.index.layout import version_name
from tandem.index.manifest import Manifest, VectorsInfo
from tandem.index.milvus_client import (
    call,
    connect,
    dimension_error,
    dimension_of,
    has_collection,
    recorded_uri,
    resolve_uri,
)
from tandem.index.vector_store import PENDING_FILE, DenseHits, VectorStoreConfig

log = logging.getLogger(__name__)

SENTENCES_SUFFIX = "_sentences"
INSERT_BATCH = 2000
FETCH_BATCH = 1000
MAX_LIMIT = 16384  # Milvus' largest topk


# -- writing ---------------------------------------------------------------------------------------
class MilvusVectorWriter:
    """Creates and fills a new version's collections (exact FLAT index, inner product)."""

    def __init__(self, config: VectorStoreConfig, root: Path, number: int, previous: Manifest | None) -> None:
        self.config = config
        self.root = Path(root)
        self.uri = resolve_uri(self.root, config.milvus_uri, None)
        index_id = previous.vectors.index_id if previous is not None else None
        self.index_id = index_id or secrets.token_hex(6)
        self.name = f"tandem_{self.index_id}_{version_name(number)}"

    def write(
        self,
        folder: Path,
        vectors: np.ndarray,
        sentence_vectors: np.ndarray | None,
        sentence_starts: np.ndarray | None,
        row_doc: np.ndarray,
    ) -> VectorsInfo:
        info = VectorsInfo(
            backend="milvus",
            uri=recorded_uri(self.root, self.uri),
            collection=self.name,
            sentence_collection=self.name + SENTENCES_SUFFIX if sentence_vectors is not None else None,
            index_id=self.index_id,
        )
        # Named before they exist: a crash from here on leaves a record for remove_stale_builds.
        (folder / PENDING_FILE).write_text(info.model_dump_json())
        client = connect(self.uri, self.config.milvus_token)
        dimension = int(vectors.shape[1])
        rows = np.arange(len(vectors), dtype=np.int64)
        self._create(client, self.name, dimension, with_row=False)
        self._insert(client, self.name, {"row": rows, "doc": row_doc}, vectors)
        if (
            info.sentence_collection is not None
            and sentence_vectors is not None
            and sentence_starts is not None
        ):
            np.save(folder / "sentence_starts.npy", sentence_starts)
            sentence_rows = np.repeat(rows, np.diff(sentence_starts))
            columns = {
                "id": np.arange(len(sentence_rows), dtype=np.int64),
                "row": sentence_rows,
                "doc": row_doc[sentence_rows],
            }
            self._create(client, info.sentence_collection, dimension, with_row=True)
            self._insert(client, info.sentence_collection, columns, sentence_vectors)
        return info

    def _create(self, client: Any, name: str, dimension: int, with_row: bool) -> None:
        from pymilvus import DataType, MilvusClient

        if has_collection(client, name):
            found = dimension_of(client, name)
            if found != dimension:
                raise dimension_error(name, self.uri, found, dimension, self.root)
            raise IndexError_(
                f"Milvus collection {name!r} already exists at {self.uri} and belongs to another index "
                "folder (a copy of this one?); re-index into a new index folder "
                "(`tandem ingest PATH --index NEW_DIR`)"
            )
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id" if with_row else "row", DataType.INT64, is_primary=True)
        if with_row:
            schema.add_field("row", DataType.INT64)
        schema.add_field("doc", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        index = client.prepare_index_params()
        index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        call(
            f"create_collection({name!r})",
            lambda: client.create_collection(
                name, schema=schema, index_params=index, consistency_level="Strong"
            ),
        )

    def _insert(self, client: Any, name: str, columns: dict[str, np.ndarray], vectors: np.ndarray) -> None:
        keys = list(columns)
        for start in range(0, len(vectors), INSERT_BATCH):
            stop = start + INSERT_BATCH
            values = [columns[key][start:stop].tolist() for key in keys]
            batch = [
                {**dict(zip(keys, items, strict=True)), "vector": vector}
                for *items, vector in zip(*values, vectors[start:stop], strict=True)
            ]
            call(f"insert into {name!r}", partial(client.insert, name, batch))
        call(f"flush({name!r})", lambda: client.flush(name))


# -- reading ---------------------------------------------------------------------------------------
class MilvusVectorStore:
    """Dense scores of one version from its Milvus collections.

    >>> store = MilvusVectorStore(folder, manifest, row_doc, VectorStoreConfig("milvus"))  # doctest: +SKIP
    >>> store.search(query_vector, k=5, docs=None, rows=np.zeros(0, np.int64)).rows  # doctest: +SKIP
    array([ 812,  813, 1900,   17,  440])
    """

    backend = "milvus"

    def __init__(
        self, folder: Path, manifest: Manifest, row_doc: np.ndarray, config: VectorStoreConfig
    ) -> None:
        info = manifest.vectors
        if info.collection is None:
            raise IndexError_(f"index version {folder} names no Milvus collection; re-ingest it")
        self.root = folder.parent.parent
        self.size = manifest.chunks
        self.row_doc = row_doc
        self.collection = info.collection
        self.sentence_collection = info.sentence_collection
        self.sentence_starts: np.ndarray | None = None
        if self.sentence_collection is not None:
            self.sentence_starts = np.load(folder / "sentence_starts.npy")
        self._all: tuple[np.ndarray, np.ndarray | None] | None = None
        names = [n for n in (self.collection, self.sentence_collection) if n is not None]
        self.uri, self.client = self._locate(folder, names, info.uri, config)
        for name in names:
            found = dimension_of(self.client, name)
            if found != manifest.encoder.dimension:
                raise dimension_error(name, self.uri, found, manifest.encoder.dimension, self.root)
            call(f"load_collection({name!r})", partial(self.client.load_collection, name))

    def _locate(
        self, folder: Path, names: list[str], recorded: str | None, config: VectorStoreConfig
    ) -> tuple[str, Any]:
        """The Milvus the version was written to (its manifest says), else the configured one (a
        server that moved)."""
        uris = [resolve_uri(self.root, None, recorded)]
        if config.milvus_uri and resolve_uri(self.root, config.milvus_uri, None) not in uris:
            uris.append(resolve_uri(self.root, config.milvus_uri, None))
        problem = IndexError_(f"no Milvus URI for index version {folder}")
        for uri in uris:
            try:
                client = connect(uri, config.milvus_token)
                missing = [name for name in names if not has_collection(client, name)]
            except IndexError_ as exc:
                problem = exc
                continue
            if not missing:
                return uri, client
            problem = IndexError_(
                f"Milvus collection {missing[0]!r} of index version {folder} is missing at {uri}; "
                "check milvus_uri, or re-ingest into a new index folder"
            )
        raise problem

    # -- search --------------------------------------------------------------------------------
    def search(
        self, query_vector: np.ndarray, k: int, docs: np.ndarray | None, rows: np.ndarray
    ) -> DenseHits:
        """Exact top `k` of (chunk cosine + closest-sentence cosine) / 2, or of the chunk cosine
        alone without sentence vectors, plus the exact scores of `rows`.

        Threshold algorithm: take the best `limit` chunks and the best `limit` rows by their
        closest sentence, complete both halves of every candidate's score, and stop once the k-th
        best candidate beats what any row outside both lists could reach; else look deeper.
        """
        query = np.asarray(query_vector, dtype=np.float32)
        scores = np.zeros(self.size, dtype=np.float32)
        rows = np.asarray(rows, dtype=np.int64)
        where = self._doc_filter(docs)
        if where is None or self.size == 0:
            k = 0
        k = min(k, self.size)
        if self.sentence_collection is None:
            top, values = self._top(self.collection, query, k, where)
            scores[top] = values
            missing = np.setdiff1d(rows, top)
            scores[missing] = self._chunk_scores(query, missing)
            return DenseHits(top, scores)
        if not k:
            scores[rows] = (self._chunk_scores(query, rows) + self._closest_scores(query, rows)) / 2
            return DenseHits(_EMPTY, scores)

        limit = max(2 * k, 32)
        while True:
            chunk_rows, chunk_values = self._top(self.collection, query, limit, where)
            best_rows, best_values = self._top(self.sentence_collection, query, limit, where, grouped=True)
            candidates = np.union1d(np.union1d(chunk_rows, best_rows), rows)
            chunk = _complete(candidates, chunk_rows, chunk_values, self._chunk_scores, query)
            closest = _complete(candidates, best_rows, best_values, self._closest_scores, query)
            scores[candidates] = (chunk + closest) / 2
            eligible = candidates if docs is None else candidates[docs[self.row_doc[candidates]]]
            top = eligible[np.argsort(-scores[eligible], kind="stable")[:k]]
            if len(chunk_rows) < limit or len(best_rows) < limit:  # every allowed row is a candidate
                return DenseHits(top, scores)
            unseen_best = (chunk_values[-1] + best_values[-1]) / 2  # no row outside both lists beats it
            if (len(top) == k and scores[top[-1]] >= unseen_best) or limit >= MAX_LIMIT:
                return DenseHits(top, scores)
            limit = min(limit * 4, MAX_LIMIT)

    def _doc_filter(self, docs: np.ndarray | None) -> str | None:
        """A Milvus filter for the allowed documents: "" for all, None when none are allowed."""
        if docs is None or docs.all():
            return ""
        allowed = np.flatnonzero(docs)
        if allowed.size == 0:
            return None
        if allowed.size <= docs.size // 2:
            return f"doc in {allowed.tolist()}"
        return f"doc not in {np.flatnonzero(~docs).tolist()}"

    def _top(
        self, name: str, query: np.ndarray, limit: int, where: str | None, grouped: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the best `limit` hits, best first (one per row when `grouped`)."""
        if limit <= 0:
            return _EMPTY, _EMPTY_F
        options: dict[str, Any] = {"group_by_field": "row", "output_fields": ["row"]} if grouped else {}
        hits = call(
            f"search in {name!r}",
            lambda: self.client.search(
                name, data=[query], limit=limit, filter=where, search_params={"metric_type": "IP"}, **options
            ),
        )[0]
        found = [(h["entity"]["row"] if grouped else h["row"], h["distance"]) for h in hits]
        if not found:
            return _EMPTY, _EMPTY_F
        picked, values = zip(*found, strict=True)
        return np.asarray(picked, dtype=np.int64), np.asarray(values, dtype=np.float32)

    def _chunk_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Chunk cosines of `rows`, from their vectors fetched by primary key."""
        if rows.size == 0:
            return _EMPTY_F
        return self._fetch(self.collection, rows) @ query

    def _closest_scores(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Each row's best sentence cosine, from its sentence vectors fetched by primary key."""
        assert self.sentence_starts is not None and self.sentence_collection is not None
        if rows.size == 0:
            return _EMPTY_F
        starts, ends = self.sentence_starts[rows], self.sentence_starts[rows + 1]
        ids = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
        per_sentence = self._fetch(self.sentence_collection, ids) @ query
        return np.maximum.reduceat(per_sentence, np.concatenate([[0], np.cumsum(ends - starts)[:-1]]))

    def _fetch(self, name: str, ids: np.ndarray) -> np.ndarray:
        """Vectors by primary key, in the order of `ids`."""
        key = "id" if name == self.sentence_collection else "row"
        by_id: dict[int, Any] = {}
        for start in range(0, len(ids), FETCH_BATCH):
            batch = ids[start : start + FETCH_BATCH].tolist()
            found = call(
                f"get from {name!r}",
                partial(self.client.get, name, ids=batch, output_fields=["vector"]),
            )
            by_id.update((int(item[key]), item["vector"]) for item in found)
        missing = [int(i) for i in ids.tolist() if int(i) not in by_id]
        if missing:
            raise IndexError_(
                f"Milvus collection {name!r} at {self.uri} lacks entities {missing[:5]}; "
                "re-ingest into a new index folder"
            )
        return np.asarray([by_id[int(i)] for i in ids.tolist()], dtype=np.float32).reshape(len(ids), -1)

    # -- copying into the next version ---------------------------------------------------------
    def vectors_of(self, rows: list[int]) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """The first call fetches every vector of the version once: an ingest copies most documents,
        one call each, and the builder holds all vectors in memory anyway."""
        if self._all is None:
            sentences = None
            if self.sentence_collection is not None and self.sentence_starts is not None:
                total = int(self.sentence_starts[-1])
                sentences = self._fetch(self.sentence_collection, np.arange(total, dtype=np.int64))
            self._all = (self._fetch(self.collection, np.arange(self.size, dtype=np.int64)), sentences)
        vectors, sentences = self._all
        if sentences is None or self.sentence_starts is None:
            return vectors[rows], None
        starts = self.sentence_starts
        return vectors[rows], [sentences[starts[r] : starts[r + 1]] for r in rows]

    def close(self) -> None:
        """Forget copied vectors; the client stays open, shared per URI (Milvus Lite allows one per
        file and process)."""
        self._all = None


_EMPTY = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float32)


def _complete(
    candidates: np.ndarray,
    known_rows: np.ndarray,
    known_values: np.ndarray,
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray],
    query: np.ndarray,
) -> np.ndarray:
    """Scores of `candidates`: taken from a search where it found them, else computed."""
    out = np.empty(len(candidates), dtype=np.float32)
    known = dict(zip(known_rows.tolist(), known_values.tolist(), strict=True))
    have = np.fromiter((r in known for r in candidates.tolist()), dtype=bool, count=len(candidates))
    out[have] = [known[r] for r in candidates[have].tolist()]
    if not have.all():
        out[~have] = compute(query, candidates[~have])
    return out
