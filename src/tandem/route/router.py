"""The Router: label-set classifiers (trained or zero-shot) plus the policy that turns them into actions.

>>> router = Router.from_config("examples/router/router.toml")   # doctest: +SKIP
>>> router.classify("My card was stolen, block it now").action  # doctest: +SKIP
'handoff:security'
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

import numpy as np

from tandem.documents.text_utils import encodable
from tandem.encode import Encoder, load_encoder
from tandem.encode.model_files import resolve_encoder
from tandem.errors import InputError
from tandem.route import artefact, patterns
from tandem.route.config import RouterConfig
from tandem.route.data import LabelledData
from tandem.route.patterns import PatternClassifier
from tandem.route.policy import LabelPrediction, RoutingDecision, decide
from tandem.route.train import Progress, TrainedClassifier, TrainOptions, train_classifier
from tandem.route.zero_shot import ZeroShotClassifier

MAX_MESSAGE_CHARS = 2000


class LabelClassifier(Protocol):
    labels: list[str]
    method: str

    def probabilities(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray: ...


class Router:
    """Classifies messages per label set and applies the policy."""

    def __init__(
        self,
        config: RouterConfig,
        folder: Path | None = None,
        encoder: Encoder | None = None,
        encoder_name: str = "all-MiniLM-L6-v2",
        threads: int = 1,
        config_text: str | None = None,
    ) -> None:
        self.config = config
        self.config_text = config_text
        self.folder = folder
        self.encoder_name = encoder_name
        self.threads = threads
        self._encoder = encoder
        self._classifiers: dict[str, LabelClassifier] | None = None

    @classmethod
    def from_config(cls, path: str | Path, encoder: Encoder | None = None, threads: int = 1) -> Router:
        """Load a router from a TOML config file or a trained router folder."""
        path = Path(path)
        if path.is_dir():
            version = artefact.current_folder(path)
            config_file = version / artefact.CONFIG_FILE
            config = RouterConfig.load(config_file) if config_file.is_file() else RouterConfig()
            return cls(config, version, encoder, threads=threads)
        config = RouterConfig.load(path)
        return cls(config, None, encoder, threads=threads, config_text=path.read_text(encoding="utf-8"))

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.encoder_name, "onnx-int8", self.threads)
        return self._encoder

    @property
    def label_sets(self) -> list[str]:
        return list(self.config.label_sets)

    def needs_encoder_vectors(self) -> bool:
        """True when some label set is zero-shot (it can reuse the retrieval query vector)."""
        return any(c.method == "zero-shot" for c in self.classifiers().values())

    def classifiers(self) -> dict[str, LabelClassifier]:
        """Load each label set's classifier once: patterns, the trained one when present, else zero-shot."""
        if self._classifiers is None:
            loaded: dict[str, LabelClassifier] = {}
            for name, label_set in self.config.label_sets.items():
                trained = self.folder / "label_sets" / name if self.folder else None
                if label_set.patterns:
                    loaded[name] = PatternClassifier(label_set.patterns)
                elif trained is not None and (trained / "classifier.json").is_file():
                    from tandem.route.classifier import TrainedLabelClassifier

                    loaded[name] = TrainedLabelClassifier(
                        trained, resolve_encoder(self.encoder_name), self.threads
                    )
                else:
                    loaded[name] = ZeroShotClassifier(self.encoder, label_set, label_set.temperature)
            self._classifiers = loaded
        return self._classifiers

    def predict(
        self, texts: list[str], label_set: str, vectors: np.ndarray | None = None
    ) -> tuple[list[str], np.ndarray]:
        """Label names and the probability matrix of one label set for many texts."""
        if label_set not in self.config.label_sets:
            raise InputError(f"no label set {label_set!r} in this router (has: {', '.join(self.label_sets)})")
        classifier = self.classifiers()[label_set]
        return classifier.labels, classifier.probabilities([_clip(t) for t in texts], vectors)

    def train(
        self,
        data: LabelledData,
        label_set: str,
        router_dir: Path,
        options: TrainOptions | None = None,
        progress: Progress | None = None,
    ) -> TrainedClassifier:
        """Train `label_set`, publish it in `router_dir` and switch this router to the new version."""
        config_text = self.config_text or _config_text(self.folder) or artefact.config_toml(self.config)
        version, trained = train_router(
            data, router_dir, label_set, options, config_text, progress, self.encoder_name
        )
        self.folder = version
        self.config = RouterConfig.load(version / artefact.CONFIG_FILE)
        self.config_text = None
        self._classifiers = None
        return trained

    def classify(self, text: str, vector: np.ndarray | None = None) -> RoutingDecision:
        """Tag `text` with every label set and decide what to do with it."""
        if not text or not text.strip():
            raise InputError("the message is empty")
        text = encodable(text)
        started = time.perf_counter()
        vectors = vector.reshape(1, -1) if vector is not None else None
        if vectors is None and self.needs_encoder_vectors():
            vectors = self.encoder.encode([_clip(text)])  # shared by every zero-shot label set
        predictions = {}
        for name, classifier in self.classifiers().items():
            evidence = ""
            if isinstance(classifier, PatternClassifier):  # the words matched, shown in the reasons
                evidence = classifier.matched(_clip(text)) or ""
                probabilities = patterns.row(evidence or None)
            else:
                probabilities = classifier.probabilities([_clip(text)], vectors)[0]
            order = np.argsort(-probabilities)
            best = int(order[0])
            predictions[name] = LabelPrediction(
                name,
                classifier.labels[best],
                round(float(probabilities[best]), 4),
                classifier.method,
                tuple((classifier.labels[int(i)], round(float(probabilities[i]), 4)) for i in order[1:3]),
                evidence,
            )
        decision = decide(self.config.policy, predictions)
        decision.seconds = time.perf_counter() - started
        return decision


def _config_text(folder: Path | None) -> str | None:
    config_file = folder / artefact.CONFIG_FILE if folder else None
    return config_file.read_text(encoding="utf-8") if config_file and config_file.is_file() else None


def _clip(text: str) -> str:
    """Classifiers read at most 64 tokens; longer input only costs time."""
    return text[:MAX_MESSAGE_CHARS]


def train_router(
    data: LabelledData,
    router_dir: Path,
    label_set: str,
    options: TrainOptions | None = None,
    config_text: str | None = None,
    progress: Progress | None = None,
    encoder_name: str = "all-MiniLM-L6-v2",
) -> tuple[Path, TrainedClassifier]:
    """Train `label_set` on `data` and publish a new version of the router in `router_dir`."""
    if config_text is not None:
        config = RouterConfig.parse_toml(config_text, "router config")  # fail before minutes of training
        if problem := config.untrainable(label_set):
            raise InputError(problem)
    files = resolve_encoder(encoder_name)
    trained = train_classifier(data, files, options, progress)
    version = artefact.save_classifier(router_dir, label_set, trained, files, config_text)
    return version, trained
