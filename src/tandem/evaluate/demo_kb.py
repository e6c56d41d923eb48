"""Where the bundled demo knowledge base lives, and its sample questions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tandem.encode.onnx_export import cache_root
from tandem.errors import TandemError


def demo_kb_root() -> Path:
    """The demo folder: packaged in the wheel, or `examples/demo-kb` of a source checkout."""
    here = Path(__file__).resolve().parents[1]  # the tandem package
    for candidate in (here / "demo_kb", here.parents[1] / "examples" / "demo-kb"):
        if (candidate / "docs").is_dir():
            return candidate
    raise TandemError("the demo knowledge base is missing from this installation; reinstall tandem")


def demo_index_dir() -> Path:
    """One demo index per demo folder, so two checkouts never mix their documents."""
    digest = hashlib.sha256(str(demo_kb_root()).encode()).hexdigest()[:10]
    return cache_root() / f"demo-index-{digest}"


def demo_questions() -> list[dict]:
    path = demo_kb_root() / "questions.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
