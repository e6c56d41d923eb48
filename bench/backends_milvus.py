"""Vector stores compared: the embedded store (NumPy) vs Milvus (Milvus Lite by default).

    python bench/backends_milvus.py                          # 1,000 sampled SQuAD questions, 100k synthetic
    python bench/backends_milvus.py --queries 10570 --uri http://milvus.internal:19530
    python bench/backends_milvus.py --index ./squad-index   # reuse an embedded SQuAD index

Part 1, accuracy: ingests the SQuAD v1.1 dev paragraphs once with the embedded store (default
settings), copies the index folder and re-ingests the copy with vector_store = "milvus", which
copies the vectors into Milvus without re-embedding, so both stores hold the same vectors. Each
sampled question is encoded once and searched in both with the default search (hybrid, weighted
fusion, coverage rerank; 50 chunks, one BLAS thread): recall@k, MRR@10 and nDCG@10 (a document
scores as its best chunk, as in bench/retrieval.py), how many questions got the same ten documents,
and the search latency with the query vector given.

Part 2, latency: `VectorStore.search` alone over random unit vectors (384 dimensions, chunk vectors
only) at the SQuAD corpus size and at 100,000 chunks: the 100 best rows ("dense"), and the 100 best
plus the exact scores of 100 other rows ("hybrid", what hybrid search asks for its BM25
candidates). Prints tables and writes bench/results/backends_milvus.json. bench/backends.py runs
it as its "milvus" part through `bench_milvus`. Not a test: latency depends on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from retrieval import (
    DEFAULT_DATA,
    SEARCH_DEPTH,
    encode_each,
    latency_summary,
    load_beir,
    machine,
    mean_scores,
    ranked_docs,
    sample,
    score_query,
    shuffled_order,
    table,
)
from tandem import __version__
from tandem.config import Settings
from tandem.index.embedded_store import EmbeddedVectorStore
from tandem.index.layout import version_name
from tandem.index.manifest import ChunkingInfo, EncoderInfo, Manifest
from tandem.index.milvus_store import MilvusVectorStore, MilvusVectorWriter
from tandem.index.vector_store import VectorStoreConfig
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]
DIMENSION = 384
TOP = 100  # what hybrid search asks the store for (retrieve.CANDIDATES)
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def accuracy(
    data: Path, queries: int, seed: int, uri: str | None, scratch: Path, index: Path | None = None
) -> dict:
    """SQuAD metrics and search latency, embedded vs Milvus, on the same vectors and queries;
    `index`: an embedded index of the corpus already built with the default settings."""
    corpus, pairs, qrels = load_beir(data)
    picked = sample(pairs, shuffled_order(len(pairs), seed), queries)
    base = Settings.load(None).model_copy(update={"trace": False})
    embedded = Tandem(index or scratch / "embedded", base)
    started = time.perf_counter()
    report = embedded.ingest([corpus])  # a no-op on a given index that is up to date
    ingest_s = time.perf_counter() - started
    print(f"embedded: {report.chunks} chunks, ingest {ingest_s:.0f} s", file=sys.stderr)
    shutil.copytree(embedded.layout.root, scratch / "milvus")
    milvus_settings = base.model_copy(update={"vector_store": "milvus", "milvus_uri": uri})
    milvus = Tandem(scratch / "milvus", milvus_settings, encoder=embedded.encoder)
    started = time.perf_counter()
    moved = milvus.ingest([corpus])
    move_s = time.perf_counter() - started
    assert moved.published and moved.new_chunks == 0, "the Milvus copy should reuse every vector"
    print(f"milvus: copied {moved.chunks} chunks' vectors in {move_s:.0f} s", file=sys.stderr)

    vectors, _ = encode_each(embedded.encoder, picked, "squad")
    out: dict = {
        "queries": len(picked),
        "chunks": report.chunks,
        "sentence_vectors": int(np.load(embedded.snapshot.folder / "sentence_starts.npy")[-1]),
        "embedded_ingest_s": round(ingest_s, 1) if report.published else "reused --index",
        "milvus_copy_s": round(move_s, 1),
        "milvus_collection": milvus.snapshot.manifest.vectors.collection,
    }
    docs: dict[str, list[list[str]]] = {}
    for name, bot in (("embedded", embedded), ("milvus", milvus)):
        retriever, rows, times, ranked = bot.retriever(), [], [], []
        with threadpool_limits(limits=1, user_api="blas"):
            for i, (qid, text) in enumerate(picked, start=1):
                started = time.perf_counter()
                result = retriever.search(text, SEARCH_DEPTH, query_vector=vectors[qid])
                times.append((time.perf_counter() - started) * 1000)
                ranked.append(ranked_docs(result)[:10])
                rows.append(score_query(ranked[-1], qrels[qid]))
                if i % 250 == 0:
                    print(f"\r  {name}: searched {i}/{len(picked)}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        docs[name] = ranked
        out[name] = {**mean_scores(rows), "search_no_encode": latency_summary(times)}
    out["same_top10_documents"] = sum(a == b for a, b in zip(docs["embedded"], docs["milvus"], strict=True))
    out["recall@5_difference_points"] = 100 * (out["milvus"]["recall@5"] - out["embedded"]["recall@5"])
    out["within_half_a_point"] = abs(out["recall@5_difference_points"]) <= 0.5
    return out


def synthetic_stores(
    size: int, uri: str | None, scratch: Path
) -> tuple[EmbeddedVectorStore, MilvusVectorStore, float]:
    """The same `size` random unit vectors in both stores; also returns the Milvus insert time."""
    rng = np.random.default_rng(size)
    vectors = rng.standard_normal((size, DIMENSION), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    row_doc = np.arange(size, dtype=np.int64)
    root = scratch / f"synthetic-{size}"
    folder = root / "versions" / version_name(1)
    folder.mkdir(parents=True)
    np.save(folder / "vectors.npy", vectors)
    embedded = EmbeddedVectorStore(folder, size, DIMENSION, row_doc)
    config = VectorStoreConfig("milvus", uri)
    started = time.perf_counter()
    info = MilvusVectorWriter(config, root, 1, None).write(folder, vectors, None, None, row_doc)
    insert_s = time.perf_counter() - started
    manifest = Manifest(
        version=1,
        tandem_version=__version__,
        encoder=EncoderInfo(model_id="synthetic", dimension=DIMENSION, backend="random"),
        chunking=ChunkingInfo(max_tokens=220, overlap=32),
        vectors=info,
        chunks=size,
    )
    return embedded, MilvusVectorStore(folder, manifest, row_doc, config), insert_s


def latency(sizes: list[int], queries: int, uri: str | None, scratch: Path) -> dict:
    """`VectorStore.search` latency and agreement per store, size and kind of request."""
    out = {}
    for size in sizes:
        embedded, milvus, insert_s = synthetic_stores(size, uri, scratch)
        rng = np.random.default_rng(7)
        probes = rng.standard_normal((queries, DIMENSION), dtype=np.float32)
        probes /= np.linalg.norm(probes, axis=1, keepdims=True)
        extra = [np.sort(rng.choice(size, min(TOP, size), replace=False)) for _ in range(queries)]
        entry: dict = {"chunks": size, "queries": queries, "milvus_insert_s": round(insert_s, 1)}
        for kind in ("dense", "hybrid"):
            tops: dict[str, list[np.ndarray]] = {}
            for name, store in (("embedded", embedded), ("milvus", milvus)):
                times, tops[name] = [], []
                with threadpool_limits(limits=1, user_api="blas"):
                    for probe, rows in zip(probes, extra, strict=True):
                        asked = rows if kind == "hybrid" else np.zeros(0, np.int64)
                        started = time.perf_counter()
                        hits = store.search(probe, TOP, None, asked)
                        times.append((time.perf_counter() - started) * 1000)
                        tops[name].append(hits.rows)
                entry[f"{kind}/{name}"] = latency_summary(times)
            same = sum(np.array_equal(a, b) for a, b in zip(tops["embedded"], tops["milvus"], strict=True))
            entry[f"{kind}/same_top{TOP}"] = same
            print(
                f"  {size} chunks, {kind}: embedded p50 {entry[f'{kind}/embedded']['p50_ms']:.2f} ms, "
                f"milvus p50 {entry[f'{kind}/milvus']['p50_ms']:.2f} ms",
                file=sys.stderr,
            )
        out[str(size)] = entry
    return out


def render(result: dict) -> str:
    a = result["accuracy"]
    lines = [
        f"## SQuAD v1.1 dev: {a['queries']} questions, {a['chunks']} chunks "
        f"(+{a['sentence_vectors']} sentence vectors), default hybrid search\n"
    ]
    rows = []
    for name in ("embedded", "milvus"):
        m = a[name]
        s = m["search_no_encode"]
        rows.append([name, *(m[k] for k in METRICS), f"{s['p50_ms']:.1f}", f"{s['p95_ms']:.1f}"])
    headers = ["store", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "search p50 ms", "search p95 ms"]
    lines.append(table(headers, rows))
    lines.append(
        f"\nrecall@5 difference: {a['recall@5_difference_points']:+.2f} points "
        f"({'within' if a['within_half_a_point'] else 'NOT within'} 0.5); same top-10 documents for "
        f"{a['same_top10_documents']}/{a['queries']} questions\n"
    )
    lines.append(f"## `VectorStore.search` latency, random unit vectors, top {TOP}\n")
    rows = []
    for entry in result["latency"].values():
        for kind in ("dense", "hybrid"):
            e, m = entry[f"{kind}/embedded"], entry[f"{kind}/milvus"]
            rows.append(
                [
                    entry["chunks"],
                    kind,
                    f"{e['p50_ms']:.2f}",
                    f"{e['p95_ms']:.2f}",
                    f"{m['p50_ms']:.2f}",
                    f"{m['p95_ms']:.2f}",
                    f"{entry[f'{kind}/same_top{TOP}']}/{entry['queries']}",
                ]
            )
    headers = ["chunks", "request", "embedded p50", "embedded p95", "milvus p50", "milvus p95", "same top"]
    lines.append(table(headers, rows))
    load = result["machine"]
    lines.append(
        f"\n{load['cpus']} CPUs ({load['cpu']}), load average {load['loadavg_start'][0]:.1f} at start, "
        f"{load['loadavg_end'][0]:.1f} at the end; Milvus at {result['milvus']}"
    )
    return "\n".join(lines)


def run(
    data: Path,
    queries: int,
    sizes: list[int],
    latency_queries: int,
    uri: str | None,
    index: Path | None = None,
    seed: int = 0,
) -> dict:
    """Both parts in a scratch folder; the result dict that main() writes as JSON."""
    started = time.perf_counter()
    host = machine()
    with tempfile.TemporaryDirectory(prefix="tandem-milvus-bench-") as scratch:
        accuracy_result = accuracy(data, queries, seed, uri, Path(scratch), index)
        latency_result = latency(sizes, latency_queries, uri, Path(scratch))
    return {
        "benchmark": "vector stores: embedded (NumPy) vs Milvus",
        "date": time.strftime("%Y-%m-%d"),
        "tandem_version": __version__,
        "milvus": uri or "Milvus Lite (milvus.db in the index folder)",
        "machine": {**host, "loadavg_end": os.getloadavg()},
        "accuracy": accuracy_result,
        "latency": latency_result,
        "runtime_s": round(time.perf_counter() - started, 1),
    }


def bench_milvus(args: argparse.Namespace, index: Path | None = None, questions: list | None = None) -> dict:
    """bench/backends.py's "milvus" part (it runs on SQuAD, not on the demo index it is given)."""
    result = run(
        getattr(args, "data", DEFAULT_DATA),
        getattr(args, "milvus_queries", 1000),
        getattr(args, "synthetic", None) or [2392, 100_000],
        getattr(args, "latency_queries", 100),
        getattr(args, "milvus_uri", None),
        getattr(args, "squad_index", None),
    )
    print(render(result))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="BEIR folder (default: %(default)s)")
    parser.add_argument("--queries", dest="milvus_queries", type=int, default=1000, help="sampled questions")
    parser.add_argument(
        "--synthetic",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[2392, 100_000],
        help="synthetic corpus sizes (default: the SQuAD chunk count and 100k)",
    )
    parser.add_argument("--latency-queries", type=int, default=100, help="timed searches per size")
    parser.add_argument(
        "--index",
        dest="squad_index",
        type=Path,
        default=None,
        help="an embedded SQuAD index built with the default settings (default: ingest to a temp dir)",
    )
    parser.add_argument("--uri", dest="milvus_uri", default=None, help="Milvus URL (default: Milvus Lite)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "backends_milvus.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = bench_milvus(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"\nwrote {args.out} in {result['runtime_s'] / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
