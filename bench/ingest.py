"""Ingestion, stage by stage: where does an ingest spend its time?

    python bench/ingest.py [--corpus ../shared/data/squad-dev/corpus.jsonl] [--limit N] [--busy]
    python bench/ingest.py --corpus ../shared/data/banking77/train.csv   # 10,003 short documents

The corpus (a BEIR-style corpus.jsonl, one document per line; default: the 2,067 SQuAD v1.1 dev
paragraphs) is first ingested end to end with `Tandem.ingest` into a fresh index (default
settings: onnx-int8 encoder, 2 bulk-encoding threads while no other process holds a core, sentence
vectors, corpus guard on), then ingested again unchanged
(the re-ingest), and then each stage is timed on its own over the same documents: parse, chunk,
corpus-guard scan, encode the chunks, encode the sentences. What the stages do not account for of
the end-to-end time is BM25, writing and bookkeeping. `--busy` runs a second process that keeps
one core busy for the whole run (a loaded machine). Prints docs/s, chunks/s, texts embedded/s,
peak RSS and the per-stage seconds; writes JSON (default bench/results/ingest.json).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

from tandem.config import Settings
from tandem.documents.chunking import Chunker
from tandem.documents.loaders import load_documents
from tandem.documents.text_utils import split_sentences
from tandem.guard.corpus_guard import CorpusGuard
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared" / "data" / "squad-dev" / "corpus.jsonl"


def spin(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    """Keep one core busy until `stop` is set."""
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def corpus_copy(source: Path, folder: Path, limit: int | None) -> Path:
    """The first `limit` documents of `source` (all when None) as corpus.jsonl in `folder`: a
    corpus.jsonl's lines, or a CSV's rows (its `text` column, e.g. Banking77's 10,003 messages)."""
    target = folder / "corpus.jsonl"
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        rows = (
            (
                json.dumps({"_id": str(n), "title": "", "text": r["text"]}) + "\n"
                for n, r in enumerate(csv.DictReader(lines))
            )
            if source.suffix == ".csv"
            else lines
        )
        for number, line in enumerate(rows):
            if limit is not None and number >= limit:
                break
            out.write(line)
    return target


def timed(work, *args):
    started = time.perf_counter()
    result = work(*args)
    return result, time.perf_counter() - started


def threads_of(encoder) -> int | None:
    """The intra-op threads of an ONNX encoder's session (None for other backends)."""
    session = getattr(encoder, "session", None)
    return session.get_session_options().intra_op_num_threads if session is not None else None


def stages(bot: Tandem, corpus: Path) -> dict[str, float | int]:
    """Each stage of an ingest on its own, in seconds, with the counts it worked on."""
    s = bot.settings
    documents, parse_s = timed(load_documents, corpus, corpus.name)
    encoder = bot.components.ingest_encoder  # as an ingest starting now would choose it
    chunker = Chunker(encoder, s.chunk_tokens, s.chunk_overlap)
    chunks, chunk_s = timed(lambda: [c for d in documents for c in chunker.chunk(d)])
    guard = CorpusGuard(bot.guard_encoder)
    _, guard_s = timed(lambda: guard.scan_chunks([(c.chunk_id, c.text) for c in chunks]))
    texts = [c.indexed_text() for c in chunks]
    _, chunks_s = timed(encoder.encode, texts, s.encode_batch_size)
    sentences = []
    for c in chunks:
        context = c.context_line
        sentences += [f"{context}\n{x}" if context else x for x in split_sentences(c.text) or [c.text]]
    _, sentences_s = timed(encoder.encode, sentences, s.encode_batch_size)
    return {
        "documents": len(documents),
        "chunks": len(chunks),
        "sentences": len(sentences),
        "parse_s": round(parse_s, 2),
        "chunk_s": round(chunk_s, 2),
        "guard_scan_s": round(guard_s, 2),
        "encode_chunks_s": round(chunks_s, 2),
        "encode_sentences_s": round(sentences_s, 2),
        "encoder_threads_chosen": threads_of(encoder),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=SQUAD)
    parser.add_argument("--limit", type=int, help="only the first N documents")
    parser.add_argument("--busy", action="store_true", help="keep one core busy in another process")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    args = parser.parse_args()
    if not args.corpus.is_file():
        parser.error(f"{args.corpus} does not exist (a BEIR-style corpus.jsonl, or a CSV with a text column)")

    stop = multiprocessing.Event()
    busy = multiprocessing.Process(target=spin, args=(stop,), daemon=True) if args.busy else None
    if busy is not None:
        busy.start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            corpus = corpus_copy(args.corpus, folder, args.limit)
            settings = Settings.load(None, data_dir=folder / "data")
            bot = Tandem(folder / "index", settings)
            bot.warm_up(generator=False)
            report, ingest_s = timed(bot.ingest, [corpus])
            _, again_s = timed(bot.ingest, [corpus])
            measured = stages(bot, corpus)
    finally:
        stop.set()
        if busy is not None:
            busy.join()
    parts = sum(v for k, v in measured.items() if k.endswith("_s"))
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "corpus": str(args.corpus),
        "busy_core": args.busy,
        "settings": {
            "encoder_backend": settings.encoder_backend,
            "encoder_threads": settings.encoder_threads,
            "ingest_encoder_threads": settings.ingest_encoder_threads,
            "sentence_vectors": settings.sentence_vectors,
            "corpus_guard": settings.corpus_guard,
            "encode_batch_size": settings.encode_batch_size,
        },
        "ingest_s": round(ingest_s, 2),
        "documents": report.documents,
        "chunks": report.chunks,
        "docs_per_s": round(report.documents / ingest_s, 1),
        "chunks_per_s": round(report.chunks / ingest_s, 1),
        "texts_embedded_per_s": round((measured["chunks"] + measured["sentences"]) / ingest_s, 1),
        "reingest_unchanged_s": round(again_s, 2),
        "reingest_share": round(again_s / ingest_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "stages": measured,
        "not_in_stages_s": round(ingest_s - parts, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "stages"}, indent=1))
    print("stages:", json.dumps(measured))


if __name__ == "__main__":
    main()
