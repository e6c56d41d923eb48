"""What ingestion needs of the files themselves: whether one can be read, its hash, progress bars."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def unreadable_entry(path: Path) -> str:
    """Why `path` cannot be ingested before it is even opened, or "" when it can be tried: a name
    that is not UTF-8 cannot be stored, and a named pipe, socket or device would block the read."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8; rename the file to ingest it"
    try:
        mode = path.stat().st_mode
    except OSError:
        return ""  # a broken link or a vanished file: reported when it is hashed
    if not stat.S_ISREG(mode):
        return "is not a regular file (a named pipe, socket or device); only files are ingested"
    return ""


def too_large(path: Path, max_bytes: int) -> str:
    """Why `path` is over the size limit (with the setting that raises it), or ""."""
    try:
        size = path.stat().st_size
    except OSError:
        return ""
    if size <= max_bytes:
        return ""
    return (
        f"is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (max_file_mb); "
        "split it, or raise max_file_mb (tandem.toml or TANDEM_MAX_FILE_MB)"
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def progress_bars(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:
        yield progress
