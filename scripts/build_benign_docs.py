"""Collect benign technical-documentation text for the injection classifier to train on.

    .venv/bin/python scripts/build_benign_docs.py [--mirrors /work/.mirror] [--per-source 700]
        [--out data/guard/benign_docs.jsonl]

Developer and admin manuals are full of imperatives addressed to "you" ("Replace the URL prefix",
"select + Add and choose Add role assignment"), which a classifier trained on support messages and
attacks can read as instructions to a model: the corpus guard quarantined 1.2% of the chunks of a
developer documentation set (issue 20). This script takes Markdown pages from pinned commits of
public documentation repositories (SOURCES; bare mirrors named `<mirrors>/<owner>+<name>/repo`, as
the session tool `fetch` or `git clone --mirror` makes them), chunks them as ingest does, and keeps
the sentence pairs the corpus guard would hand its classifier (`sentence_pieces`, then the
prefilter's `worth_scoring`): exactly the text the classifier must learn to leave alone.

Each row: {"text", "label": "benign", "source", "file"}. Pairs are deduplicated and sampled per
source with random.Random(0). Pages are assigned to a split by a hash of their path
(`split`: "train" for two thirds, "calibration" for the rest), so that the training script can set
its document threshold on pages it did not train on. Microsoft's Business Central documentation,
on which the flag rate is measured, is not a source. The output is deterministic for given commits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from build_outside_injection_sets import git_ls, git_show, mirror_dir

from tandem.documents.chunking import Chunker
from tandem.documents.loaders import load_documents
from tandem.encode import load_encoder
from tandem.guard.corpus_guard import sentence_pieces
from tandem.guard.prefilter import worth_scoring

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "guard" / "benign_docs.jsonl"
MIRRORS = Path("/work/.mirror")


@dataclass(frozen=True)
class Source:
    name: str
    repo: str  # owner/name on GitHub
    commit: str
    folder: str
    licence: str


SOURCES = (
    Source("prometheus", "prometheus/docs", "c105550aad07161f62d02e305ed09799ec6025fa", "docs", "Apache-2.0"),
    Source(
        "rust-book", "rust-lang/book", "917544888a55e4da7109bdba8c88c893c0da70f4", "src", "MIT OR Apache-2.0"
    ),
    Source(
        "hugo", "gohugoio/hugoDocs", "1c613349f4220ae84070df25979d720c43e5cfa6", "content/en", "Apache-2.0"
    ),
)


def split_of(path: str) -> str:
    return "calibration" if int(hashlib.sha256(path.encode()).hexdigest(), 16) % 3 == 0 else "train"


def source_rows(source: Source, mirrors: Path, chunker: Chunker) -> list[dict[str, str]]:
    """Every distinct prefiltered sentence pair of the source's Markdown pages."""
    mirror = mirror_dir(mirrors, source.repo)
    if not mirror.is_dir():
        raise SystemExit(f"no mirror at {mirror}: fetch github:{source.repo} first")
    names = [f"{source.folder}/{n}" for n in git_ls(mirror, source.commit, source.folder, recursive=True)]
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    with tempfile.TemporaryDirectory() as folder:
        for name in sorted(n for n in names if n.endswith(".md")):
            page = Path(folder) / "page.md"
            page.write_bytes(git_show(mirror, source.commit, name))
            for document in load_documents(page, name):
                for chunk in chunker.chunk(document):
                    for piece in sentence_pieces(chunk.text):
                        if worth_scoring(piece) and piece not in seen:
                            seen.add(piece)
                            row = {"text": piece, "label": "benign", "source": source.name, "file": name}
                            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--per-source", type=int, default=700)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    chunker = Chunker(load_encoder("all-MiniLM-L6-v2", "onnx-int8", 1))
    kept: list[dict[str, str]] = []
    for source in SOURCES:
        rows = source_rows(source, args.mirrors, chunker)
        picked = sorted(random.Random(0).sample(range(len(rows)), min(args.per_source, len(rows))))
        kept += [{**rows[i], "split": split_of(rows[i]["file"])} for i in picked]
        print(f"{source.name}: {len(rows)} pairs the classifier would read, {len(picked)} kept")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in kept), "utf-8")
    print(f"wrote {len(kept)} rows to {args.out}")


if __name__ == "__main__":
    main()
