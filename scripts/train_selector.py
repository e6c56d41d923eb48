"""Train the evidence selector and write `src/tandem/select/data/selector.npz`.

    python scripts/train_selector.py [--sources squad support] [--questions 4000] [--hidden 0 32]
                                     [--threads 2] [--features-cache DIR] [--out PATH]

Data: support-style pairs from MicrosoftDocs how-to, FAQ and table pages (`data/selector/`, CC BY
4.0, made by `scripts/build_support_pairs.py`; every fifth article by hash is development data), and
SQuAD v1.1 dev (`../shared/data/squad-dev/dev-v1.1.json`, CC BY-SA 4.0), only the articles
at positions i with i % 3 != 2 (file order); the 16 articles with i % 3 == 2 are kept for
evaluation (`bench/squad_answers.py`) and never read here. Of the training articles, every fifth
(by position among them) is a development split: it picks the model (logistic regression or a
small network) and the abstention threshold, the highest that abstains on at most
--max-answerable-abstained of its answerable questions.

Each SQuAD question is asked of its paragraph and of the two closest paragraphs of its article;
once more with the answer sentence removed from its paragraph (on topic, unanswerable); every third
one about another name of its article ("When did Edison..." for "When did Tesla...": the same
topic, another entity); and every third one of the closest paragraphs of other articles (off
topic). Each support question is asked of its section and two other sections of its page, and of
its section with the answer cut out. Features are
computed exactly as serving computes them, with the served encoder (int8 ONNX). Prints the
development figures and stores them, the data counts and the encoder id in the model file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from tandem.encode import load_encoder
from tandem.encode.model_files import BUNDLED_ENCODER, resolve_encoder
from tandem.select.model import MODEL_FILE, SelectorModel
from tandem.select.train import (
    Candidate,
    FeatureBuilder,
    choose_threshold,
    corpus_idf,
    fit,
    is_development_article,
    is_training_article,
    load_squad,
    question_scores,
    sample_questions,
    squad_candidates,
    stored_threshold,
    summary,
)
from tandem.select.train_support import support_candidates

ROOT = Path(__file__).resolve().parents[1]
SUPPORT_PAIRS = ROOT / "data" / "selector" / "support_pairs.jsonl"
SQUAD = ROOT.parent / "shared" / "data" / "squad-dev" / "dev-v1.1.json"


def squad_parts(args: argparse.Namespace) -> dict[str, list[Candidate]]:
    """Feature rows of the sampled training and development questions (the slow part: embedding)."""
    train = load_squad(args.data, lambda i: is_training_article(i) and not is_development_article(i))
    dev = load_squad(args.data, is_development_article)
    encoder = load_encoder(BUNDLED_ENCODER, "onnx-int8", args.threads)
    idf, vocabulary = corpus_idf(train.texts + dev.texts)
    builder = FeatureBuilder(encoder, idf, vocabulary)
    parts = {}
    for name, corpus, n in (("train", train, args.questions), ("dev", dev, args.dev_questions)):
        chosen = sample_questions(corpus, n, args.seed)
        print(
            f"{name}: {len(set(corpus.articles))} articles, {len(corpus.texts)} paragraphs, "
            f"{len(chosen)} questions; embedding...",
            file=sys.stderr,
        )
        paragraphs = encoder.encode([f"{t}\n{x}" for t, x in zip(corpus.titles, corpus.texts, strict=True)])
        questions = encoder.encode([q.question for q in corpus.questions])
        builder.prepare(list(zip(corpus.texts, corpus.titles, strict=True)))
        parts[name] = list(
            squad_candidates(corpus, builder, paragraphs, questions, chosen, with_removed=True)
        )
    return parts


def save_candidates(parts: dict[str, list[Candidate]], path: Path) -> None:
    arrays = {}
    for name, cands in parts.items():
        arrays[f"{name}_features"] = np.concatenate([c.features for c in cands])
        arrays[f"{name}_labels"] = np.concatenate([c.labels for c in cands])
        arrays[f"{name}_sizes"] = np.array([len(c.labels) for c in cands])
        arrays[f"{name}_groups"] = np.array([c.group for c in cands], dtype=np.str_)
    np.savez(path, **arrays)


def load_candidates(path: Path) -> dict[str, list[Candidate]]:
    with np.load(path, allow_pickle=False) as data:
        parts = {}
        for name in ("train", "dev"):
            bounds = np.cumsum([0, *data[f"{name}_sizes"]])
            features, labels = data[f"{name}_features"], data[f"{name}_labels"]
            parts[name] = [
                Candidate("", features[a:b], labels[a:b], str(group))
                for a, b, group in zip(bounds[:-1], bounds[1:], data[f"{name}_groups"], strict=True)
            ]
    return parts


def add_passage_score_option(parser: argparse.ArgumentParser) -> None:
    """--passage-score (shared with train_selector_cross.py): which retrieval score each unit's
    `passage_score` feature holds while training (`FeatureBuilder.own_passage_scores`)."""
    parser.add_argument(
        "--passage-score",
        choices=("own", "question"),
        default="own",
        help="each unit's passage-score feature: its own passage's retrieval score (how the shipped "
        "weights were fitted, the default) or the question's best, as serving reads it",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SQUAD)
    parser.add_argument("--questions", type=int, default=4000, help="training questions sampled")
    parser.add_argument("--dev-questions", type=int, default=1000)
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[0],
        help="hidden units per model to compare; 0 = logistic regression",
    )
    parser.add_argument("--max-answerable-abstained", type=float, default=0.08)
    parser.add_argument(
        "--threshold",
        type=float,
        help="store this abstention threshold instead of the one chosen on the development data "
        "(e.g. from `bench/answer.py --selector-curve dev` on your own questions' development split)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    parser.add_argument(
        "--sources",
        nargs="+",
        choices=("squad", "support"),
        default=["squad", "support"],
        help="training data",
    )
    parser.add_argument("--support", type=Path, default=SUPPORT_PAIRS, help="support-style pairs (JSONL)")
    parser.add_argument(
        "--features-cache",
        type=Path,
        help="a folder to keep each source's feature rows in, and reuse them from",
    )
    add_passage_score_option(parser)
    args = parser.parse_args()
    FeatureBuilder.own_passage_scores = args.passage_score == "own"
    if not args.data.is_file():
        sys.exit(f"error: {args.data} not found; the SQuAD dev file is in ../shared/data/squad-dev")

    started = time.perf_counter()
    parts: dict[str, list[Candidate]] = {"train": [], "dev": []}
    cache = args.features_cache
    by_source: dict[str, dict[str, list[Candidate]]] = {}
    for source in args.sources:
        cached = cache / f"{source}-{args.passage_score}.npz" if cache else None
        if cached is not None and cached.is_file():
            by_source[source] = load_candidates(cached)
            continue
        if source == "squad":
            by_source[source] = squad_parts(args)
        else:
            print("support pairs: embedding...", file=sys.stderr)
            encoder = load_encoder(BUNDLED_ENCODER, "onnx-int8", args.threads)
            by_source[source] = {
                "train": support_candidates(args.support, encoder, development=False),
                "dev": support_candidates(args.support, encoder, development=True),
            }
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            save_candidates(by_source[source], cached)
    parts = {split: [c for source in by_source.values() for c in source[split]] for split in ("train", "dev")}
    prepared_s = time.perf_counter() - started
    print(f"features ready in {prepared_s:.0f} s", file=sys.stderr)

    best = None
    results = {}
    for hidden in args.hidden:
        layers = fit(parts["train"], hidden, args.seed)
        probe = SelectorModel(layers, 0.5)
        scores = question_scores(probe, parts["dev"])
        threshold = choose_threshold(scores, args.max_answerable_abstained)
        figures = summary(scores, threshold)
        per_source = {
            name: summary(question_scores(probe, source["dev"]), threshold)
            for name, source in by_source.items()
        }
        results[f"hidden={hidden}"] = {"threshold": round(threshold, 4), **figures, "by_source": per_source}
        print(f"hidden={hidden}: {results[f'hidden={hidden}']}", file=sys.stderr)
        abstained = (
            figures["removed_abstained"] + figures["swapped_abstained"] + figures["off_topic_abstained"]
        )
        key = (figures["answered_and_right"] + abstained / 3, -hidden)
        if best is None or key > best[0]:
            best = (key, hidden, layers, threshold, figures)
    assert best is not None
    _, hidden, layers, threshold, figures = best
    counts = {
        name: {
            "questions": sum(c.group == "answerable" for c in cands),
            "answer_removed": sum(c.group == "removed" for c in cands),
            "off_topic": sum(c.group == "off_topic" for c in cands),
            "name_swapped": sum(c.group == "swapped" for c in cands),
            "unit_rows": int(sum(len(c.labels) for c in cands)),
            "positive_rows": int(sum(c.labels.sum() for c in cands)),
        }
        for name, cands in parts.items()
    }
    info = {
        "data": {
            "squad": "SQuAD v1.1 dev (CC BY-SA 4.0), articles i % 3 != 2; development = every fifth of them",
            "support": "MicrosoftDocs how-to, FAQ and table pairs (CC BY 4.0, data/selector/README.md); "
            "development = every fifth article by hash",
        },
        "sources": args.sources,
        "counts": counts,
        "hidden": hidden,
        "development": figures,
        "compared": results,
        "encoder": resolve_encoder(BUNDLED_ENCODER).model_id,
        "encoder_backend": "onnx-int8",
        "passage_score": args.passage_score,
        "max_answerable_abstained": args.max_answerable_abstained,
        "seconds": round(time.perf_counter() - started, 1),
        "date": time.strftime("%Y-%m-%d"),
    }
    threshold = stored_threshold(info, threshold, args.threshold)
    model = SelectorModel(layers, threshold, info=info)
    model.save(args.out)
    print(f"wrote {args.out} ({model.version}): hidden={hidden}, threshold {threshold:.3f}, "
          f"development {figures}, {info['seconds']} s in all")  # fmt: skip
    np.set_printoptions(precision=3, suppress=True)


if __name__ == "__main__":
    main()
