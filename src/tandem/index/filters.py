"""Search filters: a small value type that the CLI, the API and the index share (no NumPy)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SearchFilters:
    """Restrict search to documents whose id or source matches a glob, and/or carrying a tag."""

    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.sources or self.tags or self.doc_ids)
