"""The checks every question passes before any model reads it."""

from __future__ import annotations

from tandem.documents.text_utils import encodable
from tandem.errors import InputError


def validate_question(question: str, limit: int) -> str:
    """The question stripped, or an InputError when it is empty or over `limit` characters."""
    question = encodable((question or "").strip())
    if not question:
        raise InputError('the question is empty; ask something, e.g. `tandem ask "How do refunds work?"`')
    if len(question) > limit:
        raise InputError(
            f"the question is {len(question):,} characters long; the limit is {limit:,} "
            "(shorten it, or raise TANDEM_MAX_QUESTION_CHARS)"
        )
    return question
