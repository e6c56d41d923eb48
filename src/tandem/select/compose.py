"""From the selector's choice to what the answer is built from: quoted units, or evidence passages
for the decoder to write from.

The extractive answer is the best unit, with another unit of the same passage when the selector
rates it nearly as high, or else with its neighbours in the same section (a fact often spans
sentences); each citation carries the exact span (start/end in the cited passage's text) it came
from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from tandem.answer import Citation
from tandem.documents.text_utils import FAQ_QUESTION
from tandem.index.lexical import content_terms
from tandem.retrieve.passage import Passage
from tandem.select.features import MEASURED_TYPES, lacks_measure
from tandem.select.selector import ScoredUnit, Selection

SECOND_UNIT_RATIO = 0.8  # a second unit joins when its probability is at least this share of the best
WINDOW_CHARS = 500  # the best unit and its neighbours in the section, together at most this long
WINDOW_KINDS = ("sentence", "list", "faq", "spec", "row")  # not a list's single items (inside its list)
_SECTION_BREAK = re.compile(r"^\s*#|^\s*\|", re.M)  # a heading or a table between two units
_VERDICT = re.compile(r"(?:yes|no)[.!,;]\s*", re.I)  # "No. We..." not "No one..."; matched at a position
SAME_QUESTION = 0.5  # content-word overlap at which a question is an FAQ's own (`asks_the_faqs_question`)


def section_window(
    best: ScoredUnit, ranked: Sequence[ScoredUnit], passage_text: str, limit: int
) -> list[ScoredUnit]:
    """`best` with its neighbours in the same section (same passage and context, no heading or
    table between): the unit after it, the one before, the second one after, while there are at
    most `limit` units and WINDOW_CHARS characters. A fact often spans sentences ("If nobody is
    home, the driver leaves a card." is followed by how long the depot keeps the bike), and the
    sentence before often names what the best one is about."""
    same = {
        (s.unit.start, s.unit.end): s
        for s in ranked
        if s.passage_index == best.passage_index
        and s.unit.context == best.unit.context
        and s.unit.kind in WINDOW_KINDS
        and (s.unit.end <= best.unit.start or s.unit.start >= best.unit.end)
    }
    after = _up_to_a_question(
        sorted((s for s in same.values() if s.unit.start >= best.unit.end), key=lambda s: s.unit.start)
    )
    before = _up_to_a_question(
        sorted((s for s in same.values() if s.unit.end <= best.unit.start), key=lambda s: -s.unit.end)
    )
    order = [after[:1], before[:1], after[1:2]]
    chosen, size = [best], len(best.unit.text)
    for candidate in (c for group in order for c in group):
        if len(chosen) >= limit or size + len(candidate.unit.text) > WINDOW_CHARS:
            break
        low, high = sorted((candidate.unit, best.unit), key=lambda u: u.start)
        if _SECTION_BREAK.search(passage_text[low.end : high.start]):
            continue
        if any(candidate.unit.start < c.unit.end and c.unit.start < candidate.unit.end for c in chosen):
            continue
        chosen.append(candidate)
        size += len(candidate.unit.text)
    return chosen


def _up_to_a_question(units: list[ScoredUnit]) -> list[ScoredUnit]:
    """`units` (going away from the best one) up to the first that asks a question: in a page that
    is a heading ("Which chargers are affected?", a PDF's section title), and past it lies another
    section."""
    end = next((i for i, s in enumerate(units) if s.unit.text.rstrip().endswith("?")), len(units))
    return units[:end]


def chosen_units(
    selection: Selection, limit: int, steps: bool = False, passage_texts: Sequence[str] = ()
) -> list[ScoredUnit]:
    """The best unit, then up to `limit - 1` more from the same passage that clear the threshold
    and SECOND_UNIT_RATIO of the best, none overlapping another; when none does and the passage
    texts are given, the best unit's `section_window`; in reading order.

    For a how-to question (`steps`), a whole list that scores nearly as high as the best unit is
    chosen instead: the steps are the answer, not the one sentence that sounds most like it.
    """
    best = selection.best
    if best is None:
        return []
    if steps and best.unit.kind != "list":
        floor = max(selection.threshold, SECOND_UNIT_RATIO * best.probability)
        listed = next((s for s in selection.ranked if s.unit.kind == "list" and s.probability >= floor), None)
        if listed is not None:
            return [listed]
    chosen = [best]
    for scored in selection.ranked[1:]:
        if len(chosen) >= limit:
            break
        if scored.passage_index != best.passage_index:
            continue
        if scored.probability < max(selection.threshold, SECOND_UNIT_RATIO * best.probability):
            break
        if any(scored.unit.start < c.unit.end and c.unit.start < scored.unit.end for c in chosen):
            continue
        chosen.append(scored)
    if len(chosen) == 1 < limit and best.passage_index < len(passage_texts):
        chosen = section_window(best, selection.ranked, passage_texts[best.passage_index], limit)
    return sorted(chosen, key=lambda s: s.unit.start)


def line_with_the_measure(chosen: list[ScoredUnit], selection: Selection, qtype: str) -> list[ScoredUnit]:
    """For a question asking for a measure (a price, a weight...), the one line of a chosen list
    that states it instead of the whole list ("Price: EUR 1,690 including VAT." for "How much does
    the Fold F1 cost?", not the eleven specifications); `chosen` unchanged when it is not one list,
    or when none or several of its lines state such a measure (the answer may need them all)."""
    if qtype not in MEASURED_TYPES or len(chosen) != 1 or chosen[0].unit.kind != "list":
        return chosen
    whole = chosen[0]
    lines = [
        s
        for s in selection.ranked
        if s.passage_index == whole.passage_index
        and s.unit.kind in ("spec", "item", "row")
        and whole.unit.start <= s.unit.start < s.unit.end <= whole.unit.end
        and not lacks_measure(qtype, s.unit.text)
    ]
    distinct = {(s.unit.start, s.unit.end): s for s in lines}
    return list(distinct.values()) if len(distinct) == 1 else chosen


def asks_the_faqs_question(question: str, faq_question: str) -> bool:
    """Whether `question` is an FAQ's own question in about the same words (their content words
    overlap by at least SAME_QUESTION, as a share of both together)."""
    asked, written = set(content_terms(question)), set(content_terms(faq_question))
    return bool(asked and written) and len(asked & written) / len(asked | written) >= SAME_QUESTION


def _without_verdict(scored: ScoredUnit, passage: Passage, question: str) -> tuple[str, int] | None:
    """The unit's text and start without the "Yes."/"No." that opens an FAQ answer, when the
    question asked is not the FAQ's own: that word answers the FAQ's question, and quoted for
    another it can say the opposite of the truth ("Do you ship to Ireland?" answered from "Do you
    ship outside Europe?": "No. We deliver to all EU countries..."). None: drop the unit (it was
    only the verdict); the text unchanged when it has none or the question is the FAQ's."""
    text, start = scored.unit.text.rstrip(), scored.unit.start
    faq_question = scored.unit.context.rsplit(" > ", 1)[-1]
    if not passage.chunk.text.startswith(FAQ_QUESTION) or asks_the_faqs_question(question, faq_question):
        return text, start
    verdict = _VERDICT.match(text)
    if verdict is None:
        return text, start
    rest = text[verdict.end() :]
    if not rest:
        return None
    in_source = _VERDICT.match(passage.chunk.text, start)
    return rest[0].upper() + rest[1:], in_source.end() if in_source else start


def quoted_answer(
    units: list[ScoredUnit], passages: list[Passage], question: str = ""
) -> tuple[str, list[Citation]]:
    """The units as the answer text, one citation per unit with its span; `question` (when given)
    decides whether an FAQ answer's opening "Yes."/"No." is quoted (`_without_verdict`)."""
    if not units:
        return "", []
    passage = passages[units[0].passage_index]
    quoted = [
        (s, _without_verdict(s, passage, question) if question else (s.unit.text.rstrip(), s.unit.start))
        for s in units
    ]
    kept = [(s, q) for s, q in quoted if q is not None] or [
        (s, (s.unit.text.rstrip(), s.unit.start)) for s in units
    ]
    sentences, citations = [], []
    for scored, (text, start) in kept:
        if text[-1:] not in ".!?":
            text += "."
        sentences.append(text)
        span = (start, scored.unit.end)
        evidence = passage.chunk.text[span[0] : span[1]]
        citations.append(Citation.of(1, passage, text, scored.probability, evidence, span))
    return " ".join(sentences) + " [1]", citations


def evidence_passages(units: list[ScoredUnit], passages: list[Passage]) -> list[Passage]:
    """The passages of the chosen units, each cut down to those units: all the decoder is shown."""
    grouped: dict[int, list[ScoredUnit]] = {}
    for scored in units:
        grouped.setdefault(scored.passage_index, []).append(scored)
    cut = []
    for index, group in grouped.items():
        passage = passages[index]
        text = "\n".join(s.unit.text for s in sorted(group, key=lambda s: s.unit.start))
        cut.append(replace(passage, chunk=replace(passage.chunk, text=text)))
    return cut
