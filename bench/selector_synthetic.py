"""Questions written from an index's own units, by templates (used by `selector_adapt.py`).

Each `SyntheticQuestion` names the unit that answers it (its passage and span), or none: asking for
a product's spec that another product's page has but this one's does not is the on-topic
unanswerable case, the one a support assistant most often gets wrong. The templates are plain on
purpose (an FAQ's own question, "What is the weight of the Cargo K3?", "How long ... ?" over a
sentence that states a duration): the corpus's own passages, units and retrieval behind them.

>>> from tandem.select.units import Unit
>>> spec = Unit("Weight: 36.5 kg", 40, 55, "spec", "Cargo K3 > Key specifications")
>>> spec_question(spec, random.Random(0))
'What is the weight of the Cargo K3?'
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tandem.select.features import ANSWER_TYPES, MEASURED_TYPES
from tandem.select.units import Unit

_STOP = frozenset(
    (
        "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "for", "with", "by",
        "from", "as", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these",
        "those", "you", "your", "we", "our", "us", "i", "my", "me", "can", "will", "would", "should",
        "may", "must", "do", "does", "did", "has", "have", "had", "not", "no", "so", "than", "then",
        "there", "their", "they", "them", "also", "only", "just", "about", "into", "out", "up", "over",
        "any", "all", "each", "every",
    )
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+'-]*|\d+(?:[.,]\d+)?")
_WH = {
    "price": "How much is",
    "weight": "How heavy is",
    "distance": "How far is",
    "duration": "How long is",
    "date": "When is",
    "number": "How many",
}
_SPEC_TEMPLATES = (
    "What is the {key} of the {entity}?",
    "What's the {key} on the {entity}?",
    "{entity}: what is its {key}?",
)


@dataclass(frozen=True)
class SyntheticQuestion:
    """A question and where its answer is: (chunk id, start, end) in that chunk's text, or None."""

    question: str
    chunk_id: str
    answer: tuple[int, int] | None  # the answering unit's span in the chunk; None: nothing answers
    kind: str  # the template family: faq, spec, sibling, row, steps, measure


def _entity(context: str) -> str:
    return context.split(" > ")[0].strip()


def _content_words(text: str, drop: str = "") -> list[str]:
    cut = text.replace(drop, " ") if drop else text
    return [w for w in _WORD.findall(cut) if w.lower() not in _STOP]


def spec_question(unit: Unit, rng: random.Random, entity: str | None = None) -> str:
    """A question asking for a spec line's value ("Weight: 36.5 kg") of `entity` (default: the
    unit's own product, the first part of its context)."""
    key = unit.text.split(":", 1)[0].strip().lower()
    template = rng.choice(_SPEC_TEMPLATES)
    return template.format(key=key, entity=entity or _entity(unit.context))


def faq_question(unit: Unit) -> str | None:
    """An FAQ answer's own question (the last part of its context)."""
    question = unit.context.split(" > ")[-1].strip()
    return question if question.endswith("?") else None


def row_question(unit: Unit, rng: random.Random) -> str | None:
    """A table row ('Model: C2; Range: 90 km'): another column's value for the row's first cell."""
    pairs = [p.split(": ", 1) for p in unit.text.split("; ") if ": " in p]
    if len(pairs) < 2:
        return None
    header, cell = rng.choice(pairs[1:])
    del cell
    return f"What is the {header.lower()} for {pairs[0][1]}?"


def steps_question(unit: Unit) -> str | None:
    """A list whose lead-in says what it is for ("To reset your password:"): how to do that."""
    lead = unit.text.split(":", 1)[0].strip() if ":" in unit.text else ""
    if lead.lower().startswith("to ") and 2 <= len(lead.split()) <= 14:
        task = re.sub(r"\byour\b", "my", lead[3:], flags=re.I)
        return f"How do I {task}?"
    return None


def measure_question(unit: Unit, rng: random.Random) -> str | None:
    """A sentence stating a measure (a price, a duration...): the question for it, made of the
    sentence's other content words (some dropped, as a customer would not repeat them all)."""
    for qtype in MEASURED_TYPES:
        found = ANSWER_TYPES[qtype][1].search(unit.text)
        if found is None or (qtype == "number" and not any(c.isdigit() for c in found.group(0))):
            continue
        words = _content_words(unit.text, found.group(0))
        words = [w for w in words if not any(c.isdigit() for c in w)]
        kept = [w for w in words if rng.random() < 0.7][:8]
        if len(kept) < 2:
            return None
        topic = _entity(unit.context)
        lead = f"{topic}: " if topic and rng.random() < 0.5 else ""
        return f"{lead}{_WH[qtype]} {' '.join(kept).lower()}?"
    return None


def questions_for(
    chunks: Sequence[tuple[str, list[Unit]]], rng: random.Random, entities: Sequence[str] = ()
) -> list[SyntheticQuestion]:
    """Questions over every chunk's units ((chunk id, units)); `entities`, the names of products
    with pages of their own (titles), make the sibling questions: a spec asked of a product whose
    page lists other specs but not this one (unanswerable), or lists it too (answerable there)."""
    out: list[SyntheticQuestion] = []
    specs: dict[str, dict[str, tuple[str, Unit]]] = {}
    for chunk_id, units in chunks:
        for unit in units:
            question: str | None = None
            kind = unit.kind
            if unit.kind == "faq":
                question = faq_question(unit)
            elif unit.kind == "spec":
                entity = _entity(unit.context)
                key = unit.text.split(":", 1)[0].strip().lower()
                if entity in entities:
                    specs.setdefault(entity, {}).setdefault(key, (chunk_id, unit))
                question = spec_question(unit, rng)
            elif unit.kind == "row":
                question = row_question(unit, rng)
            elif unit.kind == "list":
                question, kind = steps_question(unit), "steps"
            else:
                question, kind = measure_question(unit, rng), "measure"
            if question:
                out.append(SyntheticQuestion(question, chunk_id, (unit.start, unit.end), kind))
    out.extend(_sibling_questions(specs, rng))
    return out


def _sibling_questions(
    specs: dict[str, dict[str, tuple[str, Unit]]], rng: random.Random
) -> list[SyntheticQuestion]:
    """Each product's spec keys asked of one other product: answered by its own line, or by none."""
    out = []
    names = sorted(specs)
    for entity in names:
        others = [n for n in names if n != entity]
        if not others:
            continue
        for key, (_, unit) in sorted(specs[entity].items()):
            other = rng.choice(others)
            question = spec_question(unit, rng, entity=other)
            if key in specs[other]:
                chunk_id, answering = specs[other][key]
                out.append(SyntheticQuestion(question, chunk_id, (answering.start, answering.end), "sibling"))
            else:
                out.append(SyntheticQuestion(question, "", None, "sibling"))
    return out
