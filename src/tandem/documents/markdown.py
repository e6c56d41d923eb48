"""Markdown and plain-text loaders: paragraphs as blocks, headings as the heading path."""

from __future__ import annotations

import re
from pathlib import Path

from tandem.documents.models import Block, Document
from tandem.documents.text_utils import paragraph_spans, read_text

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    """Parse a simple `---` front-matter block of `key: value` lines; returns (fields, body offset)."""
    if not text.startswith("---\n"):
        return {}, 0
    end = text.find("\n---", 4)
    if end < 0:
        return {}, 0
    fields: dict[str, str] = {}
    for line in text[4:end].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip().strip("\"'")
    body = text.find("\n", end + 1)
    return fields, (body + 1 if body >= 0 else len(text))


def _tags(value: str) -> tuple[str, ...]:
    return tuple(t.strip().strip("\"'") for t in value.strip("[]").split(",") if t.strip())


def load_markdown(path: Path, doc_id: str) -> list[Document]:
    """Split on headings, then on blank lines; code fences stay whole."""
    text = read_text(path)
    fields, position = _front_matter(text)
    title = fields.get("title", "")
    headings: list[tuple[int, str]] = []
    blocks: list[Block] = []
    segment_start = position
    in_fence = False

    def flush(end: int) -> None:
        path_now = tuple(h for _, h in headings)
        for start, stop in paragraph_spans(text[segment_start:end], segment_start):
            blocks.append(Block(start, stop, path_now))

    offset = position
    for line in text[position:].splitlines(keepends=True):
        stripped = line.rstrip("\n")
        if _FENCE.match(stripped.strip()):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(stripped)
        if heading:
            flush(offset)
            level, name = len(heading.group(1)), heading.group(2).strip()
            if level == 1 and (not title or name == title):
                title = name
                headings.clear()
            else:
                headings[:] = [(lvl, h) for lvl, h in headings if lvl < level]
                headings.append((level, name))
            segment_start = offset + len(line)
        offset += len(line)
    flush(len(text))
    return [
        Document(
            doc_id=doc_id,
            source=str(path),
            title=title or path.stem.replace("-", " ").replace("_", " "),
            text=text,
            blocks=blocks,
            kind="markdown",
            tags=_tags(fields.get("tags", "")),
        )
    ]


def load_plain_text(path: Path, doc_id: str) -> list[Document]:
    """Paragraphs separated by blank lines; the first short line is taken as the title."""
    text = read_text(path)
    spans = paragraph_spans(text)
    first = text[spans[0][0] : spans[0][1]] if spans else ""
    title = first if spans and len(first) <= 80 and "\n" not in first else path.stem
    return [
        Document(
            doc_id=doc_id,
            source=str(path),
            title=title,
            text=text,
            blocks=[Block(s, e) for s, e in spans],
            kind="text",
        )
    ]
