"""The corpus guard on ordinary public text: how many chunks does it flag that are not attacks?

    python bench/corpus_guard_text.py [--corpus ../shared/data/squad-dev/corpus.jsonl] [--limit N]
    python bench/corpus_guard_text.py --corpus DOCS_FOLDER --sample 500   # 500 of its files

Every document of a JSONL collection (default: the 2,067 SQuAD v1.1 dev paragraphs, CC BY-SA 4.0,
none of them an attack) is chunked as ingest chunks it and scanned by the corpus guard exactly as
ingest scans it (rules, then the injection classifier at its strict document threshold). Prints the
flag rate (target issue 20: at most 0.1% of chunks), the rules' and the classifier's share, the
scan's speed (with the prefilter, the default, or `--no-prefilter`: every pair classified), each
flagged chunk's finding, and the chunks whose best sentence comes closest to the threshold; writes
JSON (default bench/results/corpus_guard_text.json). The guard's recall on attacks is measured by
`bench/guard.py` (corpus section).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from tandem.documents.chunking import Chunker
from tandem.documents.loaders import discover, load_documents
from tandem.encode import load_encoder
from tandem.evaluate.runner import cpu_model
from tandem.guard.corpus_guard import CorpusGuard, sentence_pieces

ROOT = Path(__file__).resolve().parents[1]
SQUAD_CORPUS = ROOT.parent / "shared" / "data" / "squad-dev" / "corpus.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=SQUAD_CORPUS)
    parser.add_argument("--limit", type=int, default=0, help="only the first N documents")
    parser.add_argument("--sample", type=int, default=0, help="a folder: N of its files, drawn with seed 0")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "corpus_guard_text.json")
    parser.add_argument(
        "--no-prefilter", action="store_true", help="the classifier reads every sentence pair (as before)"
    )
    args = parser.parse_args()

    encoder = load_encoder("all-MiniLM-L6-v2", "onnx-int8", 1)
    chunker = Chunker(encoder)
    guard = CorpusGuard(encoder, prefilter=not args.no_prefilter)
    if args.corpus.is_dir():  # a folder of documents, found as `tandem ingest` finds them
        files = discover(args.corpus)
        if args.sample:
            files = sorted(random.Random(0).sample(files, min(args.sample, len(files))))
        documents = [d for path, doc_id in files for d in load_documents(path, doc_id)]
    else:
        documents = load_documents(args.corpus, args.corpus.name)
    if args.limit:
        documents = documents[: args.limit]
    chunks = [(c.chunk_id, c.text) for d in documents for c in chunker.chunk(d)]
    started = time.perf_counter()
    findings = guard.scan_chunks(chunks)
    seconds = time.perf_counter() - started
    flagged = sorted({cid for cid, _ in findings})
    by_kind: dict[str, int] = {}
    for _, finding in findings:
        by_kind[finding.guard] = by_kind.get(finding.guard, 0) + 1
    assert guard.classifier is not None
    text_of = dict(chunks)
    closest = []
    for cid, text in chunks:
        scores = guard.classifier.score_pieces(sentence_pieces(text))
        if len(scores):
            closest.append((float(scores.max()), cid))
    closest.sort(reverse=True)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": cpu_model(),
        "corpus": str(args.corpus),
        "documents": len(documents),
        "chunks": len(chunks),
        "flagged_chunks": len(flagged),
        "flag_rate": round(len(flagged) / max(len(chunks), 1), 5),
        "findings_by_source": by_kind,
        "threshold": guard.threshold,
        "prefilter": guard.prefilter,
        "scan_seconds": round(seconds, 1),
        "chunks_per_second": round(len(chunks) / seconds, 1),
        "flagged": [
            {"chunk_id": cid, "finding": f.to_dict(), "text": text_of[cid][:300]} for cid, f in findings
        ],
        "closest_to_threshold": [
            {"chunk_id": cid, "best_sentence_probability": round(score, 4)} for score, cid in closest[:10]
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    rate = 100 * len(flagged) / max(len(chunks), 1)
    print(
        f"{len(chunks)} chunks of {len(documents)} documents: {len(flagged)} flagged ({rate:.2f}%, "
        f"target <= 0.10%), by {by_kind}; threshold {guard.threshold:.3f}; "
        f"{result['chunks_per_second']} chunks/s"
    )
    for item in result["flagged"]:
        print(f"  {item['chunk_id']}: {item['finding']['detail'][:150]}")
    print(
        "closest to the threshold:",
        ", ".join(
            f"{c['chunk_id']} {c['best_sentence_probability']}" for c in result["closest_to_threshold"][:5]
        ),
    )


if __name__ == "__main__":
    main()
