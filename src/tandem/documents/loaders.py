"""Find the loader for a file by its extension and discover files under a folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tandem.documents.html import load_html
from tandem.documents.markdown import load_markdown, load_plain_text
from tandem.documents.models import Document
from tandem.documents.pdf import load_pdf
from tandem.documents.tables import load_faq_csv, load_jsonl
from tandem.errors import DocumentError

Loader = Callable[[Path, str], list[Document]]
PARSERS_VERSION = 3  # raise when a loader reads the same file into other text (a re-ingest re-reads all)

LOADERS: dict[str, Loader] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_plain_text,
    ".text": load_plain_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".csv": load_faq_csv,
    ".jsonl": load_jsonl,
}


def supported_extensions() -> str:
    return ", ".join(sorted(LOADERS))


def loader_for(path: Path) -> Loader:
    """The loader for `path`, or a DocumentError naming the supported types."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentError(
            str(path),
            f"unsupported file type '{path.suffix or '(none)'}' (supported: {supported_extensions()})",
        )
    return loader


def load_documents(path: Path, doc_id: str) -> list[Document]:
    """Parse one file into documents (one per file, or one per line of a JSONL collection)."""
    if not path.is_file():
        reason = "is a broken link" if path.is_symlink() else "is not a regular file"
        raise DocumentError(str(path), f"{reason}; nothing to read")
    return loader_for(path)(path, doc_id)


def discover(root: Path) -> list[tuple[Path, str]]:
    """Every file under `root` (hidden files and folders skipped) as (path, id relative to root).
    Linked folders are followed, each real folder once (a link back up cannot loop)."""
    if root.is_file():
        return [(root, root.name)]
    found: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for folder, folders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            folders.clear()
            continue
        seen.add(real)
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        base = Path(folder)
        for name in files:
            if not name.startswith("."):
                path = base / name
                found.append((path, path.relative_to(root).as_posix()))
    return sorted(found, key=lambda item: Path(item[1]).parts)
