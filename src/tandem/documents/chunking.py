"""Structure-aware chunking: split on headings, pages and paragraphs, then fill a token budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tandem.documents.models import Block, Chunk, Document
from tandem.documents.text_utils import sentence_spans
from tandem.errors import ConfigError


class TokenCounter(Protocol):
    """Counts tokens as the encoder will see them and gives each token's character span."""

    def token_spans(self, texts: list[str]) -> list[list[tuple[int, int]]]: ...


TOKENIZE_BLOCKS = 256  # blocks whose token spans are held at once


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int


class Chunker:
    """Turns a Document into Chunks of at most `max_tokens` encoder tokens, with `overlap` tokens
    carried between consecutive chunks of the same section.

    >>> chunker = Chunker(counter, max_tokens=220, overlap=32)  # doctest: +SKIP
    >>> chunks = chunker.chunk(document)  # doctest: +SKIP
    """

    def __init__(self, counter: TokenCounter, max_tokens: int = 220, overlap: int = 32) -> None:
        if max_tokens < 16:
            raise ConfigError(f"chunk_tokens must be at least 16. Currently it is {max_tokens}.")
        if not 0 <= overlap < max_tokens // 2:
            raise ConfigError(
                f"chunk_overlap must be between 0 and half of chunk_tokens ({max_tokens // 2}). "
                f"Currently it is {overlap}."
            )
        self.counter = counter
        self.max_tokens = max_tokens
        self.overlap = overlap

    def chunk(self, document: Document) -> list[Chunk]:
        chunks: list[Chunk] = []
        for group in self._sections(document.blocks):
            units = self._units(document, group)
            for start, end, tokens in self._pack(units, group[0].standalone):
                chunks.append(
                    Chunk(
                        chunk_id=f"{document.doc_id}#{len(chunks)}",
                        doc_id=document.doc_id,
                        source=document.source,
                        title=document.title,
                        text=document.text[start:end],
                        heading_path=group[0].heading_path,
                        page=group[0].page,
                        start=start,
                        end=end,
                        n_tokens=tokens,
                        tags=document.tags,
                    )
                )
        return chunks

    @staticmethod
    def _sections(blocks: list[Block]) -> list[list[Block]]:
        """Consecutive blocks that share heading path and page; standalone blocks alone."""
        groups: list[list[Block]] = []
        for block in blocks:
            last = groups[-1][-1] if groups else None
            if (
                last is None
                or block.standalone
                or last.standalone
                or (block.heading_path, block.page) != (last.heading_path, last.page)
            ):
                groups.append([block])
            else:
                groups[-1].append(block)
        return groups

    def _units(self, document: Document, blocks: list[Block]) -> list[_Unit]:
        """Paragraphs that fit the budget; longer ones split into sentences, then token windows.
        Blocks are tokenized TOKENIZE_BLOCKS at a time: a 50 MB file with no headings is one section,
        and its token spans all at once would take gigabytes."""
        units: list[_Unit] = []
        for first in range(0, len(blocks), TOKENIZE_BLOCKS):
            units.extend(self._block_units(document, blocks[first : first + TOKENIZE_BLOCKS]))
        return units

    def _block_units(self, document: Document, blocks: list[Block]) -> list[_Unit]:
        texts = [document.block_text(b) for b in blocks]
        units: list[_Unit] = []
        for block, spans in zip(blocks, self.counter.token_spans(texts), strict=True):
            if len(spans) <= self.max_tokens:
                units.append(_Unit(block.start, block.end, max(len(spans), 1)))
                continue
            sentences = sentence_spans(document.block_text(block), block.start)
            pieces = [document.text[s:e] for s, e in sentences]
            for (s, e), token_spans in zip(sentences, self.counter.token_spans(pieces), strict=True):
                if len(token_spans) <= self.max_tokens:
                    units.append(_Unit(s, e, max(len(token_spans), 1)))
                    continue
                step = self.max_tokens - self.overlap
                for i in range(0, len(token_spans), step):
                    window = token_spans[i : i + self.max_tokens]
                    units.append(_Unit(s + window[0][0], s + window[-1][1], len(window)))
                    if i + self.max_tokens >= len(token_spans):
                        break
        return units

    def _pack(self, units: list[_Unit], standalone: bool) -> list[tuple[int, int, int]]:
        """Greedy packing of units into windows, carrying trailing units as overlap."""
        if standalone and len(units) == 1:
            return [(units[0].start, units[0].end, units[0].tokens)]
        windows: list[tuple[int, int, int]] = []
        current: list[_Unit] = []
        for unit in units:
            if current and sum(u.tokens for u in current) + unit.tokens > self.max_tokens:
                windows.append((current[0].start, current[-1].end, sum(u.tokens for u in current)))
                carried: list[_Unit] = []
                for previous in reversed(current):
                    if sum(u.tokens for u in carried) + previous.tokens > self.overlap:
                        break
                    carried.insert(0, previous)
                if carried and sum(u.tokens for u in carried) + unit.tokens > self.max_tokens:
                    carried = []
                current = carried
            current.append(unit)
        if current:
            windows.append((current[0].start, current[-1].end, sum(u.tokens for u in current)))
        return windows
