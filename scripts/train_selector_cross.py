"""Train the evidence selector's cross-encoder (second stage) and its combiner with the first stage.

    python scripts/train_selector_cross.py [--questions 2500] [--combiner-questions 800]
                                           [--epochs 2] [--budget-s 1200] [--threads 2]

Writes `src/tandem/select/data/cross_adapter/` (LoRA on the bundled encoder's upper layers) and
`src/tandem/select/data/cross_head.npz` (head, combiner, threshold, data counts and figures).

Data, public only: SQuAD v1.1 dev (`../shared/data/squad-dev/dev-v1.1.json`, CC BY-SA 4.0), only
the articles at positions i % 3 != 2 (the 16 with i % 3 == 2 are kept for `bench/squad_answers.py`
and never read here), every fifth of those for development; and the support-style MicrosoftDocs
pairs (`data/selector/`, CC BY 4.0; every fifth article by hash for development). The training
questions are split in two disjoint parts: `--questions` train the adapter (pairs: the answering
unit, hard negatives from its own and a neighbouring paragraph, the answering unit asked about
another name); `--combiner-questions` fit the two weights that combine its logit with the first
stage's (`selector.npz`), over the units the first stage ranks best for each question, its
answer-removed, name-swapped and off-topic variants, exactly as serving will see them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from train_selector import SQUAD, SUPPORT_PAIRS, add_passage_score_option  # scripts/ is on the path

from tandem.encode import Encoder, load_encoder
from tandem.encode.classifier_head import EncoderClassifier
from tandem.encode.model_files import BUNDLED_ENCODER, resolve_encoder
from tandem.route.lora import TimeBudget, fit_lora, seed_everything
from tandem.route.train import TrainOptions
from tandem.select.cross import ADAPTER_DIR, HEAD_FILE, MAX_TOKENS, CrossHead, CrossScorer
from tandem.select.cross_train import (
    Pairs,
    best_per_candidate,
    combiner_rows,
    fit_combiner,
    squad_pairs,
    support_pairs,
)
from tandem.select.model import SelectorModel
from tandem.select.train import (
    FeatureBuilder,
    choose_threshold,
    corpus_idf,
    is_development_article,
    is_training_article,
    load_squad,
    squad_candidates,
    stored_threshold,
    summary,
)


def progress(stage: str, step: int, total: int) -> None:
    if step == total or step % 20 == 0:
        print(f"\r  {stage}: {step}/{total}", end="\n" if step == total else "", file=sys.stderr, flush=True)


def train_adapter(
    args: argparse.Namespace, train: Pairs, validation: Pairs
) -> tuple[EncoderClassifier, list]:
    seed_everything(args.seed)
    model = EncoderClassifier(resolve_encoder(BUNDLED_ENCODER), 2, args.threads, max_tokens=MAX_TOKENS)
    options = TrainOptions(
        epochs=args.epochs,
        batch_size=32,
        lora_rank=args.rank,
        frozen_layers=args.frozen_layers,
        label_smoothing=0.0,
        learning_rate=args.learning_rate,
        time_budget_s=args.budget_s,
        threads=args.threads,
        seed=args.seed,
    )
    budget = TimeBudget(time.perf_counter() + args.budget_s, 30.0, 0)
    history = fit_lora(
        model,
        train.texts,
        np.array(train.labels, np.int64),
        validation.texts,
        np.array(validation.labels, np.int64),
        options,
        progress,
        budget,
    )
    return model, history


def combiner_candidates(encoder: Encoder, corpus, chosen: list[int]) -> list:
    """First-stage candidates (all variants) of `chosen` questions, with their units."""
    idf, vocabulary = corpus_idf(corpus.texts)
    builder = FeatureBuilder(encoder, idf, vocabulary)
    paragraphs = encoder.encode([f"{t}\n{x}" for t, x in zip(corpus.titles, corpus.texts, strict=True)])
    questions = encoder.encode([q.question for q in corpus.questions])
    needed = sorted({corpus.questions[i].paragraph for i in chosen})
    builder.prepare([(corpus.texts[p], corpus.titles[p]) for p in needed])
    return list(squad_candidates(corpus, builder, paragraphs, questions, chosen, with_removed=True))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SQUAD)
    parser.add_argument("--support", type=Path, default=SUPPORT_PAIRS)
    parser.add_argument("--questions", type=int, default=2500, help="SQuAD questions for the adapter")
    parser.add_argument("--combiner-questions", type=int, default=800)
    parser.add_argument("--dev-questions", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--frozen-layers", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--budget-s", type=float, default=1200.0, help="time budget of the LoRA training")
    parser.add_argument("--max-answerable-abstained", type=float, default=0.10)
    parser.add_argument("--threshold", type=float, help="store this threshold instead of the chosen one")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--adapter-out", type=Path, default=ADAPTER_DIR)
    parser.add_argument("--head-out", type=Path, default=HEAD_FILE)
    add_passage_score_option(parser)
    args = parser.parse_args()
    FeatureBuilder.own_passage_scores = args.passage_score == "own"
    if not args.data.is_file():
        sys.exit(f"error: {args.data} not found; the SQuAD dev file is in ../shared/data/squad-dev")
    started = time.perf_counter()

    train = load_squad(args.data, lambda i: is_training_article(i) and not is_development_article(i))
    dev = load_squad(args.data, is_development_article)
    order = list(range(len(train.questions)))
    random.Random(args.seed).shuffle(order)
    adapter_questions = sorted(order[: args.questions])
    combiner_questions = sorted(order[args.questions : args.questions + args.combiner_questions])
    dev_order = list(range(len(dev.questions)))
    random.Random(args.seed + 1).shuffle(dev_order)
    dev_questions = sorted(dev_order[: args.dev_questions])

    pairs = squad_pairs(train, adapter_questions, args.seed)
    pairs.extend(support_pairs(args.support, development=False, seed=args.seed))
    validation = squad_pairs(dev, dev_questions, args.seed)
    validation.extend(support_pairs(args.support, development=True, seed=args.seed))
    counts = {s: pairs.sources.count(s) for s in sorted(set(pairs.sources))}
    print(f"pairs: {len(pairs.texts)} train {counts}, {len(validation.texts)} validation", file=sys.stderr)

    model, history = train_adapter(args, pairs, validation)
    print(f"adapter trained: {history}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "adapter"
        model.save_adapter(folder)
        for extra in folder.iterdir():
            if extra.name not in ("adapter_model.safetensors", "adapter_config.json"):
                extra.unlink()
        config = json.loads((folder / "adapter_config.json").read_text())
        config["base_model_name_or_path"] = resolve_encoder(BUNDLED_ENCODER).model_id  # no local path
        (folder / "adapter_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        weight = model.head.weight.detach().float().numpy()
        bias = model.head.bias.detach().float().numpy()
        adapter_sha = hashlib.sha256((folder / "adapter_model.safetensors").read_bytes()).hexdigest()
        provisional = CrossHead(
            weight, bias, np.array([1.0, 0.0, 0.0], np.float32), 0.5, {"adapter_sha256": adapter_sha}
        )
        scorer = CrossScorer(provisional, folder, args.threads)

        first_stage = SelectorModel.load()
        encoder = load_encoder(BUNDLED_ENCODER, "onnx-int8", args.threads)  # as serving computes features
        print("combiner: first-stage candidates...", file=sys.stderr)
        fit_rows = combiner_rows(
            combiner_candidates(encoder, train, combiner_questions), first_stage, scorer.logits
        )
        combine = fit_combiner(fit_rows)
        print("development: first-stage candidates...", file=sys.stderr)
        dev_rows = combiner_rows(combiner_candidates(encoder, dev, dev_questions), first_stage, scorer.logits)

        def combined(r) -> float:
            return float(
                CrossHead(weight, bias, combine, 0.5).combined(np.array([r.first]), np.array([r.cross]))[0]
            )

        scores = list(best_per_candidate(dev_rows, combined))
        threshold = choose_threshold(scores, args.max_answerable_abstained)
        before = list(best_per_candidate(dev_rows, lambda r: r.first))
        figures = {
            "first_stage": summary(before, choose_threshold(before, args.max_answerable_abstained)),
            "combined": summary(scores, threshold),
        }
        print(f"development (SQuAD dev articles): {figures}", file=sys.stderr)
        info = {
            "data": {
                "squad": "SQuAD v1.1 dev (CC BY-SA 4.0), articles i % 3 != 2; "
                "development = every fifth of them",
                "support": "MicrosoftDocs how-to, FAQ and table pairs (CC BY 4.0, data/selector/README.md)",
            },
            "pairs": counts,
            "validation_pairs": len(validation.texts),
            "adapter_questions": len(adapter_questions),
            "combiner_questions": len(combiner_questions),
            "history": history,
            "development": figures,
            "first_stage": first_stage.version,
            "encoder": resolve_encoder(BUNDLED_ENCODER).model_id,
            "rank": args.rank,
            "passage_score": args.passage_score,
            "frozen_layers": args.frozen_layers,
            "adapter_sha256": adapter_sha,
            "seconds": round(time.perf_counter() - started, 1),
            "date": time.strftime("%Y-%m-%d"),
        }
        threshold = stored_threshold(info, threshold, args.threshold)
        head = CrossHead(weight, bias, combine, threshold, info)
        if args.adapter_out.exists():
            shutil.rmtree(args.adapter_out)
        shutil.copytree(folder, args.adapter_out)
        head.save(args.head_out)
    print(f"wrote {args.adapter_out} and {args.head_out}: combine {combine}, threshold {threshold:.3f}, "
          f"{info['seconds']} s in all")  # fmt: skip


if __name__ == "__main__":
    main()
