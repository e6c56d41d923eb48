"""The Milvus vector store against real Milvus Lite: same results as the embedded store, filters,
no stale chunks after re-ingest, pruning, crash safety, and a clear error on a dimension mismatch."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tandem.errors import IndexError_
from tandem.index.embedded_store import EmbeddedVectorStore, EmbeddedVectorWriter
from tandem.index.layout import IndexLayout
from tandem.index.manifest import ChunkingInfo, EncoderInfo, Manifest
from tandem.index.milvus_client import connect, resolve_uri
from tandem.index.milvus_store import MilvusVectorStore, MilvusVectorWriter
from tandem.index.snapshot import SearchFilters
from tandem.index.vector_store import PENDING_FILE, VectorStoreConfig

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("milvus_lite") is None,
        reason="needs pymilvus and milvus-lite (tandem[scale])",
    ),
    pytest.mark.slow,  # a Milvus Lite server per test
]

QUERIES = [
    "which payment method is the refund paid to",
    "shipping to Canada",
    "charging a cold battery in winter",
    "error E04 speed sensor magnet",
    "how many years is the frame covered",
    "pair the display with the app",
]


@pytest.fixture
def milvus_tandem(make_tandem, tmp_path: Path):
    def make(index: str = "index", **overrides: object):
        return make_tandem(tmp_path / index, vector_store="milvus", **overrides)

    return make


def client_of(bot):
    vectors = bot.snapshot.manifest.vectors
    return connect(resolve_uri(bot.layout.root, None, vectors.uri), None)


def collections(bot) -> set[str]:
    prefix = f"tandem_{bot.snapshot.manifest.vectors.index_id}_"
    return {name for name in client_of(bot).list_collections() if name.startswith(prefix)}


def test_same_results_as_the_embedded_store(make_tandem, milvus_tandem, kb: Path, tmp_path: Path) -> None:
    embedded = make_tandem(tmp_path / "embedded")
    embedded.ingest([kb])
    bot = milvus_tandem()
    report = bot.ingest([kb])
    assert report.published and report.version == 1

    vectors = bot.snapshot.manifest.vectors
    assert vectors.backend == "milvus" and vectors.uri == "milvus.db"
    assert vectors.collection == f"tandem_{vectors.index_id}_v000001"
    assert vectors.sentence_collection == vectors.collection + "_sentences"
    assert not (bot.layout.current_folder() / "vectors.npy").exists()
    assert client_of(bot).get_collection_stats(vectors.collection)["row_count"] == report.chunks

    most = SearchFilters(sources=tuple(d for d in bot.snapshot.doc_ids if d != "faq.csv"))  # "doc not in"
    few = SearchFilters(sources=("guides/*",))  # "doc in"
    for query in QUERIES:
        for mode, filters in [
            ("hybrid", None),
            ("dense", None),
            ("bm25", None),
            ("hybrid", most),
            ("dense", few),
        ]:
            want = embedded.search(query, k=5, mode=mode, filters=filters)
            got = bot.search(query, k=5, mode=mode, filters=filters)
            assert [p.chunk.chunk_id for p in got] == [p.chunk.chunk_id for p in want], (query, mode)
            for a, b in zip(got, want, strict=True):
                assert a.dense_score == pytest.approx(b.dense_score, abs=1e-5)
                assert (a.dense_rank, a.lexical_rank) == (b.dense_rank, b.lexical_rank)


def test_filters_by_source_glob_and_tag(milvus_tandem, kb: Path) -> None:
    bot = milvus_tandem()
    bot.ingest([kb], tags=("kb",))
    only_guides = bot.search("refund", k=10, filters=SearchFilters(sources=("guides/*",)))
    assert only_guides and all(p.chunk.doc_id.startswith("guides/") for p in only_guides)
    billing = bot.search("battery", k=10, filters=SearchFilters(tags=("billing",)))
    assert billing and {p.chunk.doc_id for p in billing} == {"refunds.md"}
    assert bot.search("battery", k=3, filters=SearchFilters(tags=("nope",))) == []
    dense = bot.search("battery", k=10, mode="dense", filters=SearchFilters(doc_ids=("refunds.md",)))
    assert dense and {p.chunk.doc_id for p in dense} == {"refunds.md"}


def test_reingest_leaves_no_stale_chunk_searchable(milvus_tandem, kb: Path) -> None:
    bot = milvus_tandem()
    bot.ingest([kb])
    first = bot.snapshot.manifest.vectors.collection
    (kb / "warranty.txt").write_text("Warranty summary\n\nThe frame is covered for 15 years.\n")
    (kb / "faq.csv").unlink()
    report = bot.ingest([kb])
    assert (report.files_changed, report.files_deleted, report.version) == (1, 1, 2)
    assert report.new_chunks < report.chunks  # unchanged documents were copied, not re-embedded

    vectors = bot.snapshot.manifest.vectors
    assert vectors.collection != first
    assert client_of(bot).get_collection_stats(vectors.collection)["row_count"] == report.chunks
    assert "faq.csv" not in bot.snapshot.doc_ids
    assert "15 years" in bot.search("how many years is the frame covered", k=1)[0].chunk.text
    for mode in ("hybrid", "dense", "bm25"):
        texts = [p.chunk.text for p in bot.search("frame covered 10 years", k=20, mode=mode)]
        assert not any("10 years" in t for t in texts), f"stale chunk searchable ({mode})"
        hits = bot.search("Do you ship to Canada?", k=20, mode=mode)
        assert all(p.chunk.doc_id != "faq.csv" for p in hits), f"deleted document searchable ({mode})"


def test_prune_drops_the_collections_of_deleted_versions(milvus_tandem, kb: Path) -> None:
    bot = milvus_tandem(keep_versions=2)
    for years in (11, 12, 13):
        (kb / "warranty.txt").write_text(f"Warranty summary\n\nThe frame is covered for {years} years.\n")
        bot.ingest([kb])
    assert IndexLayout(bot.layout.root).version_names() == ["v000002", "v000003"]
    index_id = bot.snapshot.manifest.vectors.index_id
    assert collections(bot) == {
        f"tandem_{index_id}_v00000{n}{suffix}" for n in (2, 3) for suffix in ("", "_sentences")
    }


def test_crash_before_publish_keeps_the_previous_version(
    milvus_tandem, kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = milvus_tandem()
    bot.ingest([kb])
    index_id = bot.snapshot.manifest.vectors.index_id
    (kb / "warranty.txt").write_text("Warranty summary\n\nThe frame is covered for 15 years.\n")

    class Killed(BaseException):
        """Stands in for kill -9 between writing the collections and publishing the version."""

    def crash(self, build_folder: Path, number: int) -> Path:
        raise Killed

    monkeypatch.setattr(IndexLayout, "publish", crash)
    with pytest.raises(Killed):
        milvus_tandem().ingest([kb])
    monkeypatch.undo()
    orphan = f"tandem_{index_id}_v000002"
    assert orphan in collections(bot), "the build should have written its collection before publishing"
    (pending,) = bot.layout.versions.glob(f".building-*/{PENDING_FILE}")
    assert json.loads(pending.read_text())["collection"] == orphan

    survivor = milvus_tandem()
    assert survivor.layout.current_name() == "v000001"
    assert "10 years" in survivor.search("how many years is the frame covered", k=1)[0].chunk.text
    report = survivor.ingest([kb])  # cleans up the crashed build, then builds v2 afresh
    assert report.published and report.version == 2
    assert "15 years" in survivor.search("how many years is the frame covered", k=1)[0].chunk.text
    assert client_of(survivor).get_collection_stats(orphan)["row_count"] == report.chunks


def test_collection_with_another_dimension_is_a_clear_error(milvus_tandem, kb: Path) -> None:
    bot = milvus_tandem()
    bot.ingest([kb])
    vectors = bot.snapshot.manifest.vectors
    client = client_of(bot)
    client.drop_collection(vectors.collection)
    client.create_collection(vectors.collection, dimension=8)
    with pytest.raises(IndexError_) as raised:
        milvus_tandem().search("refund")
    message = str(raised.value)
    assert vectors.collection in message and "dimension 8" in message and "dimension 384" in message
    assert "new index folder" in message

    # The same check guards a build that finds its collection name taken by other vectors.
    other = milvus_tandem("other")
    other.ingest([kb])
    taken = f"tandem_{other.snapshot.manifest.vectors.index_id}_v000002"
    client_of(other).create_collection(taken, dimension=8)
    (kb / "warranty.txt").write_text("Warranty summary\n\nThe frame is covered for 15 years.\n")
    with pytest.raises(IndexError_, match=rf"{taken}.*dimension 8.*dimension 384.*new index folder"):
        milvus_tandem("other").ingest([kb])
    assert other.layout.current_name() == "v000001"


def test_switching_vector_store_copies_vectors_without_reembedding(
    make_tandem, kb: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    embedded = make_tandem(index)
    embedded.ingest([kb])
    want = [p.chunk.chunk_id for p in embedded.search("refund timing", k=5)]
    moved = make_tandem(index, vector_store="milvus").ingest([kb])
    assert (moved.published, moved.new_chunks, moved.files_unchanged) == (True, 0, 7)
    bot = make_tandem(index, vector_store="milvus")
    assert bot.snapshot.manifest.vectors.backend == "milvus"
    assert [p.chunk.chunk_id for p in bot.search("refund timing", k=5)] == want
    back = make_tandem(index).ingest([kb])
    assert (back.published, back.new_chunks) == (True, 0)
    assert [p.chunk.chunk_id for p in make_tandem(index).search("refund timing", k=5)] == want


def test_lite_file_in_use_by_another_process_says_what_to_do(milvus_tandem, kb: Path) -> None:
    bot = milvus_tandem()
    bot.ingest([kb])
    path = bot.layout.root / "milvus.db"
    script = "\n".join(
        [
            "import sys",
            "from tandem.errors import IndexError_",
            "from tandem.index.milvus_client import connect",
            "try:",
            f"    connect({str(path)!r}, None)",
            "except IndexError_ as exc:",
            "    sys.exit(print(exc) or 3)",
        ]
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "one process at a time" in done.stdout and "milvus_uri" in done.stdout


def test_threshold_search_is_exact_beyond_the_first_candidate_lists(tmp_path: Path) -> None:
    """600 chunks with 1-4 sentences each: the top 100 needs more than the first 200 candidates."""
    rng = np.random.default_rng(0)
    size, dimension = 600, 16

    def unit(n: int) -> np.ndarray:
        vectors = rng.standard_normal((n, dimension)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    vectors = unit(size)
    starts = np.concatenate([[0], np.cumsum(rng.integers(1, 5, size))]).astype(np.int64)
    sentences = unit(int(starts[-1]))
    row_doc = np.arange(size, dtype=np.int64) // 3
    folder = tmp_path / "index" / "versions" / "v000001"
    folder.mkdir(parents=True)
    config = VectorStoreConfig("milvus")
    info = MilvusVectorWriter(config, tmp_path / "index", 1, None).write(
        folder, vectors, sentences, starts, row_doc
    )
    EmbeddedVectorWriter().write(folder, vectors, sentences, starts, row_doc)
    manifest = Manifest(
        version=1,
        tandem_version="test",
        encoder=EncoderInfo(model_id="random", dimension=dimension, backend="none"),
        chunking=ChunkingInfo(max_tokens=220, overlap=32, sentence_vectors=True),
        vectors=info,
        chunks=size,
    )
    milvus = MilvusVectorStore(folder, manifest, row_doc, config)
    embedded = EmbeddedVectorStore(folder, size, dimension, row_doc)
    docs = np.arange(row_doc[-1] + 1) % 4 != 0
    for query in unit(5):
        asked = np.sort(rng.choice(size, 40, replace=False))
        for allowed in (None, docs):
            want, got = embedded.search(query, 100, allowed, asked), milvus.search(query, 100, allowed, asked)
            assert got.rows.tolist() == want.rows.tolist()
            exact = np.union1d(got.rows, asked)
            assert np.allclose(got.scores[exact], want.scores[exact], atol=1e-5)
        only = milvus.search(query, 0, None, asked)  # BM25 mode: scores of the lexical candidates only
        assert only.rows.size == 0 and np.allclose(only.scores[asked], want.scores[asked], atol=1e-5)
    copied, copied_sentences = milvus.vectors_of([3, 7])
    assert np.allclose(copied, vectors[[3, 7]]) and copied_sentences is not None
    assert np.allclose(copied_sentences[1], sentences[starts[7] : starts[8]])
