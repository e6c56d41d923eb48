"""Stores the vectors of every chunk's evidence units with a new index version, at ingest, so no
question waits for them: cold, a question's five passages took 200-960 ms to embed. The ingest
calls `UnitVectorStep` before it publishes the version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from tandem.encode import Encoder
from tandem.index.unit_vectors import UnitVectorWriter, encoder_label
from tandem.select.unit_embedding import embed_alone
from tandem.select.units import passage_units, texts_to_embed

WRITE_EVERY = 256  # texts embedded between writes


@dataclass(frozen=True)
class UnitVectorCount:
    copied: int  # from the previous version
    embedded: int


def unit_texts(passages: Iterable[tuple[str, str]]) -> list[str]:
    """Every distinct text the selector embeds (`texts_to_embed`) for these (chunk text, context
    line) passages."""
    texts: dict[str, None] = {}
    for text, context in passages:
        texts.update(dict.fromkeys(texts_to_embed(passage_units(text, context))[0]))
    return list(texts)


def store_unit_vectors(
    folder: Path,
    previous: Path | None,
    passages: Iterable[tuple[str, str]],
    encoder: Encoder,
    progress: Progress | None = None,
) -> UnitVectorCount:
    """Write `folder`/units.sqlite for the version's `passages` ((chunk text, context line)): vectors
    the `previous` version folder stored are copied, the rest embedded alone (a progress bar counts
    them)."""
    writer = UnitVectorWriter(folder, encoder_label(encoder.model_id, encoder.backend))
    try:
        texts = unit_texts(passages)
        copied = writer.copy_known(previous, texts)
        missing = [t for t in texts if t not in copied]
        task = progress.add_task("Unit vectors", total=len(missing)) if progress and missing else None
        advance = (lambda n: progress.advance(task, n)) if progress and task is not None else None
        for start in range(0, len(missing), WRITE_EVERY):
            block = missing[start : start + WRITE_EVERY]
            writer.add(block, embed_alone(encoder, block, advance))
        writer.finish()
    except BaseException:
        writer.discard()
        raise
    return UnitVectorCount(len(copied), len(missing))


class UnitVectorStep:
    """What the ingest calls before publishing a version: its unit vectors, with `encoder`."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def __call__(
        self,
        folder: Path,
        previous: Path | None,
        passages: Iterable[tuple[str, str]],
        progress: Progress | None = None,
    ) -> int:
        """Store the version's unit vectors; how many texts were embedded (the rest were copied)."""
        return store_unit_vectors(folder, previous, passages, self.encoder, progress).embedded
