"""The support judge: the encoder checks what the decoder wrote."""

from __future__ import annotations

from tandem.verify.support import SupportJudge, restates, strip_citation_marks, strip_lead_in

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


def test_draft_verifier_drops_a_planted_unsupported_sentence(make_tandem) -> None:
    from tandem.verify.draft import DraftVerifier

    from .conftest import DATA

    bot = make_tandem()
    bot.ingest([DATA / "kb"])
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
