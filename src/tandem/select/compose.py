"""From the selector's choice to what the answer is built from: quoted units, or evidence passages
for the decoder to write from.

The extractive answer is the best unit, with another unit of the same passage when the selector
rates it nearly as high, or else the sentence that follows the best one in the same paragraph when
both are short (a fact often spans two sentences: "If nobody is home, the driver leaves a card." is
followed by how long the depot keeps the bike); each citation carries the exact span (start/end in
the cited passage's text) it came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from tandem.answer import Citation
from tandem.retrieve.passage import Passage
from tandem.select.selector import ScoredUnit, Selection

SECOND_UNIT_RATIO = 0.8  # a second unit joins when its probability is at least this share of the best
CONTINUATION_CHARS = 320  # the best sentence and the one after it, together at most this long
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|^\s*#|\n\s*[-*|#]|\n\s*\d+[.)]\s", re.M)


def continuation(best: ScoredUnit, ranked: Sequence[ScoredUnit], passage_text: str) -> ScoredUnit | None:
    """The sentence right after `best` in the same paragraph, when both are sentences and short
    together; None otherwise (a new paragraph, heading or list starts, or nothing follows)."""
    if best.unit.kind != "sentence":
        return None
    after = [
        s
        for s in ranked
        if s.passage_index == best.passage_index
        and s.unit.kind == "sentence"
        and s.unit.start >= best.unit.end
    ]
    if not after:
        return None
    following = min(after, key=lambda s: s.unit.start)
    if _PARAGRAPH_BREAK.search(passage_text[best.unit.end : following.unit.start]):
        return None
    if len(best.unit.text) + len(following.unit.text) > CONTINUATION_CHARS:
        return None
    return following


def chosen_units(
    selection: Selection, limit: int, steps: bool = False, passage_texts: Sequence[str] = ()
) -> list[ScoredUnit]:
    """The best unit, then up to `limit - 1` more from the same passage that clear the threshold
    and SECOND_UNIT_RATIO of the best, none overlapping another; when none does and the passage
    texts are given, the best sentence's `continuation`; in reading order.

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
        following = continuation(best, selection.ranked, passage_texts[best.passage_index])
        if following is not None:
            chosen.append(following)
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
