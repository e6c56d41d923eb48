"""From the selector's choice to what the answer is built from: quoted units, or evidence passages
for the decoder to write from.

The extractive answer is the best unit, with the next unit of the same passage when the selector
rates it nearly as high (a fact often spans two lines); each citation carries the exact span
(start/end in the cited passage's text) it came from.
"""

from __future__ import annotations

from dataclasses import replace

from tandem.answer import Citation
from tandem.retrieve.passage import Passage
from tandem.select.selector import ScoredUnit, Selection

SECOND_UNIT_RATIO = 0.8  # a second unit joins when its probability is at least this share of the best


def chosen_units(selection: Selection, limit: int, steps: bool = False) -> list[ScoredUnit]:
    """The best unit, then up to `limit - 1` more from the same passage that clear the threshold
    and SECOND_UNIT_RATIO of the best, none overlapping another; in reading order.

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
    return sorted(chosen, key=lambda s: s.unit.start)


def quoted_answer(units: list[ScoredUnit], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """The units as the answer text, one citation per unit with its span."""
    if not units:
        return "", []
    passage = passages[units[0].passage_index]
    sentences, citations = [], []
    for scored in units:
        text = scored.unit.text.rstrip()
        if text[-1:] not in ".!?":
            text += "."
        sentences.append(text)
        span = (scored.unit.start, scored.unit.end)
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
