"""Chunks respect the token budget, keep exact offsets, structure and a small overlap."""

from __future__ import annotations

import itertools

from tandem.documents.chunking import Chunker
from tandem.documents.loaders import load_documents
from tandem.documents.models import Block, Document

from .conftest import DATA


def test_chunks_are_exact_spans_with_provenance(encoder) -> None:
    (doc,) = load_documents(DATA / "kb" / "refunds.md", "refunds.md")
    chunks = Chunker(encoder, max_tokens=64, overlap=8).chunk(doc)
    assert [c.heading_path for c in chunks] == [(), ("Refund timing",), ("Exceptions", "Custom paint")]
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.title == "Refunds and returns" and chunk.source.endswith("refunds.md")
    assert chunks[1].chunk_id == "refunds.md#1"
    assert chunks[1].indexed_text().startswith("Refunds and returns > Refund timing\n")


def test_long_sections_split_under_budget_with_overlap(encoder) -> None:
    sentences = [f"Sentence number {i} explains one more detail of the warranty terms." for i in range(60)]
    text = " ".join(sentences)
    doc = Document("long.md", "long.md", "Long", text, [Block(0, len(text), ("Terms",))], "markdown")
    chunks = Chunker(encoder, max_tokens=64, overlap=16).chunk(doc)
    assert len(chunks) > 5
    counts = encoder.token_spans([c.text for c in chunks])
    assert all(len(spans) <= 64 for spans in counts)
    for first, second in itertools.pairwise(chunks):
        assert second.start < first.end, "consecutive chunks should overlap"
        assert doc.text[second.start : second.end] == second.text
    assert chunks[-1].end == len(text)


def test_pdf_chunks_keep_page_numbers(encoder) -> None:
    (doc,) = load_documents(DATA / "kb" / "guides" / "battery-care.pdf", "battery-care.pdf")
    chunks = Chunker(encoder).chunk(doc)
    assert {c.page for c in chunks} == {1, 2}
