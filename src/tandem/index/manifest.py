"""The manifest: what an index version was built with and from."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

FORMAT = 1


class EncoderInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_id: str
    dimension: int
    backend: str


class ChunkingInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_tokens: int
    overlap: int
    sentence_vectors: bool = False
    late_sentences: bool = False  # sentence vectors pooled from the chunk's pass (late chunking)
    # How documents were read into text; a change re-reads every file on the next ingest (no stale
    # chunks from an older parser). 1: before HTML list items kept their "- " / "1. " markers.
    parsers: int = 1

    @model_serializer(mode="wrap")
    def _omit_defaults(self, handler: SerializerFunctionWrapHandler) -> dict:
        """`late_sentences` and `parsers` are written only when not the default, so an index built
        without them stays readable by the versions before the fields (a rollback after an upgrade)."""
        data = handler(self)
        if not self.late_sentences:
            data.pop("late_sentences", None)
        if self.parsers == 1:
            data.pop("parsers", None)
        return data


class VectorsInfo(BaseModel):
    """Where a version's vectors live: .npy files beside the manifest, or Milvus collections."""

    model_config = ConfigDict(extra="forbid")
    backend: Literal["embedded", "milvus"] = "embedded"
    uri: str | None = None  # Milvus URI at build time; a Lite file in the index folder is relative
    collection: str | None = None
    sentence_collection: str | None = None
    index_id: str | None = None  # random, shared by the versions of one index: names its collections


class FileRecord(BaseModel):
    """One ingested source file: its content hash and the documents it produced."""

    model_config = ConfigDict(extra="forbid")
    sha256: str
    doc_ids: list[str]
    root: str
    kind: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: int = FORMAT
    version: int
    parent: int | None = None
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    tandem_version: str
    encoder: EncoderInfo
    chunking: ChunkingInfo
    vectors: VectorsInfo = Field(default_factory=VectorsInfo)
    files: dict[str, FileRecord] = Field(default_factory=dict)
    documents: int = 0
    chunks: int = 0

    def write(self, folder: Path) -> None:
        (folder / "manifest.json").write_text(self.model_dump_json(indent=2))

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        return cls.model_validate(json.loads((folder / "manifest.json").read_text()))
