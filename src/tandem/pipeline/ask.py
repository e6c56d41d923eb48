"""The answer flow, one question at a time, as short named steps:

validate → guard → route ∥ retrieve → policy → abstain? → select → quote or generate → verify → finish.

Each step either hands over to the next or ends the flow with a finished `Answer`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from tandem.answer import ABSTAIN_TEXT, Answer, Citation, Diagnostics
from tandem.converse.escalation import EarlierTurn, Escalation, handoff_decision
from tandem.converse.followup import says_enough
from tandem.generate.prompt import PROMPT_VERSION
from tandem.guard.input_guard import GuardFinding, GuardReport
from tandem.index.filters import SearchFilters
from tandem.pipeline.components import Components
from tandem.pipeline.conversation import ConversationContext
from tandem.pipeline.events import AnswerEvent
from tandem.pipeline.question import validate_question
from tandem.pipeline.write import WriteSteps
from tandem.retrieve.hybrid import SearchResult
from tandem.route.config import Policy
from tandem.route.policy import RoutingDecision
from tandem.select.compose import chosen_units, line_with_the_measure
from tandem.select.features import question_type
from tandem.select.selector import ScoredUnit, Selection, passages_to_read, retrieval_depth
from tandem.trace.spans import Tracer

__all__ = ["AnswerEvent", "AnswerFlow", "validate_question"]


class AnswerFlow(WriteSteps):
    """Answers one question with `parts`; `events()` runs the steps and streams the result."""

    def __init__(
        self,
        parts: Components,
        side: ThreadPoolExecutor,
        question: str,
        filters: SearchFilters | None,
        tracer: Tracer,
        cancel: threading.Event | None = None,
        history: Sequence[str | EarlierTurn] = (),
        conversation_id: str | None = None,
    ) -> None:
        self.parts = parts
        self.settings = parts.settings
        self.side = side
        self.question = question
        self.context = ConversationContext(parts, history, conversation_id)
        self.searched = question  # what search and selection read: the turn, made standalone
        self.filters = filters
        self.tracer = tracer
        self.cancel = cancel
        self.started = tracer.origin
        self.guarded: GuardReport | None = None
        self.decision: RoutingDecision | None = None
        self.result = SearchResult([])
        self.timings: dict[str, float] = {}
        self.versions: dict[str, str | int] = {}
        self.diagnostics = Diagnostics()

    # -- the flow -------------------------------------------------------------------------------
    def events(self) -> Iterator[AnswerEvent]:
        self.question = validate_question(self.question, self.settings.max_question_chars)
        ended = self.guard()
        if ended is not None:
            ended = self.hand_off_blocked(ended)
        else:
            self.resolve_follow_up()
            self.route_and_retrieve()
            ended = self.policy() or self.low_confidence()
        if ended is not None:
            yield from self.single(ended)
            return
        selected: list[ScoredUnit] | None = None
        if self.settings.answer_selector:
            selection = self.select()
            if not selection.answers:
                selection = self.read_as_asked() or selection
            if not selection.answers:
                yield from self.single(self.finish(ABSTAIN_TEXT, [], "no_answering_evidence", "abstained"))
                return
            texts = [p.chunk.text for p in self.passages[: self.settings.selector_passages]]
            qtype = question_type(self.searched)
            chosen = chosen_units(selection, self.settings.evidence_units, qtype == "steps", texts)
            selected = line_with_the_measure(chosen, selection, qtype)
            if self.settings.prefer_quotes:
                yield from self.single(self.quote_selected(selected, "selected"))
                return
        yield from self.generate_and_verify(selected)

    def single(self, answer: Answer) -> Iterator[AnswerEvent]:
        """An answer that is ready at once: its text as one sentence, then the answer; an abstention
        that leaves too many of the conversation's questions unanswered is escalated (`escalate`)."""
        if answer.mode == "abstained" and self.context.turns:
            escalation = self.context.escalation(self.question, self.decision, abstained=True)
            answer = (self.escalate(escalation, answer) if escalation else None) or answer
        yield AnswerEvent("sentence", answer.text)
        yield AnswerEvent("answer", answer=answer)

    def finish(self, text: str, citations: list[Citation], reason: str, mode: str, draft: str = "") -> Answer:
        self.timings["total_ms"] = (time.perf_counter() - self.started) * 1000
        d, g = self.decision, self.guarded
        return Answer(
            self.question, text, citations, self.passages, not citations, reason, mode, self.timings,
            self.versions, draft, self.diagnostics, d.to_dict() if d else None, None,
            g.to_dict() if g else None,
        )  # fmt: skip

    # -- steps ----------------------------------------------------------------------------------
    def guard(self) -> Answer | None:
        """The input guard: injection and policy rules, PII; a blocked question ends here."""
        if not self.settings.input_guard:
            return None
        with self.tracer.span("guard") as attributes:
            guarded = self.parts.input_guard.check(self.question)
            attributes.update(blocked=guarded.blocked, fired=[f.guard for f in guarded.findings])
        self.guarded = guarded
        if not guarded.blocked:
            return None
        fired = sorted({f"{f.guard}:{f.kind}" for f in guarded.findings if f.action == "block"})
        timings = {"guard_ms": guarded.elapsed_ms, "total_ms": (time.perf_counter() - self.started) * 1000}
        answer = Answer(
            self.question, self.settings.blocked_message, [], [], True,
            "blocked by " + ", ".join(fired), "blocked", timings,
        )  # fmt: skip
        answer.guard = guarded.to_dict()
        return answer

    def hand_off_blocked(self, blocked: Answer) -> Answer:
        """A blocked message that the route or the conversation hands to a person goes to that
        person (with the guard's findings on the ticket's answer): no model acts on it either way,
        and a refusal would fail a furious or endangered customer whom the guard misread."""
        with self.tracer.span("route") as attributes:
            decision = self.context.route(self.question)
            attributes.update(action=decision.action if decision else None)
        if decision is None or decision.queue is None:
            return blocked
        self.decision = decision
        return self.route_reply(decision)

    def resolve_follow_up(self) -> None:
        """A follow-up turn made standalone from the earlier turns, for search and selection."""
        resolution = self.context.resolve(self.question, self.tracer)
        self.searched = resolution.question if resolution else self.question
        if resolution is not None and resolution.follow_up:
            self.diagnostics["resolved_question"] = resolution.question

    def route_and_retrieve(self) -> None:
        """Classify the message (on the side thread) while the index is searched."""
        router, tracer = self.parts.router, self.tracer

        def route() -> RoutingDecision:
            with tracer.span("route") as attributes:
                decision = router.classify(self.question)  # type: ignore[union-attr]
                attributes.update(action=decision.action, labels=decision.labels())
                self.context.label()
            return decision

        routing: Future[RoutingDecision] | None = self.side.submit(route) if router is not None else None
        self.retrieve()
        self.timings["retrieve_ms"] = (time.perf_counter() - self.started) * 1000
        self.decision = routing.result() if routing is not None else None
        self.versions.update(
            index_version=self.parts.snapshot.version,
            encoder=f"{self.parts.encoder.model_id} ({self.parts.encoder.backend})",
            prompt=PROMPT_VERSION,
        )
        self.diagnostics["retrieval_confidence"] = round(self.confidence, 4)
        if self.guarded is not None:
            self.timings["guard_ms"] = self.guarded.elapsed_ms
        if self.decision is not None:
            self.timings["route_ms"] = self.decision.seconds * 1000

    def retrieve(self, span: str = "retrieve") -> None:
        """Search the index for the question as `searched` reads it."""
        s, tracer = self.settings, self.tracer
        k = retrieval_depth(self.searched, s.top_k, self.parts.snapshot.titles)
        with tracer.span(span, k=k, mode=s.search_mode) as attributes:
            retrieve_start = tracer.now_ms()
            self.result = self.parts.retriever().search(self.searched, k, self.filters)
            attributes["chunk_ids"] = [p.chunk.chunk_id for p in self.passages]
        steps = {k.removesuffix("_ms"): v for k, v in self.result.timings.items()}
        tracer.children_in_sequence(span, retrieve_start, steps)
        self.timings.update(self.result.timings)

    def read_as_asked(self) -> Selection | None:
        """A follow-up whose standalone form found no answer, searched and read again as the customer
        asked it, when it says enough alone (`says_enough`): the words carried from the previous turn
        can pull search back to that turn's topic. The answering selection, or None (nothing
        changed)."""
        if not self.settings.follow_up_as_asked or self.searched == self.question:
            return None
        if not says_enough(self.question):
            return None
        started = time.perf_counter()
        before = (self.result, self.searched, self.diagnostics.copy(), dict(self.timings))
        self.searched = self.question
        self.retrieve("retrieve_as_asked")
        selection = self.select() if self.confidence >= self.settings.min_retrieval_score else None
        if selection is None or not selection.answers:
            self.result, self.searched, self.diagnostics, self.timings = before
            selection = None
        else:
            self.diagnostics["answered_as_asked"] = True
        self.timings["as_asked_ms"] = (time.perf_counter() - started) * 1000
        return selection

    @property
    def confidence(self) -> float:
        return max((p.dense_score for p in self.passages), default=0.0)

    def policy(self) -> Answer | None:
        """The operator's content policy, then the route: a refusal or handoff ends here."""
        policy = self.parts.content_policy
        if policy is not None:
            with self.tracer.span("policy") as attributes:
                labels = self.decision.labels() if self.decision else None
                hit = policy.check(self.question, labels, self.query_vector)
                attributes["hit"] = hit.to_dict() if hit else None
            if hit is not None:
                predictions = self.decision.predictions if self.decision else {}
                reasons = [f"guard policy {hit.kind} {hit.rule!r} ({hit.score:.2f})"]
                self.decision = RoutingDecision(hit.action, predictions, reasons, message=hit.message)
                if self.guarded is not None:
                    finding = GuardFinding("policy", hit.rule, hit.score, hit.action, f"{hit.kind} matched")
                    self.guarded.findings.append(finding)
        if self.decision is not None and not self.decision.answers:
            return self.route_reply(self.decision)
        escalation = self.context.escalation(self.question, self.decision)
        return self.escalate(escalation) if escalation is not None else None

    def escalate(self, escalation: Escalation, answer: Answer | None = None) -> Answer | None:
        """The conversation's rule for a turn: a handoff or refusal replaces the reply; one that only
        flags lets it be answered (None) or flags `answer`, adding its message (an offer of a person)."""
        now = self.tracer.now_ms()
        self.tracer.add("escalate", now, now, None, reason=escalation.reason)
        self.decision = handoff_decision(escalation, self.decision)
        if not self.decision.answers:
            return self.route_reply(self.decision)
        if answer is not None:
            answer.text = f"{answer.text} {escalation.message or ''}".strip()
            answer.route = self.decision.to_dict()
        return answer

    def route_reply(self, decision: RoutingDecision) -> Answer:
        """A handoff (with a stored ticket) or a refusal instead of an answer."""
        router = self.parts.router
        policy = router.config.policy if router else Policy()
        ticket = None
        if decision.queue is not None:
            ticket = self.context.hand_off(self.question, decision, self.parts.tickets)
            template = decision.message or policy.handoff_message
            mode, reason = "handoff", f"routed to {decision.queue}"
        else:
            template = decision.message or policy.refuse_message
            mode, reason = "refused", "refused by policy"
        text = template.replace("{queue}", decision.queue or "").replace("{ticket}", ticket or "")
        answer = self.finish(text, [], reason, mode)
        answer.ticket = ticket
        return answer

    def low_confidence(self) -> Answer | None:
        """Nothing retrieved, or nothing close enough to the question: abstain."""
        if self.passages and self.confidence >= self.settings.min_retrieval_score:
            return None
        return self.finish(ABSTAIN_TEXT, [], "low_retrieval_confidence", "abstained")

    def select(self) -> Selection:
        """Score the units of the top passages; record the top units in the diagnostics and trace."""
        s, selector, snapshot = self.settings, self.parts.selector, self.parts.snapshot
        passages = passages_to_read(self.searched, self.passages, s.selector_passages, snapshot.titles)
        self.result.passages = passages[: s.top_k]  # a code list retrieved lower (deeper) is read too
        top = self.passages[: s.selector_passages]
        with self.tracer.span("select", passages=len(top)) as attributes:
            scored = [(p.chunk.text, p.chunk.context_line, p.dense_score) for p in top]
            selection = selector.select(
                self.searched,
                self.query_vector,
                scored,
                snapshot.lexical,
                snapshot.titles,
                snapshot.unit_vectors,
            )
            if s.selector_threshold is not None:
                selection = Selection(selection.ranked, s.selector_threshold, selection.elapsed_ms)
            best = selection.best
            attributes.update(
                units=len(selection.ranked),
                best=round(best.probability, 4) if best else None,
                threshold=round(selection.threshold, 4),
                answers=selection.answers,
            )
        self.timings["select_ms"] = selection.elapsed_ms
        self.versions["selector"] = selector.version
        self.diagnostics["units"] = [
            {**u.to_dict(), "chunk_id": top[u.passage_index].chunk.chunk_id} for u in selection.ranked[:5]
        ]
        self.diagnostics["selector_threshold"] = round(selection.threshold, 4)
        return selection
