"""The support judge behind citation precision/recall, and its agreement with human labels.

It is the output guard's own test (`tandem.verify.support.SupportJudge` with the verifier's
thresholds), so the evaluation and the guard agree on what "supported" means: a sentence is
supported when its support score reaches `min_support`, its share of content words found in the
passage reaches `min_lexical_support`, and every number it states appears in the passage.

>>> judge = CitationJudge.from_settings(encoder, settings)  # doctest: +SKIP
>>> judge.supports("Refunds take 5 days.", "We refund within 5 business days.")  # doctest: +SKIP
(True, 0.74)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tandem.config import Settings
from tandem.encode import Encoder
from tandem.errors import InputError
from tandem.evaluate.metrics import binary_scores
from tandem.verify.support import SupportJudge

LABELS_RESOURCE = "support_labels.jsonl"


def default_labels_path() -> Path:
    """The hand-labelled sentence/passage pairs shipped with Tandem (built from the demo KB)."""
    return Path(str(resources.files("tandem.evaluate") / "data" / LABELS_RESOURCE))


@dataclass(frozen=True)
class Verdict:
    supported: bool
    score: float
    lexical: float
    numbers_ok: bool


class CitationJudge:
    """Does a passage (or several, concatenated) support a sentence?"""

    def __init__(
        self,
        encoder: Encoder,
        min_support: float = 0.5,
        min_lexical_support: float = 0.0,
        semantic_weight: float = 0.5,
    ) -> None:
        if not 0.0 <= min_lexical_support <= 1.0:
            raise ValueError(
                f"min_lexical_support must be between 0 and 1. Currently it is {min_lexical_support}"
            )
        self.encoder = encoder
        self.min_support = min_support
        self.min_lexical_support = min_lexical_support
        self._judge = SupportJudge(encoder, semantic_weight)
        self._cache: dict[tuple[str, tuple[str, ...]], Verdict] = {}

    @classmethod
    def from_settings(
        cls, encoder: Encoder, settings: Settings, min_support: float | None = None
    ) -> CitationJudge:
        """The verifier's thresholds (`min_support`, `min_lexical_support`), or a stricter support bar."""
        support = settings.min_support if min_support is None else min_support
        return cls(encoder, support, settings.min_lexical_support)

    def verdict(self, sentence: str, passages: str | Sequence[str]) -> Verdict:
        """The judge's call; several passages are judged as one text, joined by newlines."""
        texts = (passages,) if isinstance(passages, str) else tuple(passages)
        key = (sentence, texts)
        if key not in self._cache:
            support = self._judge.judge([sentence], ["\n".join(texts)])[0][0]
            supported = (
                support.score >= self.min_support
                and support.lexical >= self.min_lexical_support
                and support.numbers_ok
            )
            self._cache[key] = Verdict(
                supported, round(support.score, 4), support.lexical, support.numbers_ok
            )
        return self._cache[key]

    def supports(self, sentence: str, passages: str | Sequence[str]) -> tuple[bool, float]:
        """(supported, support score) for a sentence against a passage or passages."""
        verdict = self.verdict(sentence, passages)
        return verdict.supported, verdict.score

    def entails(self, sentence: str, passages: Sequence[str]) -> bool:
        """The `Entails` callable that `metrics.alce_citation_scores` expects."""
        return self.verdict(sentence, passages).supported

    def describe(self) -> dict:
        return {
            "name": "tandem.verify.support.SupportJudge",
            "encoder": f"{self.encoder.model_id} ({self.encoder.backend})",
            "min_support": self.min_support,
            "min_lexical_support": self.min_lexical_support,
            "numbers_must_appear": True,
        }


@dataclass(frozen=True)
class LabelledPair:
    id: str
    sentence: str
    passage: str
    supported: bool
    kind: str
    source: str


def load_labels(path: Path | None = None) -> list[LabelledPair]:
    """Hand-labelled (sentence, passage, supported?) pairs; the shipped set by default."""
    path = path or default_labels_path()
    if not path.is_file():
        raise InputError(f"label file {path} does not exist")
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label = row["label"]
            if label not in ("supported", "unsupported"):
                raise ValueError(f"label must be supported or unsupported, not {label!r}")
            pairs.append(
                LabelledPair(
                    str(row.get("id", f"line-{number}")),
                    row["sentence"],
                    row["passage"],
                    label == "supported",
                    row.get("kind", ""),
                    row.get("source", ""),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{path} line {number}: {exc}; each line needs sentence, passage and label"
            ) from None
    return pairs


def agreement(judge: CitationJudge, pairs: Sequence[LabelledPair]) -> dict:
    """How often the judge agrees with the labels: accuracy, precision/recall of "supported",
    Cohen's kappa; plus the best single support threshold on these pairs, for reference."""
    verdicts = [judge.verdict(p.sentence, p.passage) for p in pairs]
    scores = binary_scores([p.supported for p in pairs], [v.supported for v in verdicts])
    by_kind: dict[str, dict[str, int]] = {}
    for pair, verdict in zip(pairs, verdicts, strict=True):
        entry = by_kind.setdefault(pair.kind or "unlabelled", {"n": 0, "agree": 0})
        entry["n"] += 1
        entry["agree"] += verdict.supported == pair.supported
    best = max(
        (
            (binary_scores(
                [p.supported for p in pairs],
                [v.score >= t and v.numbers_ok for v in verdicts],
            )["accuracy"] or 0.0, t)
            for t in [round(0.3 + 0.01 * i, 2) for i in range(51)]
        ),
    )  # fmt: skip
    return {
        "pairs": len(pairs),
        "supported_labels": sum(p.supported for p in pairs),
        "judge": judge.describe(),
        **scores,
        "by_kind": by_kind,
        "best_threshold_on_these_pairs": {"min_support": best[1], "accuracy": best[0]},
        "disagreements": [
            {
                "id": p.id,
                "label": "supported" if p.supported else "unsupported",
                "score": v.score,
                "kind": p.kind,
                "sentence": p.sentence,
            }
            for p, v in zip(pairs, verdicts, strict=True)
            if v.supported != p.supported
        ],
    }
