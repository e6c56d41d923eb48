"""PDF loader: text per page, paragraphs as blocks, each block keeping its page number."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tandem.documents.models import Block, Document
from tandem.documents.text_utils import paragraph_spans
from tandem.errors import DocumentError

_LINE_BREAK_IN_SENTENCE = re.compile(r"(?<=[^.!?:\n])\n(?=[a-z0-9(])")
_PAGE_NUMBER = re.compile(  # "7", "- 7 -", "Page 2 of 9", "Limited Warranty - page 3"; not "see page 3."
    r"^\W*\d{1,4}\W*$|(?:^|[-\u2013\u2014|\u2022\u00b7]\s*)page\s+\d{1,4}(?:\s+of\s+\d{1,4})?\s*$", re.I
)
EDGE_LINES = 2  # lines at the top and at the bottom of a page where headers and footers sit


def without_page_furniture(pages: list[str]) -> list[str]:
    """Each page's text without its running header and footer: a line among the first or last
    EDGE_LINES of a page that ends in a page number ("Pedalwise B.V. - Limited Warranty - page 3",
    "7", "Page 2 of 9"), or that recurs on at least half the pages (two at least): word for word at
    the top, up to a trailing number at the bottom. Quoted in an answer, a footer reads as part of it."""
    lines = [page.split("\n") for page in pages]

    def filled(page: list[str]) -> list[int]:
        return [i for i, line in enumerate(page) if line.strip()]

    def top(page: list[str]) -> list[int]:
        return filled(page)[:EDGE_LINES]

    def bottom(page: list[str]) -> list[int]:
        return filled(page)[-EDGE_LINES:]

    def footer_key(line: str) -> str:
        return re.sub(r"\d+\W*$", "#", line.strip())

    tops = Counter(line for page in lines for line in {page[i].strip() for i in top(page)})
    bottoms = Counter(key for page in lines for key in {footer_key(page[i]) for i in bottom(page)})
    enough = max(2, (sum(1 for page in pages if page.strip()) + 1) // 2)
    out = []
    for page in lines:
        drop = {i for i in top(page) if tops[page[i].strip()] >= enough}
        drop |= {i for i in bottom(page) if bottoms[footer_key(page[i])] >= enough}
        drop |= {i for i in top(page) + bottom(page) if _PAGE_NUMBER.search(page[i])}
        out.append("\n".join(line for i, line in enumerate(page) if i not in drop))
    return out


def load_pdf(path: Path, doc_id: str) -> list[Document]:
    """Extract text page by page; a page without text (a scan) contributes nothing."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        if path.stat().st_size == 0:
            raise DocumentError(str(path), "is empty")
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise DocumentError(str(path), "is encrypted; decrypt it before ingesting")
        pages = without_page_furniture([page.extract_text() or "" for page in reader.pages])
        metadata: Mapping[str, Any] = reader.metadata or {}
        title = str(metadata.get("/Title") or "").strip()
    except DocumentError:
        raise
    except PermissionError:
        raise DocumentError(str(path), "cannot be read: permission denied") from None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(str(path), f"is not a readable PDF ({exc})") from None

    parts: list[str] = []
    blocks: list[Block] = []
    length = 0
    for number, raw in enumerate(pages, start=1):
        page_text = _LINE_BREAK_IN_SENTENCE.sub(" ", raw.replace("\r", "")).strip()
        if not page_text:
            continue
        if parts:
            length += 2
        blocks.extend(Block(s, e, page=number) for s, e in paragraph_spans(page_text, length))
        parts.append(page_text)
        length += len(page_text)
    if not blocks:
        raise DocumentError(str(path), "has no extractable text (a scanned PDF? run OCR on it first)")
    text = "\n\n".join(parts)
    if not title:
        first_line = text[: text.find("\n")] if "\n" in text else text
        title = first_line.strip() if len(first_line) <= 80 else path.stem
    return [Document(doc_id, str(path), title, text, blocks, kind="pdf")]
