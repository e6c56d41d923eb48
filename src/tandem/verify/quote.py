"""A quoted answer: the passage sentence closest to the question, cited, when it is close enough."""

from __future__ import annotations

from tandem.answer import Citation
from tandem.retrieve.passage import Passage


def closest_quote(
    closest: tuple[int, str, float], passages: list[Passage], min_similarity: float
) -> tuple[str, list[Citation]] | None:
    """The answer text and its citation for `closest` (`PreparedPassages.best_sentence`), or None
    when there is no sentence or its similarity to the question is under `min_similarity`."""
    index, sentence, similarity = closest
    if not sentence or similarity < min_similarity:
        return None
    return f"{sentence} [1]", [Citation.of(1, passages[index], sentence, similarity, sentence)]
