"""Ingest throughput: one process against Ray workers on this machine, same corpus, same index.

    python bench/ingest_ray.py [--docs 2000] [--threads 1,2] [--out bench/results/ingest_ray.json]

The corpus is the first N SQuAD v1.1 dev paragraphs (`../shared/data/squad-dev/corpus.jsonl`),
written as one Markdown file per paragraph (title as heading), so there are many files to spread.
Each run ingests into a fresh index folder with the default settings (onnx-int8 encoder, sentence
vectors, corpus guard on): once in this process per `--threads` value (`encoder_threads`), then
with `ingest(ray="local")` on a local Ray instance started with every CPU, as `tandem ingest --ray`
does: one actor per CPU, one encoder thread each. Ray's start-up is timed apart; the Ray ingest
time includes starting the actors (each loads the encoder and the guard). The script also checks
that the Ray index holds the same chunks and vectors as the single-process one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from tandem.config import Settings
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "squad-dev" / "corpus.jsonl"


def write_corpus(source: Path, folder: Path, count: int) -> int:
    """The first `count` paragraphs as Markdown files; returns how many were written."""
    folder.mkdir(parents=True)
    written = 0
    with source.open() as lines:
        for line in lines:
            if written == count:
                break
            record = json.loads(line)
            text = f"# {record['title'].replace('_', ' ')}\n\n{record['text']}\n"
            (folder / f"{record['_id']}.md").write_text(text)
            written += 1
    return written


def run(name: str, bot: Tandem, docs: Path, ray: str | None) -> dict:
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    report = bot.ingest([docs], ray=ray)
    seconds = time.perf_counter() - started
    assert report.published and not report.skipped, report.skipped
    folder = bot.snapshot.folder
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return {
        "run": name,
        "seconds": round(seconds, 2),
        "documents": report.documents,
        "chunks": report.chunks,
        "documents_per_s": round(report.documents / seconds, 2),
        "chunks_per_s": round(report.chunks / seconds, 2),
        "flagged": len(report.flagged),
        "index_version_mb": round(size / 1e6, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def same_index(one: Tandem, other: Tandem) -> dict:
    a, b = one.snapshot, other.snapshot
    rows = []
    for snapshot in (a, b):
        db = sqlite3.connect(snapshot.folder / "chunks.sqlite")
        rows.append(db.execute("SELECT * FROM chunks ORDER BY row").fetchall())
        db.close()
    return {
        "same_chunks": rows[0] == rows[1],
        "max_vector_difference": float(np.abs(np.asarray(a.vectors) - np.asarray(b.vectors)).max()),
        "max_sentence_vector_difference": float(
            np.abs(np.asarray(a.sentence_vectors) - np.asarray(b.sentence_vectors)).max()
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="SQuAD corpus.jsonl")
    parser.add_argument("--docs", type=int, default=2000, help="paragraphs to ingest")
    parser.add_argument("--threads", default="1,2", help="encoder_threads values for single-process runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest_ray.json")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data} not found: pass --data PATH/corpus.jsonl")

    import ray

    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tandem-bench-ingest-") as tmp:
        docs = Path(tmp) / "docs"
        count = write_corpus(args.data, docs, args.docs)
        bots: dict[str, Tandem] = {}
        for threads in [int(t) for t in args.threads.split(",")]:
            bot = Tandem(Path(tmp) / f"single-{threads}", Settings.load(None, encoder_threads=threads))
            bot.encoder  # noqa: B018 - load before timing, as the Ray driver does
            name = f"single process, {threads} encoder thread{'s' if threads > 1 else ''}"
            results.append(run(name, bot, docs, None))
            bots[name] = bot
            print(results[-1])

        started = time.perf_counter()
        ray.init(address="local", include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        ray_start = time.perf_counter() - started
        cpus = int(ray.cluster_resources().get("CPU", 0))
        bot = Tandem(Path(tmp) / "ray", Settings.load(None, encoder_threads=1))
        bot.encoder  # noqa: B018
        name = f"Ray local, {cpus} workers x 1 encoder thread"
        results.append(run(name, bot, docs, "local") | {"ray_start_s": round(ray_start, 2)})
        print(results[-1])
        ray.shutdown()
        check = same_index(next(iter(bots.values())), bot)

    machine = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "ray": ray.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    print(f"\n{count} SQuAD paragraphs as Markdown files, default settings; Ray start-up {ray_start:.1f} s")
    print(f"{'run':<48} {'seconds':>8} {'docs/s':>8} {'chunks/s':>9} {'load':>11}")
    for r in results:
        load = f"{r['load_before']:.1f}->{r['load_after']:.1f}"
        rates = f"{r['documents_per_s']:>8.1f} {r['chunks_per_s']:>9.1f}"
        print(f"{r['run']:<48} {r['seconds']:>8.1f} {rates} {load:>11}")
    print(f"Ray index vs single-process index: {check}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"documents": count, "machine": machine, "runs": results, "identical": check}
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
