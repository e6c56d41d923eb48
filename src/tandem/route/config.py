"""The router's one configuration file (TOML): label sets and an ordered routing policy.

    [label_sets.urgency]
    labels = [
      { name = "high", description = "the customer is blocked or losing money now",
        examples = ["my card was stolen an hour ago"] },
      { name = "normal", description = "a routine question" },
    ]

    [policy]
    fallback = "answer"                  # when no rule matches
    min_confidence = 0.35                # below it, `low_confidence_action` applies
    low_confidence_action = "answer_and_flag"

    [[policy.rules]]
    when = { urgency = ["high"] }        # every listed label set must match one of its labels
    min_confidence = 0.5
    action = "handoff:priority"
    reason = "urgent customers talk to a person"

    [conversation]                       # over the whole conversation, when the turn would be answered
    human_request_action = "handoff:support"   # "let me talk to a person"
    unanswered_turns = 2                 # after two abstained turns...
    unanswered_action = "answer_and_flag"  # ...flag the turn ("handoff:support": a person takes over)
    unanswered_message = "Write 'talk to a person' to reach our team."  # added to the abstention

    [[conversation.rules]]
    when = { intent = ["complaint"] }    # frustration that persists over two turns
    turns = 2
    action = "handoff:priority"

Errors name the file and the line of the offending value.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from tandem.errors import ConfigError
from tandem.route.person_patterns import HUMAN_REQUEST_PATTERNS

ACTIONS = ("answer", "answer_and_flag", "refuse")
HANDOFF_PREFIX = "handoff:"


def check_action(action: str) -> str:
    """`answer`, `answer_and_flag`, `refuse` or `handoff:<queue>`."""
    if action in ACTIONS:
        return action
    if action.startswith(HANDOFF_PREFIX) and re.fullmatch(r"[\w.-]+", action[len(HANDOFF_PREFIX) :]):
        return action
    raise ValueError(f"action must be one of {', '.join(ACTIONS)} or handoff:<queue>, not {action!r}")


def check_regexes(patterns: list[str], field: str) -> list[str]:
    """The patterns, or a ValueError naming the first that does not compile."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{field}: {pattern!r} is not a valid regex ({exc})") from None
    return patterns


class Label(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    examples: list[str] = Field(default_factory=list)

    def prompts(self) -> list[str]:
        """Texts that stand for this label in zero-shot matching."""
        readable = self.name.replace("_", " ").replace("-", " ")
        return [self.description or readable, *self.examples]


class LabelSet(BaseModel):
    """Labels matched by the encoder (zero-shot, or a trained classifier), or `patterns`: a
    "yes"/"no" set matched on the words (`tandem.route.patterns`)."""

    model_config = ConfigDict(extra="forbid")

    labels: list[Label] = Field(default_factory=list)
    patterns: list[str] = Field(
        default_factory=list, description="Regexes (case-insensitive): labels 'yes' and 'no'."
    )
    temperature: float = Field(0.05, gt=0.0, le=1.0, description="Zero-shot softmax temperature.")

    @field_validator("labels")
    @classmethod
    def _unique(cls, labels: list[Label]) -> list[Label]:
        seen: set[str] = set()
        for label in labels:
            if label.name in seen:
                raise ValueError(f"label {label.name!r} is listed twice")
            seen.add(label.name)
        return labels

    _compiles = field_validator("patterns")(classmethod(lambda cls, v: check_regexes(v, "patterns")))

    @model_validator(mode="after")
    def _labels_or_patterns(self) -> LabelSet:
        if self.patterns and self.labels:
            raise ValueError("a label set has either labels or patterns, not both")
        if not self.patterns and len(self.labels) < 2:
            raise ValueError("a label set needs at least 2 labels (or patterns)")
        return self

    @property
    def names(self) -> list[str]:
        return ["yes", "no"] if self.patterns else [label.name for label in self.labels]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: dict[str, list[str]] = Field(min_length=1)
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    action: str
    reason: str = ""
    message: str | None = Field(None, description="Reply sent instead of an answer (refuse/handoff).")

    _check_action = field_validator("action")(classmethod(lambda cls, v: check_action(v)))


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(default_factory=list)
    fallback: str = "answer"
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    low_confidence_action: str = "answer_and_flag"
    handoff_message: str = (
        "I've passed your message to our {queue} team; a person will reply. Your ticket is {ticket}."
    )
    refuse_message: str = "I can't help with that here."

    _check_fallback = field_validator("fallback", "low_confidence_action")(
        classmethod(lambda cls, v: check_action(v))
    )


class ConversationRule(BaseModel):
    """Hand off (or flag) when at least `turns` turns of the conversation, this one included, carry
    one of the listed labels of every listed label set, from turn `from_turn` of the conversation
    on (anger in the fourth turn of an unresolved problem weighs more than in the first)."""

    model_config = ConfigDict(extra="forbid")

    when: dict[str, list[str]] = Field(min_length=1)
    turns: int = Field(2, ge=1, le=50)
    from_turn: int = Field(1, ge=1, le=100, description="The rule applies from this turn on.")
    action: str
    reason: str = ""
    message: str | None = None

    _check_action = field_validator("action")(classmethod(lambda cls, v: check_action(v)))


class ConversationPolicy(BaseModel):
    """Routing over the whole conversation, applied when the turn's own route would answer."""

    model_config = ConfigDict(extra="forbid")

    human_request_action: str | None = Field(
        None, description="Action for an explicit request for a person, e.g. handoff:support; unset: off."
    )
    human_request_patterns: list[str] = Field(default_factory=lambda: list(HUMAN_REQUEST_PATTERNS))
    human_request_message: str | None = None
    human_request_by_meaning: bool = Field(
        True,
        description="Also find requests for a person that no pattern matches, by the encoder's closeness to "
        "written examples (tandem.converse.person_request).",
    )
    unanswered_turns: int = Field(
        0, ge=0, le=50, description="Hand off after this many abstained turns; 0: off."
    )
    unanswered_action: str = "handoff:support"
    unanswered_message: str | None = Field(
        None,
        description="The reply for the unanswered-turns rule: a handoff's message, or with answer_and_flag "
        "an offer added to the abstention (e.g. how to reach a person).",
    )
    rules: list[ConversationRule] = Field(default_factory=list)
    window: int = Field(8, ge=1, le=100, description="The most recent turns the rules look at.")

    _check_actions = field_validator("human_request_action", "unanswered_action")(
        classmethod(lambda cls, v: v if v is None else check_action(v))
    )

    _compiles = field_validator("human_request_patterns")(
        classmethod(lambda cls, v: check_regexes(v, "human_request_patterns"))
    )

    @property
    def active(self) -> bool:
        return bool(self.human_request_action or self.unanswered_turns or self.rules)


class RouterConfig(BaseModel):
    """Label sets (the user's), the policy over them, and the conversation-level policy."""

    model_config = ConfigDict(extra="forbid")

    label_sets: dict[str, LabelSet] = Field(default_factory=dict)
    policy: Policy = Field(default_factory=Policy)
    conversation: ConversationPolicy = Field(default_factory=ConversationPolicy)

    @model_validator(mode="after")
    def _rules_name_known_labels(self) -> RouterConfig:
        named = [(f"policy rule {n}", r.when) for n, r in enumerate(self.policy.rules, start=1)]
        named += [(f"conversation rule {n}", r.when) for n, r in enumerate(self.conversation.rules, start=1)]
        for rule, when in named:
            for set_name, wanted in when.items():
                if set_name not in self.label_sets:
                    known = ", ".join(sorted(self.label_sets)) or "none"
                    raise ValueError(
                        f"{rule} uses label set {set_name!r}, which is not defined (defined: {known})"
                    )
                unknown = [w for w in wanted if w not in self.label_sets[set_name].names]
                if unknown:
                    raise ValueError(
                        f"{rule} uses unknown label {unknown[0]!r} of {set_name!r} "
                        f"(labels: {', '.join(self.label_sets[set_name].names)})"
                    )
        return self

    def untrainable(self, label_set: str) -> str:
        """Why `label_set` cannot be trained (it is matched by patterns), or ""."""
        if label_set in self.label_sets and self.label_sets[label_set].patterns:
            return (
                f"label set {label_set!r} is matched by patterns in the router config, not trained; "
                "train a label set that lists labels, or give this one another name"
            )
        return ""

    @classmethod
    def load(cls, path: Path) -> RouterConfig:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"router config {path} does not exist")
        return cls.parse_toml(path.read_text(encoding="utf-8"), str(path))

    @classmethod
    def parse_toml(cls, text: str, origin: str = "router config") -> RouterConfig:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin}: not valid TOML: {exc}") from None
        return cls.from_dict(data, origin, text)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "router config", text: str = "") -> RouterConfig:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            message = str(problem["msg"]).removeprefix("Value error, ")
            line = _line_of(text, problem, message)
            at = f", line {line}" if line else ""
            where = f" at {where}" if where else ""
            raise ConfigError(f"{origin}{at}: {message}{where}") from None


def _line_of(text: str, problem: ErrorDetails, message: str) -> int | None:
    """Best-effort line number of the offending value or key in the TOML text."""
    if not text:
        return None
    needles: list[str] = re.findall(r"'([^']+)'", message)
    value = problem.get("input")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        needles.insert(0, str(value))
    needles += [str(p) for p in reversed(problem["loc"]) if isinstance(p, str)]
    lines = text.splitlines()
    for needle in needles:
        pattern = re.compile(rf"(^|[^\w]){re.escape(needle)}([^\w]|$)")
        for number, line in enumerate(lines, start=1):
            if pattern.search(line.split("#", 1)[0]):
                return number
    return None
