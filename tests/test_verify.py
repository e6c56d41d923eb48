"""The support judge: the encoder checks what the decoder wrote."""

from __future__ import annotations

from tandem.documents.text_utils import split_sentences
from tandem.verify.support import (
    SupportJudge,
    quote_around,
    restates,
    strip_citation_marks,
    strip_lead_in,
)

PASSAGES = [
    "Refunds are paid to the original payment method within 14 days after the bike arrives.",
    "A full charge of the PowerPack takes 4 hours with the standard 4 A charger.",
]


def test_supported_sentence_scores_high_on_its_passage_only(encoder) -> None:
    (row,) = SupportJudge(encoder).judge(["The refund is paid within 14 days."], PASSAGES)
    assert row[0].score > 0.6 > row[1].score
    assert row[0].numbers_ok and not row[1].numbers_ok


def test_invented_number_halves_support(encoder) -> None:
    judge = SupportJudge(encoder)
    right, wrong = judge.judge(["Charging takes 4 hours.", "Charging takes 9 hours."], PASSAGES)
    assert not wrong[1].numbers_ok and right[1].numbers_ok
    assert wrong[1].score < right[1].score / 1.5


def test_echo_and_filler_are_recognised() -> None:
    assert restates("You want to know how long refunds take.", "How long do refunds take?")
    assert not restates("Refunds take 14 days.", "How long do refunds take?")
    assert strip_lead_in("The answer is: 14 days.") == "14 days."
    assert strip_citation_marks("Refunds take 14 days [1] [2].") == ("Refunds take 14 days.", [1, 2])


def test_draft_verifier_drops_a_planted_unsupported_sentence(kb_tandem) -> None:
    from tandem.verify.draft import DraftVerifier

    bot = kb_tandem()
    question = "What does error E04 mean?"
    result = bot.retriever().search(question, 5)
    top = result.passages[0]
    prepared = SupportJudge(bot.encoder).prepare([top.chunk.text])
    verifier = DraftVerifier(
        question, result.query_vector, prepared, result.passages, bot.encoder, bot.settings
    )
    supported = next(s for s in top.chunk.text.split(". ") if "E04" in s) + "."
    kept = verifier.check(supported)
    assert kept is not None and kept.endswith("[1]")
    assert verifier.check("Our headquarters moved to Lisbon in 1987 and employ 4,000 people.") is None
    assert [c.chunk_id for c in verifier.citations] == [top.chunk.chunk_id]


def test_a_harmful_instruction_is_dropped_however_close_it_is(kb_tandem) -> None:
    """The probe's sentence: close to a password-reset passage, and telling the user to email the
    password. Credentials, payments and contacts the passage lacks never pass verification."""
    from tandem.verify.draft import DraftVerifier

    bot = kb_tandem()
    question = "Should I email my password to support to reset it?"
    result = bot.retriever().search(question, 5)
    prepared = SupportJudge(bot.encoder).prepare([p.chunk.text for p in result.passages])
    verifier = DraftVerifier(
        question, result.query_vector, prepared, result.passages, bot.encoder, bot.settings
    )
    harmful = [
        "Yes, you should email your password to support so they can reset it.",
        "Send your card number and PIN to billing@refunds-now.example to get the refund.",
        "Pay the 20 EUR release fee by bank transfer to receive your refund.",
        "Visit refunds-now.example to request your refund.",
    ]
    for sentence in harmful:
        assert verifier.check(sentence) is None, sentence
    rejected = [entry.get("rejected") for entry in verifier.log]
    assert all(reason for reason in rejected), verifier.log
    assert {"asks for a credential", "names a contact the passage does not"} <= set(rejected)


def test_harmful_instruction_rules() -> None:
    from tandem.verify.harm import harmful_instruction

    passage = "Reset your password in the app. We never ask for your password. Mail help@shop.example."
    assert harmful_instruction("Reply with your one-time code.", passage) == "asks for a credential"
    assert harmful_instruction("We never ask for your password.", passage) == ""
    assert harmful_instruction("Write to help@shop.example.", passage) == ""
    assert (
        harmful_instruction("Write to help@sh0p.example.", passage) == "names a contact the passage does not"
    )
    assert harmful_instruction("Call 0900 999 999.", passage) == "names a contact the passage does not"
    assert harmful_instruction("Wire the money today.", passage).startswith("tells the user to pay")
    assert (
        harmful_instruction("Refunds are paid by bank transfer.", "Refunds go back by bank transfer.") == ""
    )


BREACHES = (
    "Depending on how serious the breach is, we may:\n\n1. send a warning,\n"
    "2. suspend the account for 7 days, or\n3. close the account permanently.\n\n"
    "Serious breaches lead to immediate closure."
)


def quote(text: str, piece: str) -> str:
    pieces = split_sentences(text)
    return quote_around(pieces, pieces.index(piece), text)


def test_numbered_list_items_stay_whole_sentences() -> None:
    assert split_sentences("Steps:\n1. Open the app. Choose Sharing.\n12. Done.") == [
        "Steps:", "1. Open the app.", "Choose Sharing.", "12. Done.",
    ]  # fmt: skip
    assert split_sentences("It costs EUR 9. Then pay 2. More.") == ["It costs EUR 9.", "Then pay 2.", "More."]


def test_a_list_item_is_quoted_with_its_lead_in_and_siblings() -> None:
    whole = (
        "Depending on how serious the breach is, we may: send a warning, suspend the account for "
        "7 days, or close the account permanently."
    )
    assert quote(BREACHES, "3. close the account permanently.") == whole
    assert quote(BREACHES, "Depending on how serious the breach is, we may:") == whole
    assert quote(BREACHES, "Serious breaches lead to immediate closure.") == (
        "Serious breaches lead to immediate closure."
    )
    specs = "Key specifications\n- **Motor:** 250 W mid-drive\n- **Maximum total load:** 135 kg"
    assert quote(specs, "- **Maximum total load:** 135 kg") == "Maximum total load: 135 kg"  # no lead-in
    items = [f"- item {i}, with a long description of what it is" for i in range(12)]
    long_list = "Specs:\n" + "\n".join(items)
    assert quote(long_list, "- item 3, with a long description of what it is") == (
        "item 3, with a long description of what it is"
    )


def test_a_question_heading_is_answered_by_what_follows_it() -> None:
    text = "Forgot your password?\nGo to the sign-in page and choose Reset password. We email a link."
    assert quote(text, "Forgot your password?") == "Go to the sign-in page and choose Reset password."
