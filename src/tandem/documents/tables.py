"""FAQ tables (CSV or JSONL question/answer pairs) and JSONL document collections (BEIR layout)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from tandem.documents.models import Block, Document
from tandem.documents.text_utils import paragraph_spans, read_text
from tandem.errors import DocumentError

QUESTION_KEYS = ("question", "questions", "q", "query", "prompt")
ANSWER_KEYS = ("answer", "answers", "a", "response")


def _pick(keys: list[str], wanted: tuple[str, ...]) -> str | None:
    lowered = {k.strip().lower(): k for k in keys}
    return next((lowered[w] for w in wanted if w in lowered), None)


def _faq_document(path: Path, doc_id: str, pairs: list[tuple[str, str]]) -> Document:
    parts: list[str] = []
    blocks: list[Block] = []
    length = 0
    for question, answer in pairs:
        if parts:
            length += 2
        text = f"Q: {question}\nA: {answer}"
        blocks.append(Block(length, length + len(text), (question,), standalone=True))
        parts.append(text)
        length += len(text)
    if not blocks:
        raise DocumentError(str(path), "has no question/answer rows with both fields filled")
    title = path.stem.replace("-", " ").replace("_", " ")
    return Document(doc_id, str(path), title, "\n\n".join(parts), blocks, kind="faq")


def load_faq_csv(path: Path, doc_id: str) -> list[Document]:
    """One block (and so one chunk) per question/answer row."""
    text = read_text(path)
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise DocumentError(str(path), f"is not valid CSV ({exc})") from None
    header = list(rows[0].keys()) if rows else []
    q_key, a_key = _pick(header, QUESTION_KEYS), _pick(header, ANSWER_KEYS)
    if not q_key or not a_key:
        raise DocumentError(
            str(path),
            f"needs 'question' and 'answer' columns (found: {', '.join(map(str, header)) or 'none'})",
        )
    pairs = [((row.get(q_key) or "").strip(), (row.get(a_key) or "").strip()) for row in rows]
    return [_faq_document(path, doc_id, [(q, a) for q, a in pairs if q and a])]


def _json_lines(path: Path, text: str) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DocumentError(str(path), f"line {number} is not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise DocumentError(str(path), f"line {number} is not a JSON object")
        yield number, record


def load_jsonl(path: Path, doc_id: str) -> list[Document]:
    """FAQ pairs (question/answer keys) or a collection (`_id`/`id`, optional `title`, `text`)."""
    records = list(_json_lines(path, read_text(path)))
    if not records:
        raise DocumentError(str(path), "has no JSON records")
    keys = list(records[0][1].keys())
    q_key, a_key = _pick(keys, QUESTION_KEYS), _pick(keys, ANSWER_KEYS)
    if q_key and a_key:
        pairs = [(str(r.get(q_key) or "").strip(), str(r.get(a_key) or "").strip()) for _, r in records]
        return [_faq_document(path, doc_id, [(q, a) for q, a in pairs if q and a])]
    documents: list[Document] = []
    seen: set[str] = set()
    for number, record in records:
        ident = record.get("_id", record.get("id"))
        text = record.get("text")
        if ident is None or not isinstance(text, str):
            raise DocumentError(
                str(path),
                f"line {number} needs an '_id' (or 'id') and a 'text' string, "
                "or 'question' and 'answer' for an FAQ",
            )
        ident = str(ident)
        if ident in seen:
            raise DocumentError(str(path), f"line {number} repeats the id {ident!r}")
        seen.add(ident)
        text = text.strip()
        if not text:
            continue
        title = str(record.get("title") or "").strip()
        tags = record.get("tags") or ()
        documents.append(
            Document(
                doc_id=ident,
                source=str(path),
                title=title,
                text=text,
                blocks=[Block(s, e) for s, e in paragraph_spans(text)],
                kind="jsonl",
                tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            )
        )
    if not documents:
        raise DocumentError(str(path), "has no records with non-empty text")
    return documents
