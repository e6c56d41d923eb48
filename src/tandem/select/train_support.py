"""Support-style training data for the evidence selector: MicrosoftDocs how-to, FAQ and table pages
(CC BY 4.0; the repository's `data/selector/README.md`, made by `scripts/build_support_pairs.py`).

Each record is a question, the section that answers it (with the answering span) and other sections
of the same page.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

from tandem.encode import Encoder
from tandem.select.features import feature_matrix
from tandem.select.train import Candidate, FeatureBuilder, corpus_idf, negative_candidate
from tandem.select.units import Unit


def section_context(title: str, heading: str) -> str:
    parts = [p for p in [title, *heading.split(" > ")] if p]
    return " > ".join(dict.fromkeys(parts))


def inside_positive(units: list[Unit], start: int, end: int) -> list[bool]:
    """Units that lie inside the answering span and cover at least half of it (a list and not its
    single items; a short FAQ answer whole); the first unit inside when none covers half."""
    inside = [start <= u.start and u.end <= end for u in units]
    covering = [i and (u.end - u.start) >= 0.5 * (end - start) for i, u in zip(inside, units, strict=True)]
    if any(covering):
        return covering
    first = next((k for k, flag in enumerate(inside) if flag), None)
    return [k == first for k in range(len(units))]


def is_support_development(doc: str) -> bool:
    """Every fifth article (by a stable hash of its path) is development data."""
    return zlib.crc32(doc.encode()) % 5 == 0


def support_candidates(
    path: Path, encoder: Encoder, development: bool, with_removed: bool = True
) -> list[Candidate]:
    """Each question over its section and two other sections of its article (units inside the
    answer are positive), and over the section with the answer cut out (all negative)."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [r for r in records if is_support_development(r["doc"]) == development]
    sections = [(r["section"], section_context(r["title"], r["heading"])) for r in records]
    for r in records:
        sections += [(n["section"], section_context(r["title"], n["heading"])) for n in r["negatives"]]
    idf, vocabulary = corpus_idf([text for text, _ in dict.fromkeys(sections)])
    builder = FeatureBuilder(encoder, idf, vocabulary)
    builder.prepare(list(dict.fromkeys(sections)))
    questions = encoder.encode([r["question"] for r in records], batch_size=128)
    out = []
    for r, vector in zip(records, questions, strict=True):
        gold = (r["section"], section_context(r["title"], r["heading"]))
        others = [(n["section"], section_context(r["title"], n["heading"])) for n in r["negatives"]]
        texts = [f"{c}\n{t}" for t, c in [gold, *others]]
        scores = encoder.encode(texts) @ vector
        passages = sorted(
            [(t, c, float(s)) for (t, c), s in zip([gold, *others], scores, strict=True)], key=lambda p: -p[2]
        )
        rows, where = builder.rows(r["question"], vector, passages)
        start = r["section"].index(r["positive"])
        end = start + len(r["positive"])
        gold_index = [p[:2] for p in passages].index(gold)
        gold_units = [u for u, p, _ in where if p == gold_index]
        hits = dict(zip(map(id, gold_units), inside_positive(gold_units, start, end), strict=True))
        labels = np.array([p == gold_index and hits.get(id(u), False) for u, p, _ in where], np.float32)
        if not labels.any():
            continue
        out.append(
            Candidate(r["question"], feature_matrix(rows), labels, "answerable", [u for u, _, _ in where])
        )
        if with_removed:
            cut = (r["section"][:start] + r["section"][end:]).strip()
            if not cut:
                continue
            passages[gold_index] = (cut, gold[1], passages[gold_index][2])
            rows, where = builder.rows(r["question"], vector, passages)
            out.append(negative_candidate(r["question"], rows, where, "removed"))
    return out
