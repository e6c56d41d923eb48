"""PII detection and redaction: each kind found and masked, checksums enforced, look-alikes left alone."""

from __future__ import annotations

import itertools
import time

import pytest

from tandem.errors import InputError
from tandem.guard import PII_KINDS, find_pii, redact_pii
from tandem.guard.pii import iban_valid, luhn_valid


def kinds_found(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.text) for m in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Write to jane.doe+bikes@example.co.uk today", "email", "jane.doe+bikes@example.co.uk"),
        ("Call me on +44 20 7946 0958 after six", "phone", "+44 20 7946 0958"),
        ("My number is +1 (555) 010-0199.", "phone", "+1 (555) 010-0199"),
        ("Ring (555) 123-4567 please", "phone", "(555) 123-4567"),
        ("US line 555-123-4567 or so", "phone", "555-123-4567"),
        ("Office: 020 7946 0958.", "phone", "020 7946 0958"),
        ("Mobile 07911 123456", "phone", "07911 123456"),
        ("Appelez le 06 12 34 56 78 svp", "phone", "06 12 34 56 78"),
        ("Festnetz 030 12345678", "phone", "030 12345678"),
        ("Handy +49 151 23456789", "phone", "+49 151 23456789"),
        ("you can call me at 5551234567", "phone", "5551234567"),
        ("Card 4111 1111 1111 1111 was charged", "card", "4111 1111 1111 1111"),
        ("Use 5555555555554444 instead", "card", "5555555555554444"),
        ("Dashed 4012-8888-8888-1881 too", "card", "4012-8888-8888-1881"),
        ("Amex 3782 822463 10005 here", "card", "3782 822463 10005"),
        ("IBAN GB82 WEST 1234 5698 7654 32 thanks", "iban", "GB82 WEST 1234 5698 7654 32"),
        ("Pay to DE89370400440532013000.", "iban", "DE89370400440532013000"),
        ("BE68 5390 0754 7034 from my bank", "iban", "BE68 5390 0754 7034"),
        ("lower case fr14 2004 1010 0505 0001 3m02 606 works", "iban", "fr14 2004 1010 0505 0001 3m02 606"),
        ("My SSN is 123-45-6789.", "national_id", "123-45-6789"),
        ("social security 123 45 6789", "national_id", "123 45 6789"),
        ("NI number AB 12 34 56 C", "national_id", "AB 12 34 56 C"),
        ("DNI 12345678Z", "national_id", "12345678Z"),
        ("NIE X1234567L", "national_id", "X1234567L"),
        ("I live at 221B Baker Street, Flat 2 now", "address", "221B Baker Street, Flat 2"),
        ("Ship to 1600 Pennsylvania Ave NW, Suite 5", "address", "1600 Pennsylvania Ave NW, Suite 5"),
        ("Deliver to 42 Elm Rd.", "address", "42 Elm Rd."),
        ("Lieferung an Hauptstraße 5, Berlin", "address", "Hauptstraße 5"),
        ("Envoyez au 12 rue de Rivoli, Paris", "address", "12 rue de Rivoli"),
        ("Enviar a Calle Mayor 5, Madrid", "address", "Calle Mayor 5"),
    ],
)
def test_each_kind_is_found_and_redacted(text: str, kind: str, value: str) -> None:
    assert kinds_found(text) == [(kind, value)]
    redacted, matches = redact_pii(text)
    assert redacted == text.replace(value, f"[{kind.upper()}]")
    assert [text[m.start : m.end] for m in matches] == [value]


@pytest.mark.parametrize(
    "text",
    [
        "Card 4111 1111 1111 1112 was refused",  # fails Luhn
        "Number 1234 5678 9012 3456",  # fails Luhn
        "IBAN GB82 WEST 1234 5698 7654 33",  # fails mod 97
        "IBAN DE89370400440532013001",  # fails mod 97
        "GB82 WEST 1234 5698 7654",  # too short for GB
        "SSN 000-12-3456 and 666-12-3456 and 900-12-3456 and 123-00-4567",  # invalid SSN ranges
        "DNI 12345678A",  # wrong check letter
        "NI QQ 12 34 56 C",  # prefix not issued
    ],
)
def test_checksums_and_invalid_ranges_are_enforced(text: str) -> None:
    assert find_pii(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "I was charged 1234.56 on 2024-03-01",
        "order #123456",
        "my card ending in 4242",
        "order number 0123456789 and invoice 020 7946 0958",
        "Between 2019 2020 2021 I paid $1 234 567 in total.",
        "Open 10:30-11:45, closed 01.03.2024 and 03/01/2024.",
        "Tracking: 1Z999AA10123456784. Ref: 55821-A, Total 89.00 EUR",
        "I called on 2024-03-01 and again on 12/03/2024 at 14.30",
        "Version 2.13.0, build 20240301, serial SN-4455667788",
        "The bike weighs 23.5 kg and costs 2 499,00 EUR; 1,234,567 riders so far",
        "I have 2 Road Bikes and 3 Mountain bikes",
        "Our Spring 2024 catalogue",
        "ISBN 978-3-16-148410-0",
        "Call me about order 12345678 please",
        "Use code SPRING24 at checkout",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert find_pii(text) == []


def test_checksum_helpers() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("XX82 WEST 1234 5698 7654 32")


def test_matches_are_sorted_non_overlapping_and_typed() -> None:
    text = (
        "Mail jo@example.com, IBAN GB82 WEST 1234 5698 7654 32, call +44 20 7946 0958, "
        "card 4111 1111 1111 1111, SSN 123-45-6789, home 10 Downing Street."
    )
    redacted, matches = redact_pii(text)
    assert [m.kind for m in matches] == ["email", "iban", "phone", "card", "national_id", "address"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(matches))
    assert redacted == (
        "Mail [EMAIL], IBAN [IBAN], call [PHONE], card [CARD], SSN [NATIONAL_ID], home [ADDRESS]."
    )


def test_kinds_filter_and_unknown_kind() -> None:
    text = "jo@example.com or +44 20 7946 0958"
    assert redact_pii(text, kinds=["phone"])[0] == "jo@example.com or [PHONE]"
    assert set(PII_KINDS) == {"email", "phone", "card", "iban", "national_id", "address"}
    with pytest.raises(InputError, match="passport"):
        redact_pii(text, kinds=["passport"])


def test_an_iban_is_not_also_read_as_a_phone_or_card() -> None:
    assert kinds_found("NL91 ABNA 0417 1643 00") == [("iban", "NL91 ABNA 0417 1643 00")]


@pytest.mark.parametrize("odd", [None, b"jo@example.com", "\ud800", "", "+" * 1000, "@" * 1000])
def test_never_raises_on_odd_input(odd: object) -> None:
    redacted, matches = redact_pii(odd)  # type: ignore[arg-type]
    assert isinstance(redacted, str) and isinstance(matches, list)


def test_long_input_is_fast() -> None:
    text = ("Ring +44 20 7946 0958 about order 123456; card 4111 1111 1111 1111. " * 1500)[:100_000]
    start = time.perf_counter()
    redacted, matches = redact_pii(text)
    assert time.perf_counter() - start < 3.0
    assert len(matches) > 2000 and "4111" not in redacted and "123456" in redacted
