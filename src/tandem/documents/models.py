"""The data that flows through ingestion: Document -> Block -> Chunk."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """A structural unit of a document (a paragraph, list, FAQ pair or page part).

    `start`/`end` are character offsets into `Document.text`.
    """

    start: int
    end: int
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    standalone: bool = False  # True when the block must become a chunk of its own (FAQ pairs)


@dataclass
class Document:
    """A parsed document: its full text plus the structure found in it."""

    doc_id: str
    source: str
    title: str
    text: str
    blocks: list[Block]
    kind: str
    tags: tuple[str, ...] = ()

    def block_text(self, block: Block) -> str:
        return self.text[block.start : block.end]


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a span of one document with its provenance."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    text: str
    heading_path: tuple[str, ...]
    page: int | None
    start: int
    end: int
    n_tokens: int
    tags: tuple[str, ...] = field(default=())

    @property
    def context_line(self) -> str:
        """Title and heading path, as shown above the passage and prefixed when embedding."""
        parts = [self.title, *self.heading_path]
        seen: list[str] = []
        for part in parts:
            if part and part not in seen:
                seen.append(part)
        return " > ".join(seen)

    def indexed_text(self) -> str:
        """What the encoder and the lexical index see: context line, then the passage.

        Headings the passage already starts with (an FAQ pair's question) are not repeated, so
        their words are not counted twice.
        """
        opening = self.text[:300]
        parts = [p for p in self.context_line.split(" > ") if p and p not in opening]
        context = " > ".join(parts)
        return f"{context}\n{self.text}" if context else self.text
