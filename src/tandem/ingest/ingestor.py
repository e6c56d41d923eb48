"""Ingestion: discover files, skip unchanged ones by content hash, parse, chunk, embed, publish."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.progress import Progress

from tandem.documents.chunking import Chunker
from tandem.documents.loaders import PARSERS_VERSION, discover
from tandem.documents.models import Chunk
from tandem.documents.text_utils import encodable, split_sentences
from tandem.encode import Encoder
from tandem.errors import DocumentError, IndexError_, InputError
from tandem.guard.corpus_guard import CorpusGuard
from tandem.index.builder import VersionBuilder
from tandem.index.manifest import ChunkingInfo, EncoderInfo, FileRecord, Manifest
from tandem.index.snapshot import IndexSnapshot
from tandem.index.unit_vectors import UNITS_FILE
from tandem.index.vector_store import VectorStoreConfig
from tandem.index.writer import IndexWriter
from tandem.ingest.files import file_sha256, progress_bars, too_large, unreadable_entry
from tandem.ingest.late_chunking import can_late_chunk, encode_late
from tandem.ingest.parts import Part, grouped, split_parts
from tandem.ingest.prefetch import prefetched
from tandem.ingest.prepare import DocumentProcessor, LocalProcessor, PreparedDocument
from tandem.ingest.scan_ahead import ScanPool
from tandem.version import __version__

# Stores a version's unit vectors in its build folder before it is published (`select.unit_store`):
# (folder, previous version's folder, (chunk text, context line) per chunk, progress) -> texts embedded.
UnitVectorStep = Callable[[Path, Path | None, list[tuple[str, str]], Progress | None], int]


@dataclass
class IngestReport:
    """What an ingest did; `ok` is False only when nothing at all could be ingested."""

    files_seen: int = 0
    files_added: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_deleted: int = 0
    new_chunks: int = 0
    documents: int = 0
    chunks: int = 0
    version: int | None = None
    published: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)
    flagged: list[dict] = field(default_factory=list)
    quarantined: int = 0
    unit_vectors_embedded: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.files_added + self.files_changed + self.files_unchanged + self.files_deleted > 0


class Ingestor:
    """Adds files to an index folder as a new version; unchanged files are carried over as is."""

    def __init__(
        self,
        index_dir: Path,
        encoder: Encoder,
        chunker: Chunker,
        keep_versions: int = 5,
        batch_size: int = 32,
        sentence_vectors: bool = True,
        corpus_guard: CorpusGuard | None = None,
        quarantine: bool = False,
        vector_store: VectorStoreConfig | None = None,
        processor: DocumentProcessor | None = None,
        late_sentences: bool = False,
        max_file_bytes: int = 100_000_000,
        unit_vectors: UnitVectorStep | None = None,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.writer = IndexWriter(index_dir, vector_store, keep_versions)
        self.layout = self.writer.layout
        self.vector_store = vector_store
        self.corpus_guard = corpus_guard
        self.quarantine = quarantine
        self.encoder = encoder
        self.chunker = chunker
        self.keep_versions = keep_versions
        self.batch_size = batch_size
        self.sentence_vectors = sentence_vectors
        self.late_sentences = late_sentences and can_late_chunk(encoder)
        self.unit_vectors = unit_vectors
        # Parsing, chunking and embedding: here, or farmed out with the scan too (tandem.ingest.ray).
        # Here, `corpus_guard` scans each document in a thread beside the embedding (scan_ahead).
        self.processor = processor or LocalProcessor(encoder, chunker, None, batch_size)

    def _encoder_info(self) -> EncoderInfo:
        return EncoderInfo(
            model_id=self.encoder.model_id,
            dimension=self.encoder.dimension,
            backend=self.encoder.backend,
        )

    def _chunking_info(self) -> ChunkingInfo:
        return ChunkingInfo(
            max_tokens=self.chunker.max_tokens,
            overlap=self.chunker.overlap,
            sentence_vectors=self.sentence_vectors,
            late_sentences=self._late,
            parsers=PARSERS_VERSION,
        )

    @property
    def _late(self) -> bool:
        """Sentence vectors from the chunks' pass: asked for, possible here (not on Ray workers)."""
        return self.late_sentences and self.sentence_vectors and isinstance(self.processor, LocalProcessor)

    def ingest(
        self, paths: list[Path], tags: tuple[str, ...] = (), show_progress: bool = False, wait_s: float = 0.0
    ) -> IngestReport:
        """Add `paths` as a new version; `wait_s`: how long to wait for another writer to finish."""
        started = time.perf_counter()
        report = IngestReport()
        roots: list[Path] = []
        for path in paths:
            if not path.exists():
                report.skipped.append((encodable(str(path)), "does not exist"))
            elif not path.is_dir() and (
                problem := unreadable_entry(path) or too_large(path, self.max_file_bytes)
            ):
                report.skipped.append((encodable(str(path)), problem))
            else:
                roots.append(path)
        found: dict[str, tuple[Path, str, Path]] = {}
        unusable = 0
        for root in roots:
            for file_path, relative in discover(root):
                if problem := unreadable_entry(file_path) or too_large(file_path, self.max_file_bytes):
                    report.skipped.append((encodable(str(file_path)), problem))
                    unusable += 1
                    continue
                found.setdefault(str(file_path.resolve()), (file_path, relative, root.resolve()))
        report.files_seen = len(found) + unusable
        if not found and not roots:
            raise InputError("nothing to ingest: " + "; ".join(f"{p} {r}" for p, r in report.skipped))

        with self.writer.open(wait_s) as previous:
            self._build(previous, found, roots, tags, report, show_progress)
        report.seconds = time.perf_counter() - started
        return report

    def _build(
        self,
        previous: IndexSnapshot | None,
        found: dict[str, tuple[Path, str, Path]],
        roots: list[Path],
        tags: tuple[str, ...],
        report: IngestReport,
        show_progress: bool,
    ) -> None:
        encoder_info, chunking_info = self._encoder_info(), self._chunking_info()
        reuse = False
        if previous is not None:
            built = previous.manifest.encoder
            if (built.model_id, built.dimension) != (encoder_info.model_id, encoder_info.dimension):
                raise IndexError_(
                    f"index {self.layout.root} was built with encoder {built.model_id} "
                    f"(dimension {built.dimension}) but {encoder_info.model_id} is configured; "
                    "ingest into a new --index folder or configure the original encoder"
                )
            reuse = built.backend == encoder_info.backend and previous.manifest.chunking == chunking_info
        old_files = previous.manifest.files if previous else {}
        resolved_roots = [r.resolve() for r in roots]

        keep: dict[str, FileRecord] = {}
        todo: list[tuple[str, Path, str, str, Path]] = []
        for key, (path, relative, root) in found.items():
            try:
                digest = file_sha256(path)
            except OSError as exc:
                broken = path.is_symlink() and not path.exists()
                reason = "is a broken link" if broken else f"cannot be read: {exc.strerror or exc}"
                report.skipped.append((str(path), reason))
                continue
            record = old_files.get(key)
            if record is not None and record.sha256 == digest and reuse:
                keep[key] = record
                report.files_unchanged += 1
            else:
                todo.append((key, path, relative, digest, root))
        for key, record in old_files.items():
            if key in found:
                continue
            if any(Path(key) == r or Path(key).is_relative_to(r) for r in resolved_roots):
                report.files_deleted += 1
            elif reuse:
                keep[key] = record
            else:
                root = Path(record.root)
                relative = Path(key).relative_to(root).as_posix() if root.is_dir() else Path(key).name
                todo.append((key, Path(key), relative, "", root))

        # A changed vector_store or milvus_uri moves the vectors (copied, not re-embedded).
        moved = previous is not None and self.writer.moves_vectors(previous)
        # An index built without unit vectors gets them on its next ingest, changed or not.
        units_due = (
            self.unit_vectors and previous is not None and not (previous.folder / UNITS_FILE).is_file()
        )
        if not todo and not report.files_deleted and previous is not None and not (moved or units_due):
            report.version = previous.version
            report.documents, report.chunks = previous.manifest.documents, previous.manifest.chunks
            return

        version = self.writer.start_version(self.encoder.dimension, previous)
        builder = version.builder
        files: dict[str, FileRecord] = {}
        taken: set[str] = set()
        for key, record in keep.items():
            for doc_id in record.doc_ids:
                builder.copy(previous, doc_id)  # type: ignore[arg-type]
                taken.add(doc_id)
            files[key] = record

        with progress_bars(show_progress) as progress:
            task = progress.add_task("Parsing", total=len(todo)) if progress else None
            loaded = prefetched(
                self.processor.prepare([(path, relative) for _, path, relative, _, _ in todo], tags)
            )

            def accepted_files() -> Iterator[tuple[str, Path, str, Path, list[PreparedDocument]]]:
                """Each parsed file's new documents, as parsing finishes them (embedding runs meanwhile)."""
                for (key, path, _relative, digest, root), outcome in zip(todo, loaded, strict=True):
                    try:
                        documents = outcome.unwrap(path)
                        digest = digest or file_sha256(path)
                    except (DocumentError, OSError) as exc:
                        problem = exc.problem if isinstance(exc, DocumentError) else f"cannot be read: {exc}"
                        if key in old_files and reuse:
                            problem += "; kept the previously indexed version"
                            for doc_id in old_files[key].doc_ids:
                                builder.copy(previous, doc_id)  # type: ignore[arg-type]
                            files[key] = old_files[key]
                        report.skipped.append((str(path), problem))
                        documents = []
                    accepted = []
                    for prepared in documents:
                        doc_id = prepared.document.doc_id
                        if doc_id in taken:
                            report.skipped.append(
                                (str(path), f"document id {doc_id!r} is already in the index")
                            )
                            continue
                        taken.add(doc_id)
                        accepted.append(prepared)
                    if accepted:
                        yield key, path, digest, root, accepted
                        if key in old_files:
                            report.files_changed += 1
                        else:
                            report.files_added += 1
                    if progress and task is not None:
                        progress.advance(task)

            self._embed(accepted_files(), builder, files, report, progress)
            if self.unit_vectors is not None:
                previous_folder = previous.folder if previous else None
                report.unit_vectors_embedded = self.unit_vectors(
                    version.folder, previous_folder, builder.passages, progress
                )

        changed = report.files_added or report.files_changed or report.files_deleted
        nothing_new = not (changed or moved or units_due)
        if (not files and previous is None) or (previous is not None and nothing_new):
            self.writer.abandon(version)
            if previous is not None:
                report.version = previous.version
                report.documents = previous.manifest.documents
                report.chunks = previous.manifest.chunks
            return
        manifest = self._manifest(
            version.number, previous.version if previous else None, files, encoder_info, chunking_info
        )
        self.writer.publish(version, manifest)
        report.version, report.published = version.number, True
        report.documents, report.chunks = manifest.documents, manifest.chunks

    def _embed(
        self,
        parsed: Iterable[tuple[str, Path, str, Path, list[PreparedDocument]]],
        builder: VersionBuilder,
        files: dict[str, FileRecord],
        report: IngestReport,
        progress: Progress | None,
    ) -> None:
        """Embed prepared documents in bounded batches as they arrive (the corpus guard scanning
        them meanwhile), adding them to the build in order."""
        task = progress.add_task("Embedding", total=0) if progress else None

        def arriving() -> Iterator[PreparedDocument]:
            seen = 0
            for key, _path, digest, root, prepared_documents in parsed:
                files[key] = FileRecord(
                    sha256=digest,
                    doc_ids=[p.document.doc_id for p in prepared_documents],
                    root=str(root),
                    kind=prepared_documents[0].document.kind,
                )
                for prepared in prepared_documents:
                    seen += len(prepared.chunks)
                    if progress and task is not None:
                        progress.update(task, total=seen)
                    yield prepared

        with ScanPool(self.corpus_guard) as scans:
            parts = split_parts(arriving(), self.batch_size * 8)
            pending = (scans.submit(part) for part in parts)
            for (group, sentence_texts), vectors in self._encoded(self._batches(pending)):
                count = len(sentence_texts)
                chunk_vectors, rest = vectors[:count], vectors[count:]
                bounds = np.cumsum([0, *[len(g) for g in sentence_texts]])
                per_chunk = [rest[bounds[i] : bounds[i + 1]] for i in range(count)]
                offset = 0
                for part in group:
                    kept_ids = {c.chunk_id for c in self._scan(part, report)}
                    rows = [offset + i for i, c in enumerate(part.chunks) if c.chunk_id in kept_ids]
                    kept = [part.chunks[r - offset] for r in rows]
                    sentences = [per_chunk[r] for r in rows] if self.sentence_vectors else None
                    if part.first:
                        builder.add_document(part.prepared.document)
                    builder.add_chunks(kept, chunk_vectors[rows], sentences)
                    report.new_chunks += len(kept)
                    offset += len(part.chunks)
                if progress and task is not None:
                    progress.advance(task, count)

    def _encoded(self, batches: Iterator) -> Iterator:
        """The processor's vectors; here, with `late_sentences`, sentence vectors from the chunks' pass."""
        if not self._late:
            return self.processor.encode(batches)
        chunks_of = lambda group: [c for part in group for c in part.chunks]  # noqa: E731
        return encode_late(self.encoder, batches, chunks_of, self.batch_size)  # type: ignore[arg-type]

    def _batches(
        self, parts: Iterable[Part]
    ) -> Iterator[tuple[tuple[list[Part], list[list[str]]], list[str]]]:
        """Parts of documents in groups of about 8 encoder batches of chunks, each with its texts to
        embed (chunks, then their sentences): the same groups however the work is spread."""
        for group in grouped(parts, self.batch_size * 8):
            chunks_in_group = [c for part in group for c in part.chunks]
            sentence_texts = [self._sentence_texts(c) for c in chunks_in_group]
            texts = [c.indexed_text() for c in chunks_in_group]
            yield (group, sentence_texts), texts + [t for texts_of in sentence_texts for t in texts_of]

    def _scan(self, part: Part, report: IngestReport) -> list[Chunk]:
        """Report chunks the corpus guard flagged (indirect prompt injection); drop them if quarantining."""
        flagged: set[str] = set()
        for chunk_id, finding in part.findings():
            flagged.add(chunk_id)
            report.flagged.append(
                {"chunk_id": chunk_id, "source": part.prepared.document.source, **finding.to_dict()}
            )
        if not self.quarantine or not flagged:
            return part.chunks
        report.quarantined += len(flagged)
        return [c for c in part.chunks if c.chunk_id not in flagged]

    def _sentence_texts(self, chunk: Chunk) -> list[str]:
        """Each sentence of a chunk with the chunk's context line (none when disabled)."""
        if not self.sentence_vectors:
            return []
        context = chunk.context_line
        sentences = split_sentences(chunk.text) or [chunk.text]
        return [f"{context}\n{s}" if context else s for s in sentences]

    def _manifest(
        self,
        number: int,
        parent: int | None,
        files: dict[str, FileRecord],
        encoder_info: EncoderInfo,
        chunking_info: ChunkingInfo,
    ) -> Manifest:
        return Manifest(
            version=number,
            parent=parent,
            tandem_version=__version__,
            encoder=encoder_info,
            chunking=chunking_info,
            files=files,
        )
