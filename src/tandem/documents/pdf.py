"""PDF loader: text per page, paragraphs as blocks, each block keeping its page number."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tandem.documents.models import Block, Document
from tandem.documents.text_utils import paragraph_spans
from tandem.errors import DocumentError

_LINE_BREAK_IN_SENTENCE = re.compile(r"(?<=[^.!?:\n])\n(?=[a-z0-9(])")


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
        pages = [page.extract_text() or "" for page in reader.pages]
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
