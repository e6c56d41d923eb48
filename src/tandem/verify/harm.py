"""Instructions no verified sentence may carry unless its passage does: similarity is not enough.

A drafted sentence can sit close to a passage and still tell the user to do something harmful
("Yes, you should email your password to..."). Three kinds are refused here, before support is
even scored:

- asking the user to send or share a credential (password, PIN, card number, one-time code),
  whatever the passage says: a support answer never needs one;
- telling the user to pay or transfer money when the cited passage says nothing about paying;
- pointing the user to an email address, web address or phone number the cited passage does not
  contain.

>>> harmful_instruction("Yes, email your password to help@example.com.", "Reset it in the app.")
'asks for a credential'
>>> harmful_instruction("Never share your PIN with anyone.", "Never share your PIN with anyone.")
''
"""

from __future__ import annotations

import re

from tandem.guard.pii import find_pii

_CREDENTIAL = (
    r"(?:password|passcode|pass\s?word|pin(?:\s+(?:code|number))?|cvv|cvc|security\s+code|"
    r"one[-\s]time\s+(?:code|password)|verification\s+code|2fa\s+code|otp|login\s+details|"
    r"credentials|card\s+(?:number|details)|bank\s+details|account\s+number|seed\s+phrase|recovery\s+phrase)"
)
_HAND_OVER = (
    r"(?:send|e-?mail|text|message|give|share|provide|tell|reply\s+with|submit|post|upload|forward|"
    r"read\s+out|disclose)"
)
_ASKS_FOR_CREDENTIAL = re.compile(
    rf"\b{_HAND_OVER}\b(?:\W+\w+){{0,6}}?\W+{_CREDENTIAL}\b|\b{_CREDENTIAL}\b(?:\W+\w+){{0,3}}?\W+"
    rf"(?:to|with|by)\s+(?:us|me|our|the\s+(?:agent|support|team))",
    re.IGNORECASE,
)
_PAYS = re.compile(
    r"\b(?:pay|payment|transfer|wire|deposit|gift\s+cards?|bitcoin|crypto(?:currency)?|western\s+union|"
    r"send\s+(?:the\s+)?(?:money|funds|cash))\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:never|not|don'?t|do\s+not|no\s+one|nobody|won'?t|will\s+not)\b[^.;:]*$", re.IGNORECASE
)
_WEB_ADDRESS = re.compile(
    r"\b(?:https?://|www\.)[^\s)\]>,]+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|info|biz|example)\b(?:/[^\s)\]>,]*)?",
    re.IGNORECASE,
)


def harmful_instruction(sentence: str, passage: str) -> str:
    """Why `sentence` must not be kept with `passage` as its evidence, or "" when it may be."""
    for match in _ASKS_FOR_CREDENTIAL.finditer(sentence):
        if not _NEGATED.search(sentence[: match.start()]):
            return "asks for a credential"
    pays = _PAYS.search(sentence)
    if pays and not _NEGATED.search(sentence[: pays.start()]) and not _PAYS.search(passage):
        return "tells the user to pay; the passage does not"
    if _contacts(sentence) - _contacts(passage):
        return "names a contact the passage does not"
    return ""


def _contacts(text: str) -> set[str]:
    """Email addresses, web addresses and phone numbers in `text`, normalised for comparison."""
    found = {m.text.lower() for m in find_pii(text, ("email",))}
    found |= {re.sub(r"\D", "", m.text) for m in find_pii(text, ("phone",))}
    emails = "".join(found)
    found |= {
        w.group().lower().rstrip("./").removeprefix("https://").removeprefix("http://")
        for w in _WEB_ADDRESS.finditer(text)
        if w.group().lower() not in emails  # the domain of an email address is not a second contact
    }
    return found
