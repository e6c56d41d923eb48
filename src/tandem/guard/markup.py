"""Document markup turned into the prose a reader sees, for the corpus guard's classifier.

Technical documentation is dense with Markdown and HTML: link targets, include directives, image
paths, table pipes, inline tags. Read raw, a link list or a table of API fields looks nothing like
English prose, and the injection classifier (trained on messages) scored such text as instructions:
19% of 37,127 chunks of Microsoft's developer documentation were flagged. The classifier reads the
text as rendered instead; the rules still read the raw chunk, so an instruction hidden in a link
target or a comment is still found there.
"""

from __future__ import annotations

import re

_INCLUDE = re.compile(r"\[!include\s*\[[^\]]*\]\([^)]*\)\]", re.IGNORECASE)  # [!include[name](path)]
_DIRECTIVE = re.compile(r"^\s*:::.*$", re.MULTILINE)  # :::image type="content" source="..." :::
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", re.IGNORECASE)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$", re.MULTILINE)
_CELL_BREAK = re.compile(r"\s*\|\s*")
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3})(?=\S)(.+?)(?<=\S)\1")  # **bold**, *italic*, __bold__
_FENCED = re.compile(r"^\s*(?:```|~~~).*?(?:^\s*(?:```|~~~)[^\n]*$|\Z)", re.MULTILINE | re.DOTALL)
_CODE_MARK = re.compile(r"//|:=|==|=>|->|::|[a-z0-9_]\.[A-Za-z_]\w*|[=;{}()\[\]<>$\\]")
_WORD = re.compile(r"[A-Za-z]{2,}")
CODE_MARKS_PER_WORD = 0.34  # a line with at least this many code marks per word is code, not prose


def rendered_prose(text: str) -> str:
    """`text` with Markdown and HTML markup replaced by what a reader sees: link and image text
    without targets, no emphasis marks, include directives, URLs or tags, table cells as separate
    sentences; and no code (fenced blocks, lines that `looks_like_code`), which no reader takes as prose."""
    text = _DIRECTIVE.sub("", _INCLUDE.sub(" ", text))
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _TABLE_RULE.sub("", text)
    text = _EMPHASIS.sub(r"\2", _INLINE_CODE.sub(r"\1", _FENCED.sub("\n", text)))
    lines = (line for line in text.split("\n") if not looks_like_code(line))
    return "\n".join(_CELL_BREAK.sub("; ", line).strip("; ") for line in lines)


def looks_like_code(line: str) -> bool:
    """A line of program text or a query rather than prose: CODE_MARKS_PER_WORD or more operators,
    brackets, comment marks or dotted names per word (", total = toreal(customDimensions.time)"),
    or a short field or value with a comment after it."""
    code, comment = line.split("//", 1) if "//" in line else (line, "")
    if comment and code.strip() and len(_WORD.findall(code)) <= 2:
        return True  # "guid, // id of the operation": a commented field of a schema
    marks = len(_CODE_MARK.findall(line))
    return marks > 0 and marks / max(len(_WORD.findall(line)), 1) >= CODE_MARKS_PER_WORD
