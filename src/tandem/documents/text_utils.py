"""Helpers shared by loaders: decoding bytes and splitting text into paragraph spans."""

from __future__ import annotations

import re
from pathlib import Path

from tandem.errors import DocumentError

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# A sentence ends at . ! or ? before a capital or digit, or at a line break; never right after a
# numbered-list marker at the start of a line ("1. Open the app" stays one piece).
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!^\d\.)(?<!\n\d\.)(?<!^\d\d\.)(?<!\n\d\d\.)[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n+"
)


FAQ_QUESTION, FAQ_ANSWER = "Q: ", "A: "  # how FAQ pairs are laid out in a chunk
LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\(?\d{1,2}[.)])\s+")
EMPHASIS = re.compile(r"\*\*|__|`")
# Lone UTF-16 surrogates (JSON "\ud800", or bytes that are not UTF-8 on a command line) and NUL:
# no encoder, database or UTF-8 writer accepts them.
_UNENCODABLE = re.compile("[\ud800-\udfff\x00]")


def readable(piece: str) -> str:
    """A passage piece as prose: its list marker and Markdown emphasis removed."""
    return EMPHASIS.sub("", LIST_ITEM.sub("", piece, count=1)).strip()


def read_text(path: Path) -> str:
    """Read a text file as UTF-8, with errors that say what is wrong and how to fix it."""
    try:
        data = path.read_bytes()
    except PermissionError:
        raise DocumentError(str(path), "cannot be read: permission denied") from None
    except OSError as exc:
        raise DocumentError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    if not data.strip():
        raise DocumentError(str(path), "is empty")
    if b"\x00" in data[:8192]:
        raise DocumentError(str(path), "looks like a binary file, not text (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            str(path),
            f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. `iconv -f latin1 -t utf-8`",
        ) from None


def paragraph_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each non-blank paragraph in `text`, shifted by `offset`, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[position:end]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            start = position + lead
            spans.append((offset + start, offset + start + len(stripped)))
        if match:
            position = match.end()
    return spans


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence (or line) in `text`, shifted by `offset`."""
    spans, position = [], 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[position:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((offset + position + lead, offset + end - (len(piece) - len(piece.rstrip()))))
        if match:
            position = match.end()
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def encodable(text: str) -> str:
    r"""`text` with lone surrogates and NUL characters replaced by U+FFFD, so that it can be
    tokenised, stored and written as UTF-8.

    >>> encodable("refund \udcff policy") == "refund \ufffd policy"
    True
    """
    return _UNENCODABLE.sub("\ufffd", text) if _UNENCODABLE.search(text) else text
