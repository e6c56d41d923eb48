"""Personal data in answers must come from the question or the sources."""

from __future__ import annotations

from tandem.guard.output_guard import redact_unsourced_pii


def test_invented_contact_details_are_masked() -> None:
    answer = "Call us on +44 20 7946 0958 or write to help@pedalwise.example. [1]"
    sources = ["How do I contact support?", "Email help@pedalwise.example."]
    text, masked = redact_unsourced_pii(answer, sources)
    assert "help@pedalwise.example" in text  # it is in the passage
    assert "+44 20 7946 0958" not in text and "[PHONE]" in text
    assert [m.kind for m in masked] == ["phone"]


def test_pii_from_the_question_or_source_is_kept_even_when_spaced_differently() -> None:
    answer = "Your card 4111-1111-1111-1111 will be refunded. [1]"
    text, masked = redact_unsourced_pii(answer, ["My card 4111 1111 1111 1111 was charged twice", ""])
    assert text == answer and masked == []
