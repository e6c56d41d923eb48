"""Evidence units: the pieces of a passage that an answer is made of.

A unit is a sentence of prose, a list with its lead-in (and each item of it), an FAQ answer, a
table row read with its header, or a `Key: value` spec line. Each unit keeps its character span
in the passage text and a context (title, headings, an FAQ's question) that says what it is about:
a spec line such as "Weight: 36.5 kg" means nothing without the product it belongs to.

>>> units = passage_units("Key specifications:\\n- **Weight:** 36.5 kg\\n- **Price:** EUR 4,690", "Cargo K3")
>>> [(u.kind, u.text) for u in units]
[('list', 'Key specifications: Weight: 36.5 kg; Price: EUR 4,690.'), ('spec', 'Weight: 36.5 kg'), \
('spec', 'Price: EUR 4,690')]
>>> units[1].context, "Cargo K3 Key specifications"[:8]
('Cargo K3 > Key specifications', 'Cargo K3')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tandem.documents.text_utils import EMPHASIS as _EMPHASIS
from tandem.documents.text_utils import FAQ_ANSWER as _FAQ_ANSWER
from tandem.documents.text_utils import FAQ_QUESTION as _FAQ_QUESTION
from tandem.documents.text_utils import LIST_ITEM as _LIST_ITEM
from tandem.documents.text_utils import readable as readable_piece
from tandem.documents.text_utils import sentence_spans

MAX_UNIT_CHARS = 600  # a list longer than this is offered item by item only
MAX_UNITS_PER_PASSAGE = 80  # a passage with thousands of sentences is scored on its first units
_SPEC = re.compile(r"^\s*(?:[-*\u2022]\s+)?(?:\*\*|__)?([A-Z][^:\n]{0,40}?):(?:\*\*|__)?\s+(\S.*)$")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]+\|?\s*$")


@dataclass(frozen=True)
class Unit:
    """A piece of evidence: readable `text`, its `start`/`end` in the passage, what it is about."""

    text: str
    start: int
    end: int
    kind: str  # "sentence" | "list" | "item" | "spec" | "faq" | "row"
    context: str = ""

    def with_context(self) -> str:
        """What the selector reads: the context line, then the unit."""
        return f"{self.context}: {self.text}" if self.context else self.text


def texts_to_embed(units: list[Unit]) -> tuple[list[str], list[str]]:
    """What the selector embeds for a passage's `units`: each unit, then each unit under its context
    line, then each distinct context line; and those context lines, in that order."""
    headings = list(dict.fromkeys(u.context for u in units))
    return [u.text for u in units] + [u.with_context() for u in units] + headings, headings


def readable(piece: str) -> str:
    """A line as prose: heading marks, list marker and Markdown emphasis removed."""
    return readable_piece(_HEADING.sub("", piece))


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line, whitespace trimmed."""
    spans, position = [], 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            spans.append((position + lead, position + lead + len(stripped)))
        position += len(line) + 1
    return spans


def _joined(lead_in: str, items: list[str]) -> str:
    """'Lead-in: a; b; c.' from a lead-in line and its items."""
    parts = [readable(item).rstrip(".;,") for item in items]
    head = readable(lead_in)
    body = "; ".join(parts) + "."
    return f"{head} {body}" if head else body


def _context(base: str, extra: str) -> str:
    extra = readable(extra).rstrip(":")
    if not extra or extra in base:
        return base
    return f"{base} > {extra}" if base else extra


def _table_units(text: str, rows: list[tuple[int, int]], context: str) -> list[Unit]:
    """A Markdown table: each body row read as 'Header: cell; Header: cell'."""
    cells = [[c.strip() for c in text[s:e].strip().strip("|").split("|")] for s, e in rows]
    header = cells[0]
    units = []
    for (start, end), row in zip(rows[1:], cells[1:], strict=True):
        if _TABLE_RULE.fullmatch(text[start:end]):
            continue
        pairs = [f"{h}: {c}" if h else c for h, c in zip(header, row, strict=False) if c]
        units.append(Unit("; ".join(_EMPHASIS.sub("", p) for p in pairs), start, end, "row", context))
    return units


def _prose_units(text: str, start: int, end: int, context: str) -> list[Unit]:
    return [
        Unit(readable(text[s:e]), s, e, "sentence", context)
        for s, e in sentence_spans(text[start:end], start)
        if readable(text[s:e])
    ]


def _faq_units(text: str, context: str) -> list[Unit] | None:
    """An FAQ pair ('Q: ...\\nA: ...'): the answer whole, then its sentences when there are several."""
    if not text.startswith(_FAQ_QUESTION) or f"\n{_FAQ_ANSWER}" not in text:
        return None
    split = text.index(f"\n{_FAQ_ANSWER}")
    question = text[len(_FAQ_QUESTION) : split].strip()
    answer_start = split + 1 + len(_FAQ_ANSWER)
    answer_end = len(text.rstrip())
    faq_context = _context(context, question)
    whole = Unit(readable(text[answer_start:answer_end]), answer_start, answer_end, "faq", faq_context)
    sentences = _prose_units(text, answer_start, answer_end, faq_context)
    return [whole, *sentences] if len(sentences) > 1 else [whole]


def passage_units(text: str, context: str = "") -> list[Unit]:
    """The evidence units of one passage, in reading order, at most MAX_UNITS_PER_PASSAGE."""
    faq = _faq_units(text, context)
    if faq is not None:
        return faq[:MAX_UNITS_PER_PASSAGE]
    units: list[Unit] = []
    lines = _lines(text)
    section = context
    i = 0
    while i < len(lines) and len(units) < MAX_UNITS_PER_PASSAGE:
        start, end = lines[i]
        line = text[start:end]
        if _HEADING.match(line):
            section = _context(context, line)
            i += 1
            continue
        if _TABLE_ROW.match(line):
            j = i
            while j < len(lines) and _TABLE_ROW.match(text[lines[j][0] : lines[j][1]]):
                j += 1
            units.extend(_table_units(text, lines[i:j], section))
            i = j
            continue
        next_is_item = i + 1 < len(lines) and bool(_LIST_ITEM.match(text[lines[i + 1][0] : lines[i + 1][1]]))
        if _LIST_ITEM.match(line) or (line.endswith(":") and next_is_item):
            units.extend(_list_units(text, lines, i, section))
            i = _list_end(text, lines, i)
            continue
        units.extend(_prose_units(text, start, end, section))
        i += 1
    return units[:MAX_UNITS_PER_PASSAGE]


def _numbered(line: str) -> bool:
    return not line.lstrip().startswith(("-", "*", "\u2022"))


def _indent(text: str, start: int) -> int:
    return start - (text.rfind("\n", 0, start) + 1)


def _list_end(text: str, lines: list[tuple[int, int]], i: int) -> int:
    """The line after the list that starts at line `i` (its lead-in, or its first item). Its items
    share one marker kind: a numbered line after bullets ("2. When is a battery faulty?", a PDF's
    section heading) starts something else, unless it is indented under them."""
    j = i + (0 if _LIST_ITEM.match(text[lines[i][0] : lines[i][1]]) else 1)
    if j >= len(lines):
        return j
    numbered, indent = _numbered(text[lines[j][0] : lines[j][1]]), _indent(text, lines[j][0])
    while j < len(lines) and _LIST_ITEM.match(line := text[lines[j][0] : lines[j][1]]):
        if _numbered(line) != numbered and _indent(text, lines[j][0]) <= indent:
            break
        j += 1
    return j


def _list_units(text: str, lines: list[tuple[int, int]], i: int, context: str) -> list[Unit]:
    """A list (with its lead-in line when it has one) as one unit, then each item: a spec line
    ('Weight: 36.5 kg') or an item that keeps the lead-in as its context."""
    end_line = _list_end(text, lines, i)
    first_item = i if _LIST_ITEM.match(text[lines[i][0] : lines[i][1]]) else i + 1
    lead_in = "" if first_item == i else text[lines[i][0] : lines[i][1]]
    items = [text[s:e] for s, e in lines[first_item:end_line]]
    start, end = lines[i][0], lines[end_line - 1][1]
    units = []
    whole = _joined(lead_in, items)
    if len(items) > 1 and len(whole) <= MAX_UNIT_CHARS:
        units.append(Unit(whole, start, end, "list", context))
    item_context = _context(context, lead_in) if lead_in else context
    for s, e in lines[first_item:end_line]:
        line = text[s:e]
        spec = _SPEC.match(_LIST_ITEM.sub("", line, count=1) if _LIST_ITEM.match(line) else line)
        if spec:
            key, value = _EMPHASIS.sub("", spec.group(1)).strip(), _EMPHASIS.sub("", spec.group(2)).strip()
            units.append(Unit(f"{key}: {value}", s, e, "spec", item_context))
        else:
            units.append(Unit(readable(line), s, e, "item", item_context))
    if lead_in and len(units) == len(items):  # no whole-list unit: the lead-in is still a sentence
        units.insert(0, Unit(readable(lead_in), lines[i][0], lines[i][1], "sentence", context))
    return units
