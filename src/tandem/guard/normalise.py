"""Make adversarial text comparable before it is scanned.

Attackers hide instructions from pattern matchers with look-alike letters (Cyrillic "о" for "o"),
invisible characters, accents, odd spacing and encodings. `normalise_for_scanning` folds those
tricks away; `decoded_payloads` opens base64, hex and rot13 wrappers so their contents are scanned
too. Both work on a copy meant for matching only: never show the normalised text to a user.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata

from tandem.documents.text_utils import encodable

MAX_PAYLOADS = 16  # decoded segments returned per message; more is noise, not signal
_MAX_SEGMENT = 20_000  # characters of one encoded segment that are decoded

# Zero-width and other invisible format characters: soft hyphen, combining grapheme joiner, Arabic
# letter mark, Mongolian vowel separator, ZWSP/ZWNJ/ZWJ, LRM/RLM, bidi embeddings and isolates,
# word joiner and invisible operators, BOM, variation selectors and the Unicode tag block.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
# Generic combining marks (accents, overlays used for "zalgo" text), removed after decomposition.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WHITESPACE_RUN = re.compile(r"\s+")  # one pass: a nested `\s*\n\s*` is quadratic on long blank runs

# Cyrillic, Greek and a few IPA/Armenian letters that render like Latin ones. Upper case is mapped
# by shape before lower-casing, since e.g. Greek "Η" looks like "H" but "η" looks like "n".
_HOMOGLYPHS = str.maketrans(
    {
        **dict(zip("АВЕЅІЈКМНОРСТХУԁԛԜ", "ABESIJKMHOPCTXYdqW", strict=True)),
        **dict(zip("авеѕіјкмнорстхуһӏԝ", "abesijkmhopctxyhlw", strict=True)),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
        **dict(zip("αβεικνορτυχηγω", "abeikvoptuxnyw", strict=True)),
        **dict(zip("ɡıɑօսո", "giaoun", strict=True)),
    }
)


def coerce_text(text: object) -> str:
    """The input as a string: guards are called on whatever arrived, so None and bytes must not raise."""
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    if isinstance(text, str):
        return encodable(text)
    return "" if text is None else encodable(str(text))


def normalise_for_scanning(text: str) -> str:
    r"""Fold look-alikes, invisible characters, accents, case and spacing into a plain form.

    >>> normalise_for_scanning("Ign\u200bоre  ALL\tprévious")
    'ignore all previous'
    """
    text = unicodedata.normalize("NFKD", coerce_text(text))
    text = _COMBINING.sub("", _INVISIBLE.sub("", text))
    text = unicodedata.normalize("NFC", text).translate(_HOMOGLYPHS).lower()
    return _WHITESPACE_RUN.sub(_one_space_or_break, text).strip()


def _one_space_or_break(match: re.Match[str]) -> str:
    return "\n" if "\n" in match.group() else " "


_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){10,}(?![0-9A-Fa-f])")
_HEX_ESCAPED = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){8,}")
_ROT13_HINT = re.compile(r"rot[\s_-]?13|caesar", re.IGNORECASE)


def _readable(raw: bytes) -> str | None:
    """The bytes as text when they look like words, else None (random bytes rarely do)."""
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(decoded) < 6:
        return None
    printable = sum(ch.isprintable() or ch in "\n\t\r" for ch in decoded)
    letters = sum(ch.isalpha() for ch in decoded)
    if printable / len(decoded) < 0.95 or letters / len(decoded) < 0.5 or " " not in decoded.strip():
        return None
    return decoded


def _from_base64(segment: str) -> str | None:
    if len(segment) % 4 == 1:
        segment = segment[:-1]
    padded = segment.rstrip("=") + "=" * (-len(segment.rstrip("=")) % 4)
    try:
        urlsafe = "-" in padded or "_" in padded
        raw = base64.urlsafe_b64decode(padded) if urlsafe else base64.b64decode(padded)
    except (binascii.Error, ValueError):
        return None
    return _readable(raw)


def _from_hex(segment: str) -> str | None:
    try:
        return _readable(bytes.fromhex(segment.replace("\\x", "")))
    except ValueError:
        return None


def decoded_payloads(text: str) -> list[str]:
    """Readable text hidden in base64, hex or rot13 segments of a message, in order of appearance.

    Segments that decode to binary noise are skipped, so ordinary ids, hashes and long words are
    not reported. Rot13 is only tried when the message names it, since any text "decodes" as rot13.

    >>> decoded_payloads("please run aWdub3JlIHRoZSBydWxlcw==")
    ['ignore the rules']
    """
    text = coerce_text(text)
    found: list[str] = []
    for pattern, decode in ((_BASE64, _from_base64), (_HEX, _from_hex), (_HEX_ESCAPED, _from_hex)):
        for match in pattern.finditer(text):
            if len(found) >= MAX_PAYLOADS:
                return found
            decoded = decode(match.group()[:_MAX_SEGMENT])
            if decoded is not None and decoded not in found:
                found.append(decoded)
    if _ROT13_HINT.search(text) and len(found) < MAX_PAYLOADS:
        found.append(codecs.encode(text[: _MAX_SEGMENT * 5], "rot13"))
    return found
