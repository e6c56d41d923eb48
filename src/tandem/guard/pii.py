"""Find and mask personal data in text: emails, phones, payment cards, IBANs, national ids, addresses.

Precision comes first, because a redacted order number or amount makes a question unanswerable:
card numbers must pass the Luhn check, IBANs the ISO 13616 mod-97 check and their country's length,
national ids their own check rules, and phone numbers need a phone-like shape (or a word such as
"call" nearby) with 7 to 15 digits. Dates, amounts and numbers labelled as orders or invoices are
left alone.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from tandem.errors import InputError
from tandem.guard.normalise import coerce_text

# Kinds in priority order: when two matches overlap, the earlier kind wins.
PII_KINDS = ("email", "iban", "card", "national_id", "phone", "address")


@dataclass(frozen=True)
class PiiMatch:
    kind: str
    start: int
    end: int
    text: str

    @property
    def placeholder(self) -> str:
        return f"[{self.kind.upper()}]"


_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![\w-])"
)


def _emails(text: str) -> Iterator[PiiMatch]:
    for m in _EMAIL.finditer(text):
        yield PiiMatch("email", m.start(), m.end(), m.group())


# --- payment cards -----------------------------------------------------------------------------

_CARD = re.compile(r"(?<![\w+.,-])\d(?:[ -]?\d){12,18}(?![\w-]|[.,]\d)")
_CARD_GROUPINGS = {(4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 4, 3), (4, 4, 4, 4, 2)}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum used by payment cards: doubling every second digit from the right."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_shaped(candidate: str) -> bool:
    groups = re.split(r"[ -]", candidate)
    if len(groups) > 1:
        if len(set(re.findall(r"[ -]", candidate))) > 1:  # mixed separators: not how cards are written
            return False
        if tuple(len(g) for g in groups) not in _CARD_GROUPINGS:
            return False
    digits = "".join(groups)
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)


def _cards(text: str) -> Iterator[PiiMatch]:
    for m in _CARD.finditer(text):
        if _card_shaped(m.group()):
            yield PiiMatch("card", m.start(), m.end(), m.group())


# --- IBANs -------------------------------------------------------------------------------------

# Lengths from the ISO 13616 registry for the countries customers most often write from.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", re.IGNORECASE)


def iban_valid(iban: str) -> bool:
    """ISO 13616: the country's length, and the number read as digits (A=10...) is 1 modulo 97."""
    compact = iban.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _ibans(text: str) -> Iterator[PiiMatch]:
    for m in _IBAN.finditer(text):
        expected = IBAN_LENGTHS.get(m.group()[:2].upper())
        if expected is None:
            continue
        # The pattern may run on into a following word ("... 7034 from"): cut at the country's
        # length, and only where a group ends, so "DE89...00" followed by "ABCD" is not stretched.
        count, end = 0, m.start()
        for end in range(m.start(), m.end()):
            count += text[end] != " "
            if count == expected:
                break
        end += 1
        if count == expected and (end == m.end() or text[end] == " ") and iban_valid(text[m.start() : end]):
            yield PiiMatch("iban", m.start(), end, text[m.start() : end])


# --- national ids ------------------------------------------------------------------------------

_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")
_SSN_CONTEXT = re.compile(r"\b(?:ssn|social\s+security)\b", re.IGNORECASE)
_NINO = re.compile(
    r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    re.IGNORECASE,
)
_DNI = re.compile(r"\b(?:\d{8}|[XYZ]-?\d{7})-?[A-Z]\b", re.IGNORECASE)
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _dni_valid(candidate: str) -> bool:
    """Spanish DNI and NIE: the final letter is a checksum of the number modulo 23."""
    compact = candidate.replace("-", "").upper()
    number = compact[:-1].replace("X", "0").replace("Y", "1").replace("Z", "2")
    return _DNI_LETTERS[int(number) % 23] == compact[-1]


def _national_ids(text: str) -> Iterator[PiiMatch]:
    for m in _SSN.finditer(text):
        if m.group(1) == "-" or _SSN_CONTEXT.search(text, max(0, m.start() - 40), m.start()):
            yield PiiMatch("national_id", m.start(), m.end(), m.group())
    for m in _NINO.finditer(text):
        yield PiiMatch("national_id", m.start(), m.end(), m.group())
    for m in _DNI.finditer(text):
        if _dni_valid(m.group()):
            yield PiiMatch("national_id", m.start(), m.end(), m.group())


# --- phone numbers -----------------------------------------------------------------------------

_SHAPED_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){1,6}(?![\w-]|[.,]\d)"  # +44 20..
    r"|(?<![\w)])\(\d{2,5}\)[ .-]?\d{3,4}[ .-]?\d{3,4}(?![\w-]|[.,]\d)"  # (555) 123-4567
    r"|(?<![\w.+-])\d{3}([.-])\d{3}\1\d{4}(?![\w-]|[.,]\d)"  # 555-123-4567
    r"|(?<![\w.+-])\d{3} \d{3} \d{4}(?![\w-]|[.,]\d)"  # 555 123 4567
    r"|(?<![\w.+/-])0[1-9]\d{0,3}(?:[ .-]\d{2,8}){1,4}(?![\w-]|[.,]\d)"  # 020 7946 0958, 06 12 34 56 78
)
_BARE_DIGITS = re.compile(r"(?<![\w.+/#$€£-])\d(?:[ .-]?\d){6,14}(?![\w-]|[.,]\d)")
_PHONE_WORDS = re.compile(
    r"\b(?:call(?:ed|ing)?|phone|tel|telephone|mobile|cell(?:phone)?|landline|whats\s?app|text\s+me|sms|"
    r"reach\s+me|ring\s+me|fax)\b",
    re.IGNORECASE,
)
_NOT_PHONE_WORDS = re.compile(
    r"\b(?:order|invoice|ref(?:erence)?|tracking|ticket|case|serial|account|acct|transaction|customer|"
    r"membership|policy|sku|parcel|iban|sort\s+code|card|id|no\.?|#)\s*(?:number|no\.?|#|id)?\s*"
    r"(?:is|was|=)?\s*[:#]?\s*$",
    re.IGNORECASE,
)
_DATE_LIKE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")


def _digit_count(candidate: str) -> int:
    return sum(ch.isdigit() for ch in candidate)


def _phones(text: str) -> Iterator[PiiMatch]:
    def labelled_otherwise(start: int) -> bool:
        return bool(_NOT_PHONE_WORDS.search(text[max(0, start - 30) : start]))

    for m in _SHAPED_PHONE.finditer(text):
        candidate = m.group()
        international = candidate.startswith(("+", "00"))
        if not 7 <= _digit_count(candidate) <= 15 or _DATE_LIKE.fullmatch(candidate):
            continue
        if not international and (_digit_count(candidate) < 9 or labelled_otherwise(m.start())):
            continue
        yield PiiMatch("phone", m.start(), m.end(), candidate)
    for m in _BARE_DIGITS.finditer(text):
        candidate = m.group()
        if _DATE_LIKE.fullmatch(candidate) or labelled_otherwise(m.start()):
            continue
        if _PHONE_WORDS.search(text, max(0, m.start() - 40), m.start()):
            yield PiiMatch("phone", m.start(), m.end(), candidate)


# --- street addresses --------------------------------------------------------------------------

_STREET_TYPES = (  # full words, then abbreviations, which may carry a full stop
    r"(?:street|avenue|road|lane|boulevard|drive|court|place|terrace|way|close|crescent|parkway|highway|"
    r"square|circle|trail|row|grove|gardens|walk|mews)\b"
    r"|(?:st|ave|rd|ln|blvd|dr|ct|pl|pkwy|hwy|sq|cir)\b\.?"
)
_UNIT = r"(?:,?\s+(?i:apt|apartment|suite|ste|unit|flat|floor|fl|room|#)\.?\s*#?[A-Za-z0-9-]{1,6}\b)?"
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}})?,?\s+(?:[A-Z][A-Za-z'.-]*\s+){{1,4}}(?i:{_STREET_TYPES})"
    rf"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?{_UNIT}"
    r"|\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|allee|platz)\s+\d{1,4}[a-z]?\b"
    r"|\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|boulevard|bd|chemin|allée|impasse|quai)\s+"
    r"(?:(?:de|du|des|la|le|l'|d')\s*)*[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,3}"
    r"|\b(?i:calle|avenida|avda\.|paseo|plaza)\s+(?:(?:de|del|la|los|las)\s+)*[A-Z][\w'-]+"
    r"(?:\s+[A-Z][\w'-]+){0,2},?\s+\d{1,4}\b"
)


def _addresses(text: str) -> Iterator[PiiMatch]:
    for m in _ADDRESS.finditer(text):
        yield PiiMatch("address", m.start(), m.end(), m.group())


_DETECTORS: dict[str, Callable[[str], Iterator[PiiMatch]]] = {
    "email": _emails,
    "iban": _ibans,
    "card": _cards,
    "national_id": _national_ids,
    "phone": _phones,
    "address": _addresses,
}


def _chosen_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return PII_KINDS
    chosen = set(kinds)
    unknown = chosen - set(PII_KINDS)
    if unknown:
        raise InputError(f"unknown PII kind(s) {sorted(unknown)}; choose from {', '.join(PII_KINDS)}")
    return tuple(kind for kind in PII_KINDS if kind in chosen)


def find_pii(text: str, kinds: Iterable[str] | None = None) -> list[PiiMatch]:
    """Non-overlapping personal data in `text`, in order; where matches overlap, the kind listed
    first in PII_KINDS wins (an IBAN is not also a phone number).

    >>> [(m.kind, m.text) for m in find_pii("Mail jo@example.com or call 020 7946 0958.")]
    [('email', 'jo@example.com'), ('phone', '020 7946 0958')]
    """
    text = coerce_text(text)
    taken: list[PiiMatch] = []  # kept sorted by start, so each overlap test looks at two neighbours
    starts: list[int] = []
    for kind in _chosen_kinds(kinds):
        for match in _DETECTORS[kind](text):
            i = bisect.bisect_left(starts, match.start)
            if (i == 0 or taken[i - 1].end <= match.start) and (i == len(taken) or match.end <= starts[i]):
                taken.insert(i, match)
                starts.insert(i, match.start)
    return taken


def redact_pii(text: str, kinds: Iterable[str] | None = None) -> tuple[str, list[PiiMatch]]:
    """`text` with each match replaced by its placeholder ([EMAIL], [PHONE], [CARD], [IBAN],
    [NATIONAL_ID], [ADDRESS]), and the matches, whose offsets refer to the original text.

    >>> redact_pii("Card 4111 1111 1111 1111, order #123456.")[0]
    'Card [CARD], order #123456.'
    """
    text = coerce_text(text)
    matches = find_pii(text, kinds)
    pieces: list[str] = []
    cursor = 0
    for match in matches:
        pieces.append(text[cursor : match.start])
        pieces.append(match.placeholder)
        cursor = match.end
    pieces.append(text[cursor:])
    return "".join(pieces), matches


def mask_pii(text: str) -> str:
    """`text` with every kind of personal data replaced by its placeholder (see `redact_pii`)."""
    return redact_pii(text)[0]
