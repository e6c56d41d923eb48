"""Retrieval benchmark on SQuAD v1.1 dev (BEIR layout): encoder backends, fusion, latency.

    python bench/retrieval.py                                   # everything, on all 10,570 queries
    python bench/retrieval.py --queries 3000                    # backend comparison on a sample,
                                                                # fusion comparison on all queries
    python bench/retrieval.py --queries 300 --final-queries 300 --backends onnx-int8   # smoke run

Part 1 ingests the 2,067 paragraphs once per encoder backend and thread count (a fresh index
folder each time), times the ingest, times query encoding one query at a time, and scores dense
retrieval. The default backend is the fastest one (ingest throughput at 1 thread) whose dense
nDCG@10 is within 1 point of fp32 torch, unless --default-backend names one.

Part 2 scores BM25, dense and hybrid search (RRF and weighted fusion over a few dense weights) with
the default backend, then times end-to-end `retriever.search` (query encoding included) with the
best hybrid configuration, at each encoder thread count, with numpy's BLAS threads left as they
are and limited to one (threadpoolctl). The accuracy loops always run with one BLAS thread.

A document scores as its best chunk: chunk results are deduplicated by doc_id, first occurrence
kept. Relevance is binary (one relevant paragraph per question). Sampled queries are the first N
of the query list shuffled by `random.Random(seed)` (seed 0), scored in file order; smaller samples
are prefixes of larger ones. Prints markdown tables and writes JSON (default
bench/results/retrieval.json). Not a test: latency figures depend on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from tandem import __version__
from tandem.config import Settings
from tandem.evaluate.runner import cpu_model
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "squad-dev"
SEARCH_DEPTH = 50  # chunks fetched per query; >= 10 distinct documents after deduplication
RECALL_AT = (1, 5, 10)


# -- data ------------------------------------------------------------------------------------------
def load_beir(folder: Path) -> tuple[Path, list[tuple[str, str]], dict[str, set[str]]]:
    corpus = folder / "corpus.jsonl"
    queries = [json.loads(x) for x in (folder / "queries.jsonl").read_text().splitlines() if x.strip()]
    qrels: dict[str, set[str]] = {}
    for number, line in enumerate((folder / "qrels.tsv").read_text().splitlines()):
        parts = line.split("\t")
        if number == 0 and parts[0] == "query-id":
            continue
        if len(parts) >= 3 and float(parts[2]) > 0:
            qrels.setdefault(parts[0], set()).add(parts[1])
    pairs = [(str(q["_id"]), q["text"]) for q in queries if str(q["_id"]) in qrels]
    return corpus, pairs, qrels


def shuffled_order(n: int, seed: int) -> list[int]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return order


def sample(pairs: list[tuple[str, str]], order: list[int], limit: int | None) -> list[tuple[str, str]]:
    """The first `limit` queries of the shuffle, in file order (all of them when limit is None)."""
    if limit is None or limit >= len(pairs):
        return list(pairs)
    return [pairs[i] for i in sorted(order[:limit])]


# -- metrics ---------------------------------------------------------------------------------------
def ranked_docs(result) -> list[str]:
    """Documents in rank order, each scored by its best chunk."""
    seen: dict[str, None] = {}
    for passage in result.passages:
        seen.setdefault(passage.chunk.doc_id, None)
    return list(seen)


def score_query(docs: list[str], relevant: set[str]) -> dict[str, float]:
    out = {f"recall@{k}": len(relevant & set(docs[:k])) / len(relevant) for k in RECALL_AT}
    first = next((i for i, d in enumerate(docs[:10], start=1) if d in relevant), None)
    out["mrr@10"] = 1.0 / first if first else 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, d in enumerate(docs[:10], start=1) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(relevant), 10) + 1))
    out["ndcg@10"] = dcg / ideal
    return out


def mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.fmean(r[key] for r in rows) for key in rows[0]} if rows else {}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values, dtype=np.float64), q * 100))


def latency_summary(values_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50_ms": percentile(values_ms, 0.50),
        "p95_ms": percentile(values_ms, 0.95),
        "mean_ms": statistics.fmean(values_ms) if values_ms else float("nan"),
    }


def evaluate(retriever, queries, vectors, qrels, mode: str, fusion: str = "rrf", weight: float = 0.5):
    """Mean metrics of one search configuration, reusing precomputed query vectors."""
    retriever.fusion, retriever.dense_weight = fusion, weight
    rows, search_ms = [], []
    # One BLAS thread: the figures do not depend on it, and numpy's default threading is much
    # slower on a busy 2-core machine (see the end-to-end latency table).
    with threadpool_limits(limits=1, user_api="blas"):
        for qid, text in queries:
            started = time.perf_counter()
            result = retriever.search(text, SEARCH_DEPTH, None, mode, query_vector=vectors[qid])
            search_ms.append((time.perf_counter() - started) * 1000)
            rows.append(score_query(ranked_docs(result), qrels[qid]))
    return mean_scores(rows), latency_summary(search_ms)


# -- steps -----------------------------------------------------------------------------------------
def make_bot(folder: Path, backend: str, threads: int, fusion: str = "rrf", weight: float = 0.5) -> Tandem:
    settings = Settings.load(
        None,
        encoder_backend=backend,
        encoder_threads=threads,
        fusion=fusion,
        dense_weight=weight,
        search_mode="hybrid",
    )
    return Tandem(folder, settings)


def encode_each(encoder, queries, progress: str) -> tuple[dict[str, np.ndarray], list[float]]:
    """Encode queries one at a time (as search does), timing each call."""
    for _ in range(5):
        encoder.encode(["warm-up question about the benchmark"])
    vectors, times = {}, []
    for i, (qid, text) in enumerate(queries, start=1):
        started = time.perf_counter()
        vectors[qid] = encoder.encode([text])[0]
        times.append((time.perf_counter() - started) * 1000)
        if i % 500 == 0 or i == len(queries):
            print(f"\r  {progress}: encoded {i}/{len(queries)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return vectors, times


def compare_backends(args, corpus, comparison, latency_set, qrels, scratch: Path) -> tuple[dict, dict]:
    results: dict[str, dict] = {}
    query_vectors: dict[str, dict[str, np.ndarray]] = {}
    for backend in args.backends:
        entry: dict = {"ingest": {}, "query_encode": {}}
        vectors: dict[str, np.ndarray] = {}
        for threads in args.threads:
            folder = scratch / f"{backend}-t{threads}"
            bot = make_bot(folder, backend, threads)
            started = time.perf_counter()
            bot.encoder.encode(["load and warm the model"])
            load_s = time.perf_counter() - started
            report = bot.ingest([corpus])
            snapshot = bot.snapshot
            sentences = 0 if snapshot.sentence_vectors is None else int(snapshot.sentence_vectors.shape[0])
            entry["ingest"][str(threads)] = {
                "seconds": report.seconds,
                "chunks": report.new_chunks,
                "documents": report.documents,
                "sentence_vectors": sentences,
                "chunks_per_s": report.new_chunks / report.seconds,
                "texts_embedded_per_s": (report.new_chunks + sentences) / report.seconds,
                "model_load_s": load_s,
            }
            print(
                f"{backend} x{threads}: ingested {report.new_chunks} chunks (+{sentences} sentence "
                f"vectors) in {report.seconds:.1f} s",
                file=sys.stderr,
            )
            needed = comparison if threads == args.threads[0] else latency_set
            encoded, _ = encode_each(bot.encoder, needed, f"{backend} x{threads}")
            timed_ids = {qid for qid, _ in latency_set}
            times = []
            for _qid, text in latency_set:  # same queries for every backend and thread count
                started = time.perf_counter()
                bot.encoder.encode([text])
                times.append((time.perf_counter() - started) * 1000)
            entry["query_encode"][str(threads)] = latency_summary(times)
            if threads == args.threads[0]:
                vectors = encoded
                retriever = bot.retriever()
                metrics, search = evaluate(retriever, comparison, vectors, qrels, "dense")
                entry["dense"] = metrics
                entry["dense_search_no_encode"] = search
                entry["index_folder"] = str(folder)
            else:
                drift = [float(encoded[q] @ vectors[q]) for q in timed_ids if q in vectors]
                entry["query_vector_cosine_vs_first_thread_count_min"] = min(drift) if drift else None
            bot.snapshot.close()
        results[backend] = entry
        query_vectors[backend] = vectors
        print(
            f"{backend}: dense nDCG@10 {entry['dense']['ndcg@10']:.4f}, R@5 {entry['dense']['recall@5']:.4f}",
            file=sys.stderr,
        )
    return results, query_vectors


def pick_default(backends: dict, reference: str = "torch") -> tuple[str, str]:
    """The fastest backend (ingest chunks/s at the first thread count) within 1 nDCG point of torch."""
    first = lambda e: next(iter(e["ingest"].values()))  # noqa: E731
    if reference not in backends:
        best = max(backends, key=lambda b: first(backends[b])["chunks_per_s"])
        return best, f"no {reference} run to compare with; picked the fastest"
    floor = backends[reference]["dense"]["ndcg@10"] - 0.01
    eligible = [b for b, e in backends.items() if e["dense"]["ndcg@10"] >= floor]
    best = max(eligible, key=lambda b: first(backends[b])["chunks_per_s"])
    return best, (
        f"fastest ingest among backends with dense nDCG@10 >= {floor:.4f} "
        f"(torch {backends[reference]['dense']['ndcg@10']:.4f} - 0.01): {', '.join(eligible)}"
    )


def compare_fusion(args, folder: Path, backend: str, final, qrels, cached: dict) -> dict:
    bot = make_bot(folder, backend, args.threads[0])
    missing = [(q, t) for q, t in final if q not in cached]
    vectors = dict(cached)
    if missing:
        encoded, _ = encode_each(bot.encoder, missing, f"{backend} final set")
        vectors.update(encoded)
    retriever = bot.retriever()
    configs = [("bm25", "bm25", "rrf", 0.5), ("dense", "dense", "rrf", 0.5)]
    configs += [(f"hybrid rrf w={w:g}", "hybrid", "rrf", w) for w in args.rrf_weights]
    configs += [(f"hybrid weighted w={w:g}", "hybrid", "weighted", w) for w in args.weights]
    rows = []
    for name, mode, fusion, weight in configs:
        metrics, search = evaluate(retriever, final, vectors, qrels, mode, fusion, weight)
        rows.append(
            {
                "name": name,
                "mode": mode,
                "fusion": fusion,
                "dense_weight": weight,
                **metrics,
                "search_no_encode": search,
            }
        )
        print(f"  {name}: nDCG@10 {metrics['ndcg@10']:.4f} R@5 {metrics['recall@5']:.4f}", file=sys.stderr)
    bot.snapshot.close()
    return {"configs": rows}


def time_end_to_end(args, folder: Path, backend: str, fusion: str, weight: float, latency_set) -> dict:
    """`retriever.search(query, k)` as an application calls it, per encoder thread count, with
    numpy's BLAS threading left as is ("default") and limited to one thread."""
    out = {}
    for threads in args.threads:
        for blas in ("default", 1):
            bot = make_bot(folder, backend, threads, fusion, weight)
            retriever = bot.retriever()
            limit = threadpool_limits(limits=blas, user_api="blas") if blas != "default" else nullcontext()
            with limit:
                for _qid, text in latency_set[:20]:
                    retriever.search(text, args.top_k)
                totals, parts = [], {"encode_ms": [], "dense_ms": [], "lexical_ms": [], "fusion_ms": []}
                for _qid, text in latency_set:
                    started = time.perf_counter()
                    result = retriever.search(text, args.top_k)
                    totals.append((time.perf_counter() - started) * 1000)
                    for key in parts:
                        parts[key].append(result.timings.get(key, 0.0))
            out[f"{threads}/{blas}"] = {
                "encoder_threads": threads,
                "blas_threads": blas,
                **latency_summary(totals),
                "parts_p50_ms": {k: percentile(v, 0.5) for k, v in parts.items()},
            }
            print(
                f"  end-to-end x{threads} blas={blas}: p50 {out[f'{threads}/{blas}']['p50_ms']:.2f} ms",
                file=sys.stderr,
            )
            bot.snapshot.close()
    return out


# -- report ----------------------------------------------------------------------------------------
def table(headers: list[str], rows: list[list]) -> str:
    def cell(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def metric_cells(m: dict) -> list[float]:
    return [m["recall@1"], m["recall@5"], m["recall@10"], m["mrr@10"], m["ndcg@10"]]


METRIC_HEADERS = ["R@1", "R@5", "R@10", "MRR@10", "nDCG@10"]


def render(result: dict) -> str:
    out = []
    backends = result["backends"]
    threads = result["threads"]
    n = result["queries"]["comparison"]
    out.append(f"## Encoder backends: dense retrieval ({n} queries), ingest and query encoding\n")
    rows = []
    for name, e in backends.items():
        rows.append([name, *metric_cells(e["dense"])])
    out.append(table(["backend", *METRIC_HEADERS], rows))
    out.append("")
    rows = []
    for name, e in backends.items():
        for t in threads:
            ing, enc = e["ingest"].get(str(t)), e["query_encode"].get(str(t))
            rows.append(
                [
                    name,
                    t,
                    f"{ing['seconds']:.1f}",
                    f"{ing['chunks_per_s']:.1f}",
                    f"{ing['texts_embedded_per_s']:.0f}",
                    f"{enc['p50_ms']:.2f}",
                    f"{enc['p95_ms']:.2f}",
                ]
            )
    out.append(
        table(
            ["backend", "threads", "ingest s", "chunks/s", "texts/s", "encode p50 ms", "encode p95 ms"],
            rows,
        )
    )
    out.append(f"\nDefault backend: **{result['default_backend']}** ({result['default_reason']})\n")
    f = result["fusion"]
    out.append(f"## Search modes with {result['default_backend']} ({result['queries']['final']} queries)\n")
    rows = [[c["name"], *metric_cells(c), f"{c['search_no_encode']['p50_ms']:.2f}"] for c in f["configs"]]
    out.append(table(["configuration", *METRIC_HEADERS, "search p50 ms (vector given, 1 BLAS thread)"], rows))
    best = result["best_hybrid"]
    out.append(f"\nBest hybrid: {best['name']}\n")
    out.append(
        f"## End-to-end search latency ({best['name']}, k={result['top_k']}, "
        f"{result['queries']['latency']} queries, query encoding included)\n"
    )
    rows = []
    for s in result["end_to_end"].values():
        p = s["parts_p50_ms"]
        rows.append(
            [
                s["encoder_threads"],
                s["blas_threads"],
                f"{s['p50_ms']:.2f}",
                f"{s['p95_ms']:.2f}",
                f"{p['encode_ms']:.2f}",
                f"{p['dense_ms']:.2f}",
                f"{p['lexical_ms']:.2f}",
                f"{p['fusion_ms']:.2f}",
            ]
        )
    out.append(
        table(
            [
                "encoder threads",
                "BLAS threads",
                "p50 ms",
                "p95 ms",
                "encode p50",
                "dense p50",
                "bm25 p50",
                "fusion p50",
            ],
            rows,
        )
    )
    out.append("\n## Targets\n")
    rows = [
        [k, v["target"], f"{v['value']:.3f}", "yes" if v["met"] else "no"]
        for k, v in result["targets"].items()
    ]
    out.append(table(["target", "goal", "measured", "met"], rows))
    return "\n".join(out)


def machine() -> dict:
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
        "blas": [
            {k: i.get(k) for k in ("internal_api", "version", "num_threads")}
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        ],
    }


def csv_list(kind):
    return lambda text: [kind(x) for x in text.split(",") if x.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="BEIR folder (default: %(default)s)")
    parser.add_argument(
        "--queries", type=int, default=None, help="queries for the backend comparison (default: all)"
    )
    parser.add_argument(
        "--final-queries",
        type=int,
        default=None,
        help="queries for the search-mode comparison (default: all)",
    )
    parser.add_argument(
        "--latency-queries", type=int, default=500, help="queries timed one by one (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="shuffle seed for sampling (default: %(default)s)"
    )
    parser.add_argument(
        "--backends", type=csv_list(str), default=["torch", "onnx", "onnx-int8"], help="comma list"
    )
    parser.add_argument("--threads", type=csv_list(int), default=[1, 2], help="comma list (default: 1,2)")
    parser.add_argument(
        "--weights",
        type=csv_list(float),
        default=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
        help="dense weights, weighted fusion",
    )
    parser.add_argument(
        "--rrf-weights", type=csv_list(float), default=[0.4, 0.5, 0.6], help="dense weights, RRF"
    )
    parser.add_argument("--default-backend", default=None, help="skip the rule and use this backend")
    parser.add_argument("--top-k", type=int, default=5, help="k for the end-to-end latency runs")
    parser.add_argument("--index-root", type=Path, default=None, help="keep the indexes here (default: temp)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval.json")
    args = parser.parse_args()

    started = time.perf_counter()
    host = machine()
    corpus, pairs, qrels = load_beir(args.data)
    order = shuffled_order(len(pairs), args.seed)
    comparison = sample(pairs, order, args.queries)
    final = sample(pairs, order, args.final_queries)
    latency_set = [pairs[i] for i in order[: args.latency_queries]]
    print(
        f"{len(pairs)} queries; backend comparison on {len(comparison)}, search modes on {len(final)}, "
        f"latency on {len(latency_set)}",
        file=sys.stderr,
    )
    scratch_owner = None
    if args.index_root is None:
        scratch_owner = tempfile.TemporaryDirectory(prefix="tandem-bench-")
        scratch = Path(scratch_owner.name)
    else:
        scratch = args.index_root
        if scratch.exists():
            shutil.rmtree(scratch)
        scratch.mkdir(parents=True)
    try:
        backends, query_vectors = compare_backends(args, corpus, comparison, latency_set, qrels, scratch)
        if args.default_backend:
            default, reason = args.default_backend, "chosen with --default-backend"
        else:
            default, reason = pick_default(backends)
        folder = Path(backends[default]["index_folder"])
        # The comparison's query vectors (same backend and thread count) are reused for the final set.
        fusion = compare_fusion(args, folder, default, final, qrels, query_vectors[default])
        hybrids = [c for c in fusion["configs"] if c["mode"] == "hybrid"]
        best = max(hybrids, key=lambda c: (c["ndcg@10"], c["recall@5"]))
        end_to_end = time_end_to_end(args, folder, default, best["fusion"], best["dense_weight"], latency_set)
    finally:
        if scratch_owner is not None:
            scratch_owner.cleanup()

    as_is = min(s["p50_ms"] for s in end_to_end.values() if s["blas_threads"] == "default")
    one_blas = min(s["p50_ms"] for s in end_to_end.values() if s["blas_threads"] == 1)
    settings = Settings.load(None)
    result = {
        "benchmark": "SQuAD v1.1 dev, BEIR layout: 2,067 paragraphs, 10,570 questions",
        "date": time.strftime("%Y-%m-%d"),
        "tandem_version": __version__,
        "machine": {**host, "loadavg_end": os.getloadavg()},
        "data": str(args.data),
        "queries": {
            "total": len(pairs),
            "comparison": len(comparison),
            "final": len(final),
            "latency": len(latency_set),
            "sampling": f"first N of random.Random({args.seed}).shuffle over the queries in file order",
        },
        "search_depth_chunks": SEARCH_DEPTH,
        "top_k": args.top_k,
        "threads": args.threads,
        "settings": {
            k: getattr(settings, k)
            for k in ("encoder", "chunk_tokens", "chunk_overlap", "sentence_vectors", "encode_batch_size")
        },
        "backends": backends,
        "default_backend": default,
        "default_reason": reason,
        "fusion": fusion,
        "best_hybrid": {k: best[k] for k in ("name", "fusion", "dense_weight")},
        "end_to_end": end_to_end,
        "targets": {
            "hybrid recall@5": {"target": 0.95, "value": best["recall@5"], "met": best["recall@5"] >= 0.95},
            "hybrid nDCG@10": {"target": 0.89, "value": best["ndcg@10"], "met": best["ndcg@10"] >= 0.89},
            "search p50 ms, library as is": {"target": 15.0, "value": as_is, "met": as_is <= 15.0},
            "search p50 ms, BLAS limited to 1 thread": {
                "target": 15.0,
                "value": one_blas,
                "met": one_blas <= 15.0,
            },
        },
        "runtime_s": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(render(result))
    print(f"\nwrote {args.out} in {result['runtime_s'] / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
