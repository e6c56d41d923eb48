"""Follow-up turns made standalone from the turns before them (pure rules, no model)."""

from __future__ import annotations

from tandem.converse.followup import names, resolve, says_enough


def test_ellipsis_with_a_new_name_asks_the_previous_question_about_it() -> None:
    resolution = resolve("And the Fold F1?", ["How much does the Trail T5 cost?"])
    assert resolution.question == "How much does the Fold F1 cost?"
    assert resolution.method == "substituted" and resolution.follow_up
    assert resolution.original == "And the Fold F1?"


def test_a_turn_that_points_back_is_searched_with_the_turn_before_it() -> None:
    resolution = resolve("how much does it cost?", ["Tell me about the Cargo K3"])
    assert resolution.method == "carried" and resolution.carried == ("Cargo K3",)
    assert resolution.question == "Cargo K3 how much does it cost?"  # the names and key words, not all of it
    earlier = ["Can another person ride my bike and use the app?"]
    joined = resolve("can they change the lock settings?", earlier)
    assert joined.question == "another person ride bike can they change the lock settings?"  # 4 longest
    lowercase = resolve(
        "and on the fold f1?", ["Is the max rider weight on the Trail T5 for the rider only?"]
    )
    assert lowercase.question == "Is the max rider weight on the fold f1 for the rider only?"


def test_a_short_turn_about_something_else_is_a_new_topic() -> None:
    def unrelated(a: str, b: str) -> float:
        return 0.05

    def close(a: str, b: str) -> float:
        return 0.5

    switched = resolve(
        "How do I reset my account password?", ["How long do refunds take?"], related=unrelated
    )
    assert switched.method == "standalone" and switched.question == "How do I reset my account password?"
    kept = resolve("Can I get my money back for it?", ["My order arrived with a broken frame"], related=close)
    assert kept.method == "carried" and "frame" in kept.question


def test_a_turn_that_names_its_own_subject_and_says_enough_stands_alone() -> None:
    turn = "Does the Trail T5 have front suspension for rough forest trails?"
    assert resolve(turn, ["How much is Care+?"]).method == "standalone"
    assert resolve("Is it waterproof?", []).method == "standalone"  # nothing before it


def test_names_are_product_codes_and_capitalised_words_inside_a_sentence() -> None:
    assert names("Tell me about the Cargo K3. Is Care+ good for the Fold F1?") == [
        "Cargo K3",
        "Care+",
        "Fold F1",
    ]


def test_a_new_name_in_a_turn_that_says_more_is_not_put_into_the_last_question() -> None:
    turn = "ok. can I add Care+ to the same financing?"
    resolution = resolve(turn, ["I live in Luxembourg, does that work for me?"])
    assert "I live in Care+" not in resolution.question
    assert resolution.method == "carried" and resolution.question.endswith(turn)
    assert (
        resolve("what about the C2 in size S?", ["Will the K3 fit a 158 cm rider?"]).method == "substituted"
    )


def test_names_are_whole_words_and_camel_case_product_names() -> None:
    assert names("How long should a PowerPack 500 take to charge?") == ["PowerPack 500"]
    assert names("I sent the money with PayPal") == ["PayPal"]  # not "Pay"


def test_a_turn_that_could_stand_alone_but_points_back_is_joined_to_the_previous_one() -> None:
    previous = "Can I spread the cost of a bike over monthly payments?"
    named = resolve("I live in Austria btw, is that a problem?", [previous])
    assert (
        named.method == "joined" and named.question == f"{previous} I live in Austria btw, is that a problem?"
    )

    def unrelated(a: str, b: str) -> float:
        return 0.05

    long_turn = "does that still apply if I use the bike for food deliveries a few nights a week?"
    assert resolve(long_turn, ["Is theft covered by Care+?"], related=unrelated).method == "joined"
    new_topic = "How do I update the firmware on my display unit?"  # points nowhere back
    assert resolve(new_topic, ["Is theft covered by Care+?"], related=unrelated).method == "standalone"


def test_a_follow_up_says_enough_to_be_read_as_asked_with_four_content_words() -> None:
    assert says_enough("how long should a full charge take?")
    assert not says_enough("is there a fee for that?")
    assert not says_enough("what about switzerland")
