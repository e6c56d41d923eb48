"""Routing decisions: label predictions in, an action (answer, flag, refuse, hand off) and reasons out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from tandem.route.config import HANDOFF_PREFIX, Policy


@dataclass(frozen=True)
class LabelPrediction:
    """The best label of one label set, its calibrated confidence and the runners-up."""

    label_set: str
    label: str
    confidence: float
    method: str
    alternatives: tuple[tuple[str, float], ...] = ()
    evidence: str = ""  # the words a pattern label set matched, shown in the reasons

    def shown(self) -> str:
        """The prediction as a reason shows it: incident=yes (1.00, 'melted')."""
        said = f", {self.evidence!r}" if self.evidence else ""
        return f"{self.label_set}={self.label} ({self.confidence:.2f}{said})"


class PredictionRecord(TypedDict):
    """A `LabelPrediction` as stored in answers, traces and API responses."""

    label_set: str
    label: str
    confidence: float
    method: str
    alternatives: tuple[tuple[str, float], ...]


class RouteRecord(TypedDict):
    """A `RoutingDecision` as stored in answers (`Answer.route`), traces and API responses."""

    action: str
    queue: str | None
    rule: int | None
    reasons: list[str]
    predictions: dict[str, PredictionRecord]
    seconds: float


@dataclass
class RoutingDecision:
    """What the router decided for one message, and why."""

    action: str
    predictions: dict[str, LabelPrediction]
    reasons: list[str] = field(default_factory=list)
    rule: int | None = None
    message: str | None = None
    seconds: float = 0.0

    @property
    def queue(self) -> str | None:
        return self.action[len(HANDOFF_PREFIX) :] if self.action.startswith(HANDOFF_PREFIX) else None

    @property
    def answers(self) -> bool:
        return self.action in ("answer", "answer_and_flag")

    @property
    def flagged(self) -> bool:
        return self.action == "answer_and_flag"

    def labels(self) -> dict[str, str]:
        return {name: p.label for name, p in self.predictions.items()}

    def confidences(self) -> dict[str, float]:
        return {name: p.confidence for name, p in self.predictions.items()}

    def to_dict(self) -> RouteRecord:
        predictions = {
            name: PredictionRecord(
                label_set=p.label_set,
                label=p.label,
                confidence=p.confidence,
                method=p.method,
                alternatives=p.alternatives,
            )
            for name, p in self.predictions.items()
        }
        return RouteRecord(
            action=self.action,
            queue=self.queue,
            rule=self.rule,
            reasons=self.reasons,
            predictions=predictions,
            seconds=round(self.seconds, 4),
        )


def decide(policy: Policy, predictions: dict[str, LabelPrediction]) -> RoutingDecision:
    """First matching rule wins; otherwise low confidence or the fallback decides."""
    for number, rule in enumerate(policy.rules, start=1):
        matched = all(
            name in predictions
            and predictions[name].label in wanted
            and predictions[name].confidence >= rule.min_confidence
            for name, wanted in rule.when.items()
        )
        if matched:
            shown = ", ".join(predictions[name].shown() for name in rule.when)
            reason = f"rule {number}: {shown}" + (f": {rule.reason}" if rule.reason else "")
            return RoutingDecision(rule.action, predictions, [reason], number, rule.message)
    unsure = [p for p in predictions.values() if p.confidence < policy.min_confidence]
    if unsure:
        shown = ", ".join(f"{p.label_set}={p.label} ({p.confidence:.2f})" for p in unsure)
        reason = f"low confidence (< {policy.min_confidence:.2f}): {shown}"
        return RoutingDecision(policy.low_confidence_action, predictions, [reason])
    return RoutingDecision(policy.fallback, predictions, ["no rule matched: fallback"])
