"""The earlier turns of a conversation, as one answer flow uses them: to make a follow-up standalone,
to route over the whole conversation, and to hand a person the transcript."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tandem.answer import Answer
from tandem.converse.escalation import EarlierTurn, Escalation, asks_for_person, escalate, handoff_decision
from tandem.converse.followup import Resolution, resolve
from tandem.documents.text_utils import encodable
from tandem.guard.pii import mask_pii, redact_pii
from tandem.pipeline.components import Components
from tandem.route.config import ConversationPolicy
from tandem.route.policy import RoutingDecision
from tandem.route.router import Router
from tandem.route.tickets import TicketStore
from tandem.storage.conversations import Exchange
from tandem.trace.spans import Tracer

HISTORY_TURNS = 8  # earlier user turns a follow-up is resolved against (the most recent)
HISTORY_TURN_CHARS = 1000  # of each earlier turn: what resolution, routing and the guard read


def conversation_policy(router: Router | None) -> ConversationPolicy:
    """The router file's `[conversation]` section (empty without a router: no conversation rules)."""
    return router.config.conversation if router is not None else ConversationPolicy()


def history_window(policy: ConversationPolicy) -> int:
    """How many earlier turns a turn reads: the follow-up's HISTORY_TURNS, or the rules' window."""
    return max(HISTORY_TURNS, policy.window if policy.active else 0)


class ConversationContext:
    """Earlier turns, oldest first: strings (a stateless client's user messages) or `EarlierTurn`s
    (a stored conversation's, with their labels and whether they were answered)."""

    def __init__(
        self, parts: Components, history: Sequence[str | EarlierTurn] = (), conversation_id: str | None = None
    ) -> None:
        self.parts = parts
        self.conversation_id = conversation_id
        self.policy = conversation_policy(parts.router)
        keep = history_window(self.policy)
        limit = min(parts.settings.max_question_chars, HISTORY_TURN_CHARS)
        turns = [t if isinstance(t, EarlierTurn) else EarlierTurn(t) for t in history]
        turns = [t for t in turns if t.text.strip()][-keep:]  # 500 turns of 100 kB cost what 8 short ones do
        self.turns = [replace(t, text=encodable(t.text[:limit])) for t in turns]

    @property
    def texts(self) -> list[str]:
        """The user texts a follow-up is resolved against."""
        return [t.text for t in self.turns[-HISTORY_TURNS:]]

    def resolve(self, question: str, tracer: Tracer) -> Resolution | None:
        """`question` made standalone from the earlier turns (None without history); traced, with
        the resolved question PII-masked."""
        history = self.texts
        if not history:
            return None
        encoder, guard = self.parts.encoder, self.parts.input_guard

        def related(a: str, b: str) -> float:
            vectors = encoder.encode([a, b])
            return float(vectors[0] @ vectors[1])

        with tracer.span("resolve", turns=len(history)) as attributes:
            if self.parts.settings.input_guard:  # earlier turns came from outside too: the two it may join
                blocked = [t for t in history[-2:] if guard.check(t).blocked]
                history = [t for t in history if t not in blocked]
                attributes["blocked_turns"] = len(blocked)
            resolution = resolve(question, history, related)
            attributes.update(method=resolution.method, resolved=mask_pii(resolution.question))
        return resolution

    def label(self) -> None:
        """Route-label the earlier turns the conversation rules look at and that carry no labels."""
        router = self.parts.router
        if router is None or not self.policy.rules:
            return
        window = self.policy.window - 1
        for i in range(max(0, len(self.turns) - window), len(self.turns)):
            if self.turns[i].labels is None:
                self.turns[i] = replace(self.turns[i], labels=router.classify(self.turns[i].text).labels())

    def route(self, question: str) -> RoutingDecision | None:
        """The router's decision for `question`, handed off when the conversation's rules say so
        (None without a router)."""
        router = self.parts.router
        if router is None:
            return None
        decision = router.classify(question)
        self.label()
        escalation = self.escalation(question, decision) if decision.answers else None
        return handoff_decision(escalation, decision) if escalation else decision

    def escalation(
        self, question: str, decision: RoutingDecision | None, abstained: bool | None = None
    ) -> Escalation | None:
        if not self.policy.active:
            return None
        by_meaning = self.policy.human_request_action and self.policy.human_request_by_meaning
        asks = self.parts.person_requests.asks if by_meaning else asks_for_person
        return escalate(self.policy, self.turns, question, decision, abstained, asks)

    @property
    def open_ticket(self) -> str | None:
        """The ticket an earlier turn of this conversation opened: later handoffs add to it."""
        return next((t.ticket for t in reversed(self.turns) if t.ticket), None)

    def hand_off(self, question: str, decision: RoutingDecision, tickets: TicketStore) -> str:
        """The ticket for a handoff: the conversation's open one with its transcript brought up to
        date (no second ticket for one conversation), or a new one."""
        transcript = self.transcript(question, decision)
        if self.open_ticket is not None and tickets.extend(self.open_ticket, transcript):
            return self.open_ticket
        return tickets.create(redact_pii(question)[0], decision, transcript, self.conversation_id)

    def transcript(self, question: str, decision: RoutingDecision | None, reply: str = "") -> list[dict]:
        """The conversation for a handoff ticket: every turn PII-redacted, with its labels."""
        rows = [
            {
                "turn": n,
                "user": redact_pii(t.text)[0],
                "reply": redact_pii(t.reply)[0],
                "labels": t.labels or {},
            }
            for n, t in enumerate(self.turns, start=1)
        ]
        labels = decision.labels() if decision is not None else {}
        rows.append(
            {"turn": len(rows) + 1, "user": redact_pii(question)[0], "reply": reply, "labels": labels}
        )
        return rows


def exchange_of(answer: Answer) -> Exchange:
    """What a conversation stores of an answered turn (the store masks PII in the texts)."""
    route = answer.route
    labels = {name: p["label"] for name, p in route["predictions"].items()} if route else {}
    return Exchange(
        question=answer.question,
        answer=answer.text,
        mode=answer.mode,
        action=route["action"] if route else "answer",
        labels=labels,
        resolved=str(answer.diagnostics.get("resolved_question", "")),
        trace_id=answer.trace_id,
        ticket=answer.ticket,
    )
