"""What the evidence selector looks at for one (question, unit) pair, as a row of numbers.

Meaning (cosine of the question to the unit, with and without its context), wording (the share of
the question's content words the unit and its context contain, weighted by rarity), the kind of
answer the question asks for (a price, a weight, a duration, steps...) against what the unit holds,
the names and model codes the question mentions against those the unit is about, and how the
passage ranked. Similarity alone prefers the sentence that sounds most like the question; the
answer-type and name features are what tell an answer from a near miss.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tandem.index.lexical import terms

UNIT_KINDS = ("sentence", "list", "item", "spec", "faq", "row")

# What a question asks for, by its wording (first match wins), and the evidence that answers it.
ANSWER_TYPES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "price": (
        re.compile(
            r"\bhow much (?:is|are|does|do|did|will|would|should|can|could|was|were|for|to|it|they|"
            r"money|extra|more)\b(?!.*\b(?:weigh|weight|heavy|load|carry|range|far|long|time)\b)|"
            r"\b(?:cost|costs|price|priced|fee|fees|charge|charged|pay|expensive|cheap)\b",
            re.I,
        ),
        re.compile(
            r"(?:EUR|USD|GBP|CHF|€|\$|£)\s?\d|\d\s?(?:EUR|euros?|dollars?|pounds?)\b|\bfree\b|"
            r"\bno (?:charge|cost|fee)\b|\d\s?% off\b|\bdiscount\b",
            re.I,
        ),
    ),
    "weight": (
        re.compile(r"\b(?:weigh|weighs|weight|heavy|heavier|load|carry|capacity)\b", re.I),
        re.compile(r"\d\s?(?:kg|kilo(?:gram)?s?|g|lbs?|pounds?)\b", re.I),
    ),
    "distance": (
        re.compile(r"\b(?:how far|range|distance|km|kilomet(?:er|re)s?|miles?)\b", re.I),
        re.compile(r"\d\s?(?:km|kilomet(?:er|re)s?|miles?|m|cm|mm)\b", re.I),
    ),
    "duration": (
        re.compile(
            r"\bhow long\b|\bhow many (?:days|weeks|months|years|hours|minutes)\b|"
            r"\b(?:how soon|how quickly|when will|within|deadline|period|take to)\b",
            re.I,
        ),
        re.compile(
            r"\d\s?(?:-\s?\d+\s?)?(?:(?:business|working|calendar|full)\s)?"
            r"(?:seconds?|minutes?|min|hours?|h|days?|weeks?|months?|years?)\b|"
            r"\b(?:one|two|three|four|five|six|seven|ten|twelve|thirty) "
            r"(?:days?|weeks?|months?|years?|hours?)\b|\b(?:immediately|straight away|same day)\b",
            re.I,
        ),
    ),
    "date": (
        re.compile(r"^\W*when\b|\b(?:what (?:year|date|day|time)|which (?:year|date|day))\b", re.I),
        re.compile(
            r"\b(?:1[0-9]{3}|20[0-9]{2})\b|\b(?:January|February|March|April|May|June|July|"
            r"August|September|October|November|December|Monday|Tuesday|Wednesday|Thursday|"
            r"Friday|Saturday|Sunday)\b|\d{1,2}[:.]\d{2}|\b\d{1,2}\s?(?:am|pm)\b",
            re.I,
        ),
    ),
    "size": (
        re.compile(r"\b(?:dimensions?|measurements?|how (?:wide|deep|thick))\b", re.I),
        re.compile(
            r"\d\s?(?:x|×|by)\s?\d|\d\s?(?:cm|mm|m|in|inch(?:es)?|(?:milli|centi)?met(?:er|re)s?)\b", re.I
        ),
    ),
    "number": (
        re.compile(
            r"\bhow many\b|\bwhat (?:number|percentage|size|speed|temperature)\b|"
            r"\bhow (?:fast|big|large|old|high|tall)\b",
            re.I,
        ),
        re.compile(
            r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|hundred|thousand|million)\b",
            re.I,
        ),
    ),
    "steps": (
        re.compile(
            r"\bhow (?:do|can|should|would) (?:i|we|you)\b|\bhow to\b|\bsteps?\b|\bwhat should i do\b|"
            r"\bprocess\b|\bprocedure\b|\bset up\b|\bsetup\b",
            re.I,
        ),
        re.compile(r"^|", re.I),  # any unit can hold a step; the unit kind (a list) carries the signal
    ),
    "person": (
        re.compile(r"\bwho\b|\bwhose\b|\bwhom\b", re.I),
        re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b|\b(?:team|support|department|company|we)\b"),
    ),
    "place": (
        re.compile(r"\bwhere\b|\bwhich (?:country|countries|city|cities|place|address)\b", re.I),
        re.compile(
            r"\b(?:in|at|from|to|on)\s+(?:the\s+)?[A-Z][a-z]+|\b[a-z0-9.-]+\.(?:com|example|org|net)\b"
        ),
    ),
}
QUESTION_TYPES = (*ANSWER_TYPES, "yesno", "other")
_YES_NO = re.compile(r"^\s*(?:is|are|can|could|do|does|did|will|would|should|may|must|has|have)\b", re.I)
_OPEN = re.compile(r"\b(?:how much|how long|how many|how far|how heavy|which|what|when|where|who)\b", re.I)
_WHY = re.compile(r"^\W*(?:why|how come)\b", re.I)
_QUESTION_WORDS = (  # question words that settle the type before any other word of the question
    (re.compile(r"\bhow (?:do|can|should|would) (?:i|we)\b|\bhow to\b", re.I), "steps"),
    (re.compile(r"\bhow many (?:days|weeks|months|years|hours|minutes)\b", re.I), "duration"),
    (re.compile(r"\bhow many\b", re.I), "number"),
    (re.compile(r"\bhow (?:long|soon|quickly)\b", re.I), "duration"),
    (re.compile(r"\bhow far\b", re.I), "distance"),
    (re.compile(r"\bhow heavy\b|\bweigh(?:s)?\b", re.I), "weight"),
    (re.compile(r"\bdimensions?\b|\bmeasurements?\b|\bhow (?:wide|deep|thick)\b", re.I), "size"),
    (
        re.compile(
            r"\bhow much (?!(?:is|are|does|do|did|will|would|should|can|could|was|were|for|to|it|"
            r"they|money|extra|more)\b)[a-z]+",
            re.I,
        ),
        "number",
    ),  # "how much torque"
)
MEASURED_TYPES = ("price", "weight", "distance", "duration", "date", "size", "number")


def lacks_measure(qtype: str, unit_text: str) -> bool:
    """True when the question asks for a measure (a price, a weight, a duration...) and the unit
    states none: it may be on topic, but it cannot be the answer. A model or error code's digit is
    not a number ("The Commuter C2 is our city e-bike." does not say how many gears it has)."""
    if qtype == "number":
        unit_text = MODEL_CODE.sub(" ", unit_text)
    return qtype in MEASURED_TYPES and not ANSWER_TYPES[qtype][1].search(unit_text)


_LAST_SENTENCE = re.compile(r"(?<=[.!])\s+(?=\S)")
NAME = re.compile(r"\b(?:[A-Z][a-z]*\d+[A-Za-z0-9]*|[A-Z]{2,}[a-z]*\d*|[A-Z][a-z]+\+?)\b")
COMMON_CAPITALISED = {
    "I", "Is", "Are", "Can", "Could", "Do", "Does", "Did", "Will", "Would", "Should", "May", "Must", "Has",
    "Have", "How", "What", "When", "Where", "Which", "Who", "Why", "The", "A", "An", "My", "If", "And", "Or",
    "Hi", "Hello", "Please", "Thanks", "It", "There", "In", "On", "At", "For", "To", "With", "OK",
}  # fmt: skip
FEATURE_NAMES = (
    "cosine",
    "cosine_context",
    "cosine_best_in_passage",
    "cosine_heading",
    "lexical",
    "lexical_context",
    "lexical_idf",
    "novel_share",
    "is_question",
    "log_chars",
    "type_needed",
    "type_found",
    "type_missing",
    "steps_list",
    "yesno",
    "names_asked",
    "names_found",
    "unknown_terms",
    "passage_rank",
    "passage_score",
    *(f"kind_{k}" for k in UNIT_KINDS),
    "bias_term",
)


def question_type(question: str) -> str:
    """What the question asks for: one of QUESTION_TYPES. The asked sentence decides first (its
    question word, then its wording); the whole question only when that says nothing."""
    asked = _LAST_SENTENCE.split(question.strip())[-1] if question.strip() else question
    if _WHY.match(asked):
        return "other"  # "Why does my range drop?" asks for a reason, not a distance
    if _YES_NO.match(asked) and not _OPEN.search(asked):
        return "yesno"  # "Is there a fee if I pay early?" asks yes or no, not for a price
    for pattern, name in _QUESTION_WORDS:
        if pattern.search(asked):
            return name  # "How many charge cycles..." asks for a number, not a price
    for text in (asked, question):
        for name, (asks, _) in ANSWER_TYPES.items():
            if asks.search(text):
                return name
    return "yesno" if _YES_NO.match(question) else "other"


MODEL_CODE = re.compile(
    r"\b[A-Za-z]{1,3}-?\d{1,4}[A-Za-z]?\b"
)  # K3, F1, E07, PW-CH4's CH4: a product or code


def model_codes(text: str) -> set[str]:
    """Letter-and-digit codes (model names, error codes), uppercased, hyphen dropped: "k3" and "K3"
    are the same product, "E07" and "E09" two different errors."""
    return {m.upper().replace("-", "") for m in MODEL_CODE.findall(text) if not m[0].isdigit()}


def about_another_code(question_codes: frozenset[str], unit_text: str, unit_context: str) -> bool:
    """True when the question names codes and the unit's context (title, headings, FAQ question:
    what the unit is about) names others and none asked: the Fold F1's weight for a question about
    the Cargo K3. Codes in the unit's own text (a charger's model number) do not count, unless it
    names the code asked."""
    if not question_codes:
        return False
    about = model_codes(unit_context)
    return bool(about) and not (about & question_codes) and not (model_codes(unit_text) & question_codes)


_LEADING_CODE = re.compile(r"^\W*([A-Za-z]{1,3}-?\d{1,4}[A-Za-z]?)\b")


def defined_code(text: str) -> str | None:
    """The code a unit or line opens with, as `model_codes` writes it: what an entry of an error-code
    or part list defines ("E05 - Torque sensor fault. ..." defines E05)."""
    found = _LEADING_CODE.match(text)
    if found is None or found.group(1)[0].isdigit():
        return None
    return found.group(1).upper().replace("-", "")


def codes_asked(question: str, entities: frozenset[str]) -> frozenset[str]:
    """The error, part and model codes a question names, less the products with documents of their
    own (`entity_codes`): what an entry of a code list (`defined_code`) can answer."""
    return frozenset(model_codes(question)) - entities


def entity_codes(titles: Sequence[str]) -> frozenset[str]:
    """The codes that name something with a document of its own ("Trail T5", "Fold F1"): siblings
    a unit may be about instead of the one asked; a charger's or an error's code is not one.
    Computed once per set of titles (an index's), however many questions ask."""
    return _entity_codes(tuple(titles))


@functools.lru_cache(maxsize=8)
def _entity_codes(titles: tuple[str, ...]) -> frozenset[str]:
    return frozenset(code for title in titles for code in model_codes(title))


def names_a_sibling(question_codes: frozenset[str], unit_text: str, entities: frozenset[str]) -> bool:
    """True when the question asks about an entity (`entity_codes`) and the unit names other
    entities and not it: "PowerPack 360 - Fold F1 only. Price: EUR 449." for the Trail T5's battery."""
    asked = question_codes & entities
    named = model_codes(unit_text) & entities
    return bool(asked) and bool(named) and not (named & question_codes)


def names_in(text: str) -> set[str]:
    """Capitalised words and model codes ("K3", "Care+", "Fairpay"), lowercased: what a question is
    specifically about."""
    return {m.lower() for m in NAME.findall(text) if m not in COMMON_CAPITALISED}


@dataclass(frozen=True)
class QuestionView:
    """The question, analysed once for all its candidate units."""

    text: str
    terms: frozenset[str]
    qtype: str
    names: frozenset[str]
    unknown_share: float = 0.0  # share of the terms that no indexed passage contains
    codes: frozenset[str] = frozenset()  # model and error codes it names (`model_codes`)

    @classmethod
    def of(cls, question: str, vocabulary: set[str] | None = None) -> QuestionView:
        words = frozenset(terms([question])[0])
        unknown = len(words - vocabulary) / len(words) if vocabulary is not None and words else 0.0
        return cls(
            question,
            words,
            question_type(question),
            frozenset(names_in(question)),
            unknown,
            frozenset(model_codes(question)),
        )


def _share(needed: frozenset[str], have: set[str], weight: dict[str, float] | None = None) -> float:
    if not needed:
        return 0.0
    if weight is None:
        return len(needed & have) / len(needed)
    total = sum(weight.get(t, 1.0) for t in needed)
    return sum(weight.get(t, 1.0) for t in needed & have) / total


def unit_features(
    question: QuestionView,
    unit_text: str,
    unit_terms: set[str],
    context_text: str,
    context_terms: set[str],
    kind: str,
    cosines: tuple[float, float, float, float],
    passage: tuple[int, float],
    idf: dict[str, float],
) -> list[float]:
    """One row of FEATURE_NAMES for a (question, unit) pair.

    `cosines`: question to unit, to unit with its context, to the passage's closest unit, and to the
    context alone (title, headings, an FAQ's question);
    `passage`: the passage's rank (0 first) and the question's retrieval score (the best passage's fused
    score, the same for every unit: `selector.feature_rows`); `idf`: the rarity of the
    question's terms in the index.
    """
    with_context = unit_terms | context_terms
    novel = unit_terms - question.terms
    qtype = question.qtype
    needed = qtype in ANSWER_TYPES and qtype != "steps"
    found = bool(needed and ANSWER_TYPES[qtype][1].search(unit_text))
    about = names_in(f"{context_text} {unit_text}") | with_context
    names_found = len(question.names & about) / len(question.names) if question.names else 0.0
    cosine, cosine_context, cosine_best, cosine_heading = cosines
    return [
        cosine,
        cosine_context,
        cosine - cosine_best,
        cosine_heading,
        _share(question.terms, unit_terms),
        _share(question.terms, with_context),
        _share(question.terms, with_context, idf),
        len(novel) / max(len(unit_terms), 1),
        float(unit_text.rstrip().endswith("?")),
        math.log1p(len(unit_text)) / 6.0,
        float(needed),
        float(found),
        float(needed and not found),
        float(qtype == "steps" and kind in ("list", "item")),
        float(qtype == "yesno"),
        float(bool(question.names)),
        names_found,
        question.unknown_share,
        1.0 / (1 + passage[0]),
        passage[1],
        *(float(kind == k) for k in UNIT_KINDS),
        1.0,
    ]


def feature_matrix(rows: list[list[float]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES))
