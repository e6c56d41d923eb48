"""Requests for a person found by meaning: wordings no pattern knows, and look-alikes left alone."""

from __future__ import annotations

import pytest

from tandem.converse.escalation import asks_for_person, escalate
from tandem.converse.person_request import PersonRequestDetector
from tandem.route.config import HUMAN_REQUEST_PATTERNS, ConversationPolicy

UNPATTERNED_REQUESTS = [  # no pattern matches these (the first from bench/data/person_requests_dev.jsonl)
    "Can your service team ring me this afternoon?",
    "A call from your team would help me more than this chat.",
    "Hook me up with an agent please",
]
LOOK_ALIKES = [
    "What's the best way to reach your support team?",
    "Can someone else pick up the bike for me?",
    "No thanks, I don't want to talk to anyone, just tell me the charge time.",
    "Is the chat answered by people or by a bot?",
    "How long does the PowerPack 500 take to charge?",
]


@pytest.fixture(scope="module")
def detector(encoder) -> PersonRequestDetector:
    return PersonRequestDetector(encoder)


@pytest.mark.parametrize("message", UNPATTERNED_REQUESTS)
def test_an_unpatterned_request_is_found_by_meaning(detector: PersonRequestDetector, message: str) -> None:
    assert not asks_for_person(message, HUMAN_REQUEST_PATTERNS)
    assert detector.asks(message, HUMAN_REQUEST_PATTERNS)


@pytest.mark.parametrize("message", LOOK_ALIKES)
def test_look_alikes_are_not_requests(detector: PersonRequestDetector, message: str) -> None:
    assert not detector.asks(message, HUMAN_REQUEST_PATTERNS)


def test_patterns_still_decide_first_and_a_threshold_above_one_turns_meaning_off(encoder) -> None:
    off = PersonRequestDetector(encoder, threshold=1.01)
    assert off.asks("can i talk to a real person pls", HUMAN_REQUEST_PATTERNS)
    assert not off.asks(UNPATTERNED_REQUESTS[0], HUMAN_REQUEST_PATTERNS)


def test_escalate_hands_off_on_a_request_found_by_meaning(detector: PersonRequestDetector) -> None:
    policy = ConversationPolicy(human_request_action="handoff:support")
    found = escalate(policy, [], UNPATTERNED_REQUESTS[1], None, asks=detector.asks)
    assert found is not None and found.action == "handoff:support"
    assert escalate(policy, [], UNPATTERNED_REQUESTS[1], None) is None  # patterns alone miss it
