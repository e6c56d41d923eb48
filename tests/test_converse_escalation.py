"""Conversation-level routing rules (no model): asking for a person, persisting labels, unanswered."""

from __future__ import annotations

import pytest

from tandem.converse.escalation import EarlierTurn, asks_for_person, escalate
from tandem.errors import ConfigError
from tandem.route.config import HUMAN_REQUEST_PATTERNS, ConversationPolicy, RouterConfig
from tandem.route.policy import LabelPrediction, RoutingDecision


@pytest.mark.parametrize(
    "message",
    [
        "I'd rather talk to a human about this, please.",
        "can I just speak to an agent, this is taking forever",
        "ok can i talk to a real person pls",
        "Please put me through to a human agent.",
        "Get me a manager NOW.",
        "I want a human",
        "I would prefer one of your staff to check the claim",
        "please hand me over to a colleague",
        "Could somebody from your team call me tomorrow?",
        "human pls",
        "Kann ich bitte mit einem Mitarbeiter sprechen?",
        "Kann ich bitte mit einer echten Person sprechen?",
        "Not a chatbot.",
        "I don't want to talk to a bot",
        "ok then please have somebody ring me today",
        "I'd like to talk this through with someone from your team",
        "Können Sie mich bitte mit einem Mitarbeiter verbinden?",
        "could one of your colleagues switch it to harbour blue for me please",
        "Is there someone I could deal with directly about this?",
        "Let me talk to your boss.",
        "Please escalate me to a team leader.",
        "Could an agent take over this chat?",
        "Is there an actual person I could speak to about this?",
        "Get a supervisor to look into this please.",
        "I insist on speaking to a manager.",
        "Kann ich bitte jemanden sprechen?",
        "no offence, but is there anyone with an actual heartbeat on your end I could swap messages with?",
        "Is there somebody at Pedalwise with actual authority over this I could put it to?",
    ],
)
def test_requests_for_a_person(message: str) -> None:
    assert asks_for_person(message, HUMAN_REQUEST_PATTERNS)


@pytest.mark.parametrize(
    "message",
    [
        "not asking for a human, just a quick question: do you take Apple Pay?",
        "If I ever need to reach a real person, what are your phone hours?",
        "Can another person ride my bike?",
        "How do I talk to the app over bluetooth?",
        "What are the opening hours of your phone line?",
        "I don't need to speak to anyone, just tell me the price.",
        "The delivery person left a card in my letterbox.",
        "The chatbot told me to restart the bike, is that right?",
        "Is the bike not a robot-assembled one?",
        "I will have someone at home to receive the delivery.",
        "Will a colleague of mine be able to ride it?",
        "Could someone steal the battery if I leave it on the bike?",
        "Is there someone who can deliver on a Saturday?",
        "Do your mechanics do home visits?",
        "Can a mechanic at a partner workshop fit the rack for me?",
        "How do I contact your support team by email?",
        "My wife would like to speak to you about her order.",
        "Does the heart-rate sensor pick up my pulse while riding?",
        "Who has the authority to approve a warranty claim?",
    ],
)
def test_questions_that_are_not_requests_for_a_person(message: str) -> None:
    assert not asks_for_person(message, HUMAN_REQUEST_PATTERNS)


def decision(action: str = "answer", **labels: str) -> RoutingDecision:
    predictions = {k: LabelPrediction(k, v, 0.9, "zero-shot") for k, v in labels.items()}
    return RoutingDecision(action, predictions)


POLICY = ConversationPolicy.model_validate(
    {
        "human_request_action": "handoff:support",
        "unanswered_turns": 2,
        "rules": [{"when": {"intent": ["complaint"]}, "turns": 2, "action": "handoff:priority"}],
    }
)


def test_a_request_for_a_person_hands_off() -> None:
    found = escalate(POLICY, [EarlierTurn("Where is my order?")], "let me speak to someone", decision())
    assert found is not None and found.action == "handoff:support" and found.turns == [2]


def test_frustration_that_persists_hands_off_when_it_comes_back() -> None:
    earlier = [
        EarlierTurn("This is a joke", {"intent": "complaint"}),
        EarlierTurn("Where is it?", {"intent": "order"}),
    ]
    found = escalate(POLICY, earlier, "Useless company", decision(intent="complaint"))
    assert found is not None and found.action == "handoff:priority" and found.turns == [1, 3]
    assert "2 turns with intent in ['complaint']" in found.reason
    assert escalate(POLICY, earlier, "When does it ship?", decision(intent="order")) is None
    assert escalate(POLICY, earlier[1:], "Useless company", decision(intent="complaint")) is None


def test_repeated_unanswered_questions_hand_off_once_this_one_is_unanswered_too() -> None:
    earlier = [EarlierTurn("What is the warranty on tyres?", answered=False)]
    assert escalate(POLICY, earlier, "And on the saddle?", decision(), abstained=None) is None
    found = escalate(POLICY, earlier, "And on the saddle?", decision(), abstained=True)
    assert found is not None and found.action == "handoff:support" and found.turns == [1, 2]


def test_the_unanswered_rule_can_flag_with_an_offer_instead_of_handing_off() -> None:
    offer = POLICY.model_copy(
        update={"unanswered_action": "answer_and_flag", "unanswered_message": "Write 'person' for one."}
    )
    earlier = [EarlierTurn("What is the warranty on tyres?", answered=False)]
    found = escalate(offer, earlier, "And on the saddle?", decision(), abstained=True)
    assert found is not None and found.action == "answer_and_flag"
    assert found.message == "Write 'person' for one." and found.turns == [1, 2]


def test_a_rule_from_a_later_turn_waits_for_that_turn() -> None:
    late = ConversationPolicy.model_validate(
        {"rules": [{"when": {"fed_up": ["yes"]}, "turns": 1, "from_turn": 3, "action": "handoff:priority"}]}
    )
    earlier = [EarlierTurn("Where is my order?", {"fed_up": "no"})]
    assert escalate(late, earlier, "this is useless", decision(fed_up="yes")) is None  # turn 2
    earlier.append(EarlierTurn("Still nothing?", {"fed_up": "no"}))
    found = escalate(late, earlier, "this is useless", decision(fed_up="yes"))  # turn 3
    assert found is not None and found.action == "handoff:priority" and found.turns == [3]


def test_the_window_limits_what_counts() -> None:
    narrow = POLICY.model_copy(update={"window": 2})
    earlier = [EarlierTurn("bad", {"intent": "complaint"}), EarlierTurn("ok", {"intent": "order"})]
    assert escalate(narrow, earlier, "awful", decision(intent="complaint")) is None


def test_conversation_rules_are_checked_against_the_label_sets() -> None:
    config = {
        "label_sets": {"intent": {"labels": [{"name": "complaint"}, {"name": "question"}]}},
        "conversation": {"rules": [{"when": {"intent": ["angry"]}, "action": "handoff:x"}]},
    }
    with pytest.raises(ConfigError, match="conversation rule 1 uses unknown label 'angry'"):
        RouterConfig.from_dict(config)
    config["conversation"] = {"human_request_patterns": ["(unclosed"]}
    with pytest.raises(ConfigError, match="not a valid regex"):
        RouterConfig.from_dict(config)
