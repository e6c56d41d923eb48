"""Routing over the whole conversation: what a turn-by-turn router cannot see.

A customer who asks for a person, whose questions go unanswered, or whose frustration persists over
several turns is handed to a human (or the turn flagged for review, with an offer of one) even when
the last message alone would be answered. The rules come from the router file's `[conversation]`
section (`ConversationPolicy`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tandem.route.config import ConversationPolicy
from tandem.route.policy import RoutingDecision

NEGATED = re.compile(r"\b(not|don't|dont|do not|no need to|never|without)\b[\w\s]{0,12}$", re.IGNORECASE)


@dataclass(frozen=True)
class EarlierTurn:
    """A turn before the current one: the user's text, its route labels once known, and whether
    Tandem answered it (None when unknown, e.g. a stateless client's history)."""

    text: str
    labels: dict[str, str] | None = None
    answered: bool | None = None
    reply: str = ""
    ticket: str | None = None  # the handoff ticket this turn opened


@dataclass
class Escalation:
    """Why a conversation goes to a person: the action, the reason and an optional reply template."""

    action: str
    reason: str
    message: str | None = None
    turns: list[int] = field(default_factory=list)  # which turns (1 = first) made the case


def asks_for_person(message: str, patterns: Sequence[str]) -> bool:
    """An explicit request for a human ("can I talk to a real person"), not a negated one."""
    for pattern in patterns:
        for match in re.finditer(pattern, message, re.IGNORECASE):
            if not NEGATED.search(message[: match.start()]):
                return True
    return False


def escalate(
    policy: ConversationPolicy,
    earlier: Sequence[EarlierTurn],
    message: str,
    decision: RoutingDecision | None,
    abstained: bool | None = None,
    asks: Callable[[str, Sequence[str]], bool] = asks_for_person,
) -> Escalation | None:
    """The first conversation rule that fires for the current turn `message`, or None.

    `decision` is the turn's own route (its labels count as the current turn's); `abstained`, known
    only after answering, lets the unanswered-turns rule count the current turn too; `asks` tells a
    request for a person (the patterns alone by default; `PersonRequestDetector.asks` adds meaning).
    """
    window = list(earlier)[-(policy.window - 1) :] if policy.window > 1 else []
    number = len(earlier) + 1  # the current turn's number
    first = number - len(window)
    if policy.human_request_action and asks(message, policy.human_request_patterns):
        return Escalation(
            policy.human_request_action,
            "the customer asked for a person",
            policy.human_request_message,
            [number],
        )
    current = decision.labels() if decision is not None else {}
    labelled = [(first + i, t.labels or {}) for i, t in enumerate(window)] + [(number, current)]
    for index, rule in enumerate(policy.rules, start=1):
        if number < rule.from_turn:
            continue
        hits = [
            n for n, labels in labelled if all(labels.get(s) in wanted for s, wanted in rule.when.items())
        ]
        if len(hits) >= rule.turns and number in hits:
            shown = ", ".join(f"{s} in {sorted(w)}" for s, w in rule.when.items())
            reason = f"conversation rule {index}: {len(hits)} turns with {shown}"
            return Escalation(
                rule.action, reason + (f": {rule.reason}" if rule.reason else ""), rule.message, hits
            )
    if policy.unanswered_turns and abstained:
        missed = [first + i for i, t in enumerate(window) if t.answered is False] + [number]
        if len(missed) >= policy.unanswered_turns:
            reason = f"{len(missed)} questions in this conversation went unanswered"
            return Escalation(policy.unanswered_action, reason, policy.unanswered_message, missed)
    return None


def handoff_decision(escalation: Escalation, decision: RoutingDecision | None) -> RoutingDecision:
    """The turn's route replaced by the conversation's: same predictions, the escalation's action."""
    predictions = decision.predictions if decision is not None else {}
    return RoutingDecision(escalation.action, predictions, [escalation.reason], message=escalation.message)
