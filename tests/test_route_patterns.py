"""Label sets matched on the words: incidents told (not asked about), with negations and
hypothetical questions left out; their config, and the demo router's use of them."""

from __future__ import annotations

import pytest

from tandem.errors import ConfigError, InputError
from tandem.route import artefact
from tandem.route.config import RouterConfig
from tandem.route.patterns import PatternClassifier
from tandem.route.router import Router

from .test_route import EXAMPLE_ROUTER

INCIDENT = PatternClassifier([r"\bmelt(ed|ing)?\b", r"\b(caught|on)\s+fire\b", r"\bswollen\b"])


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("It actually melted a bit last night.", "melted"),
        ("The battery is swollen, what should I do?", "swollen"),
        ("my charger caught fire!!", "caught fire"),
        ("Nothing melted, it just smells new.", None),  # negated
        ("The case is not swollen at all.", None),
        ("What should I do if the battery is swollen?", None),  # a hypothetical question
        ("Can a battery catch fire or melt in the sun?", None),
        ("Is the charger supposed to get warm?", None),  # no pattern
    ],
)
def test_incidents_told_match_and_questions_about_them_do_not(message: str, expected: str | None) -> None:
    assert INCIDENT.matched(message) == expected
    yes = INCIDENT.probabilities([message])[0][0]
    assert yes == (1.0 if expected else 0.0)


def test_a_label_set_has_labels_or_patterns_and_patterns_must_compile() -> None:
    with pytest.raises(ConfigError, match="either labels or patterns"):
        RouterConfig.parse_toml(
            '[label_sets.x]\npatterns = ["a"]\nlabels = [{ name = "a" }, { name = "b" }]\n', "r.toml"
        )
    with pytest.raises(ConfigError, match=r"r.toml, line 2: patterns: '\(unclosed' is not a valid regex"):
        RouterConfig.parse_toml("[label_sets.x]\npatterns = ['(unclosed']\n", "r.toml")
    with pytest.raises(ConfigError, match="unknown label 'maybe'"):
        RouterConfig.parse_toml(
            "[label_sets.x]\npatterns = ['fire']\n[[policy.rules]]\n"
            'when = { x = ["maybe"] }\naction = "handoff:safety"\n'
        )


def test_written_config_keeps_patterns_and_the_conversation_section() -> None:
    config = RouterConfig.load(EXAMPLE_ROUTER)
    again = RouterConfig.parse_toml(artefact.config_toml(config), "written")
    assert again.label_sets["incident"].patterns == config.label_sets["incident"].patterns
    assert again.conversation == config.conversation and again.policy == config.policy


def test_a_pattern_label_set_cannot_be_trained(tmp_path) -> None:
    from tandem.route.data import LabelledData
    from tandem.route.router import train_router

    data = LabelledData(["my charger melted", "how do I pair"], ["yes", "no"])
    with pytest.raises(InputError, match="matched by patterns"):
        train_router(data, tmp_path / "router", "incident", None, EXAMPLE_ROUTER.read_text())


def test_demo_router_hands_off_reported_incidents_not_questions_on_their_topic(encoder) -> None:
    router = Router.from_config(EXAMPLE_ROUTER, encoder)
    reported = router.classify("It says 2352. It actually melted a bit last night and smelled of burning.")
    assert reported.action == "handoff:safety" and reported.predictions["incident"].method == "patterns"
    assert "incident=yes (1.00, 'melted')" in reported.reasons[0]  # the words that made it a handoff
    asked = router.classify("What brake pads does the Trail T5 use?")
    assert asked.action == "answer" and asked.predictions["incident"].label == "no"
    threat = router.classify("If it's not here by Friday I'm doing a chargeback with my bank.")
    assert threat.action == "handoff:legal"
    toppled = router.classify("The bike toppled over onto my son on the stand, he needed stitches.")
    assert toppled.action == "handoff:safety"
    app = router.classify("the app crashed again when I opened the map")
    assert app.predictions["incident"].label == "no"


@pytest.mark.parametrize(
    ("message", "action"),
    [
        ("I lost my job last week, there are still 3 payments left and I don't know how I'm going to manage",
         "handoff:support"),
        ("The double payment put me into my overdraft and rent goes out tomorrow.", "handoff:support"),
        ("What happens if I can't pay an instalment to Fairpay?", "answer"),  # asked, not told
        ("went over the front going downhill and now my collarbone is in pieces", "handoff:safety"),
        ("the driver keeps messaging me, asking where I work and whether I live alone", "handoff:safety"),
        ("my wife has been harassing me for months to get the cargo bike, how many kids fit?", "answer"),
        ("my login email was changed to an address I've never seen", "handoff:security"),
        ("Two payments of 4,690 to you on my statement and I don't even have an account", "handoff:security"),
        ("last one: which authority would I complain to about data protection?", "answer"),  # how things work
        ("I will complain to the data protection authority about this.", "handoff:legal"),
    ],
)  # fmt: skip
def test_demo_router_hands_off_situations_told_not_questions_about_them(
    demo_router: Router, message: str, action: str
) -> None:
    got = demo_router.classify(message).action
    assert got == action or (action == "answer" and got == "answer_and_flag")  # flagged is still answered


@pytest.fixture(scope="module")
def demo_router(encoder) -> Router:
    return Router.from_config(EXAMPLE_ROUTER, encoder)
