"""Unit texts embedded the same way at ingest and at question time: alone, rounded to float16.

The int8 encoder scales its activations per batch, so a text embedded beside others gets a vector
that depends on them (on the demo units, cosine down to 0.93 against the same text embedded beside
its own passage's units). Embedded alone, a text always gets the same vector, which can therefore
be computed once at ingest and stored (`index.unit_vectors`); rounding to float16, how it is
stored, makes a vector computed at question time equal to the stored one. Alone is also no slower
on this encoder: 3.9 ms a text with 2 threads, 6.0 with 1, against about 7 ms a text in one batch
per passage (2 vCPUs, demo units).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tandem.encode import Encoder
from tandem.index.unit_vectors import StoredUnitVectors, encoder_label


def round_to_stored(vectors: np.ndarray) -> np.ndarray:
    """`vectors` at the precision they are stored in (float16), as float32."""
    return np.asarray(vectors, np.float32).astype(np.float16).astype(np.float32)


def embed_alone(
    encoder: Encoder, texts: Sequence[str], done: Callable[[int], None] | None = None
) -> np.ndarray:
    """Each text embedded in a call of its own, at stored precision; `done(n)` after each."""
    if not texts:
        return np.zeros((0, encoder.dimension), np.float32)
    rows = []
    for text in texts:
        rows.append(encoder.encode([text])[0])
        if done is not None:
            done(1)
    return round_to_stored(np.stack(rows))


def usable(stored: StoredUnitVectors | None, encoder: Encoder) -> StoredUnitVectors | None:
    """`stored` when `encoder` made its vectors (same model and backend), else None."""
    if stored is None or stored.encoder != encoder_label(encoder.model_id, encoder.backend):
        return None
    return stored


def unit_vectors(
    encoder: Encoder, texts: Sequence[str], stored: StoredUnitVectors | None = None
) -> np.ndarray:
    """The vector of each unit text: read from `stored` (an index version's units.sqlite made by
    this encoder) where it is there, embedded alone where not."""
    checked = usable(stored, encoder)
    found = checked.get(texts) if checked is not None else {}
    missing = [i for i in range(len(texts)) if i not in found]
    computed = embed_alone(encoder, [texts[i] for i in missing])
    out = np.empty((len(texts), encoder.dimension), np.float32)
    for row, i in enumerate(missing):
        out[i] = computed[row]
    for i, vector in found.items():
        out[i] = vector
    return out
