"""Batch search: a JSONL file of queries in, a TREC run (or JSONL) out, ranked by document."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from tandem.errors import InputError
from tandem.index.filters import SearchFilters


def read_queries(path: Path) -> list[tuple[str, str]]:
    """(id, text) pairs from JSONL lines with `_id` (or `id`) and `text` (or `query`)."""
    if not path.is_file():
        raise InputError(f"{path}: queries file does not exist")
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            ident = str(record.get("_id", record.get("id")))
            text = record.get("text", record.get("query"))
        except (json.JSONDecodeError, AttributeError):
            raise InputError(f"{path}: line {number} is not a JSON object") from None
        if ident == "None" or not isinstance(text, str):
            raise InputError(f"{path}: line {number} needs '_id' and 'text'")
        pairs.append((ident, text))
    return pairs


def document_ranking(bot, query: str, k: int, filters, mode) -> list[tuple[str, float]]:
    """Documents ranked by their best chunk's fused score."""
    best: dict[str, float] = {}
    for passage in bot.retriever().search(query, k * 5, filters, mode).passages:
        best.setdefault(passage.chunk.doc_id, passage.score)
    return sorted(best.items(), key=lambda item: -item[1])[:k]


def run_queries(
    bot,
    path: Path,
    k: int,
    output_format: str,
    filters: SearchFilters | None,
    mode: str | None,
    out: TextIO = sys.stdout,
) -> None:
    if output_format not in ("trec", "jsonl"):
        raise InputError(f"--format must be trec or jsonl, not {output_format!r}")
    tag = f"tandem-{mode or bot.settings.search_mode}"
    for ident, text in read_queries(path):
        if not text.strip():
            continue
        ranking = document_ranking(bot, text, k, filters, mode)
        if output_format == "trec":
            for rank, (doc_id, score) in enumerate(ranking, start=1):
                out.write(f"{ident} Q0 {doc_id} {rank} {score:.6f} {tag}\n")
        else:
            out.write(
                json.dumps({"_id": ident, "results": [{"doc_id": d, "score": s} for d, s in ranking]}) + "\n"
            )
