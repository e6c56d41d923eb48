"""Content policy: topics that must be refused or handed off, matched by the encoder or by regex.

    # guard-policy.toml
    [[topics]]
    name = "medical_advice"
    description = "asking for a medical diagnosis, a treatment or a medicine dose"
    examples = ["Which painkiller should I take after my fall?"]
    threshold = 0.55                       # cosine to the closest description/example
    action = "refuse"                      # or "handoff:<queue>"
    message = "I can't give medical advice; please contact a doctor."

    [[patterns]]
    name = "card_number_request"
    regex = "(?i)send (me )?your (full )?card number"
    action = "refuse"

    [[overrides]]                          # per route: when the router says so, skip or change
    when = { intent = ["returns_and_warranty"] }
    skip = ["medical_advice"]

Errors name the file and the rule.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tandem.encode import Encoder
from tandem.errors import ConfigError
from tandem.route.config import check_action


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    examples: list[str] = Field(default_factory=list)
    threshold: float = Field(0.55, gt=0.0, le=1.0)
    action: str = "refuse"
    message: str | None = None

    _check_action = field_validator("action")(classmethod(lambda cls, v: check_action(v)))


class Pattern(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    regex: str
    action: str = "refuse"
    message: str | None = None

    _check_action = field_validator("action")(classmethod(lambda cls, v: check_action(v)))

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"regex {value!r} does not compile: {exc}") from None
        return value


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: dict[str, list[str]] = Field(min_length=1)
    skip: list[str] = Field(default_factory=list)
    action: str | None = None

    @field_validator("action")
    @classmethod
    def _action(cls, value: str | None) -> str | None:
        return check_action(value) if value is not None else None


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[Topic] = Field(default_factory=list)
    patterns: list[Pattern] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    message: str = "I can't help with that here."


@dataclass(frozen=True)
class PolicyHit:
    """A topic or pattern that matched, the score, and the action to take."""

    rule: str
    kind: str  # topic | pattern
    score: float
    action: str
    message: str

    def to_dict(self) -> dict:
        return {"rule": self.rule, "kind": self.kind, "score": round(self.score, 4), "action": self.action}


class ContentPolicy:
    """Checks a message against the policy's topics (encoder) and patterns (regex)."""

    def __init__(self, policy: PolicyFile, encoder: Encoder) -> None:
        self.policy = policy
        self.encoder = encoder
        self._patterns = [(p, re.compile(p.regex)) for p in policy.patterns]
        prompts = [(i, text) for i, t in enumerate(policy.topics) for text in (t.description, *t.examples)]
        self._owners = np.array([i for i, _ in prompts], dtype=np.int64)
        self._vectors = encoder.encode([text for _, text in prompts]) if prompts else None

    @classmethod
    def load(cls, path: Path, encoder: Encoder) -> ContentPolicy:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"guard policy {path} does not exist")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            policy = PolicyFile.model_validate(data)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"guard policy {path}: not valid TOML: {exc}") from None
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            message = str(problem["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"guard policy {path}: {where}: {message}") from None
        return cls(policy, encoder)

    def check(
        self, text: str, labels: dict[str, str] | None = None, vector: np.ndarray | None = None
    ) -> PolicyHit | None:
        """The first pattern that matches, else the best topic over its threshold, else None.

        `vector` is the text's encoder vector when the caller has it (the retrieval query vector).
        """
        skipped, forced = self._overrides(labels or {})
        for pattern, compiled in self._patterns:
            if pattern.name not in skipped and compiled.search(text):
                return self._hit(pattern.name, "pattern", 1.0, forced or pattern.action, pattern.message)
        if self._vectors is None:
            return None
        if vector is None:
            vector = self.encoder.encode([text[:2000]])[0]
        similarity = vector @ self._vectors.T
        best: PolicyHit | None = None
        for index, topic in enumerate(self.policy.topics):
            if topic.name in skipped:
                continue
            score = float(similarity[self._owners == index].max())
            if score >= topic.threshold and (best is None or score > best.score):
                best = self._hit(topic.name, "topic", score, forced or topic.action, topic.message)
        return best

    def _overrides(self, labels: dict[str, str]) -> tuple[set[str], str | None]:
        skipped: set[str] = set()
        forced = None
        for override in self.policy.overrides:
            if all(labels.get(name) in wanted for name, wanted in override.when.items()):
                skipped.update(override.skip)
                forced = override.action or forced
        return skipped, forced

    def _hit(self, rule: str, kind: str, score: float, action: str, message: str | None) -> PolicyHit:
        return PolicyHit(rule, kind, score, action, message or self.policy.message)
