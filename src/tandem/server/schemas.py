"""Request bodies. OpenAI-compatible ones accept (and ignore) fields Tandem has no use for."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tandem.answer import ABSTAIN_TEXT
from tandem.converse.escalation import EarlierTurn
from tandem.documents.text_utils import encodable

MODEL_NAME = "tandem"


def _encodable(value: Any) -> Any:
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, list):
        return [_encodable(item) for item in value]
    if isinstance(value, dict):
        return {key: _encodable(item) for key, item in value.items()}
    return value


class Request(BaseModel):
    """A request body whose strings are made encodable (lone surrogates, NUL -> U+FFFD) before
    anything else sees them: no encoder, database or log writer accepts them."""

    @field_validator("*", mode="before")
    @classmethod
    def _only_encodable_text(cls, value: Any) -> Any:
        return _encodable(value)


class ContentPart(Request):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(Request):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class Filters(Request):
    """Tandem extension: restrict retrieval to documents by path glob or tag."""

    model_config = ConfigDict(extra="forbid")
    source: list[str] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)


class ChatCompletionRequest(Request):
    """`POST /v1/chat/completions`. The last user message is the question. Its conversation is the
    stored one named by `conversation_id`, else the earlier user messages (a follow-up is searched
    as the question it continues). Sampling fields are accepted for compatibility: answers are greedy."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    filters: Filters | None = None
    conversation_id: str | None = Field(
        None, max_length=64, description="Tandem extension: continue this stored conversation."
    )

    def question(self) -> str:
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text()
        return ""

    def history(self) -> list[EarlierTurn]:
        """The user turns before the last one, oldest first, each with whether Tandem answered it
        (the next assistant message is not the abstention). Assistant and system messages are the
        client's to send: their text is never searched, prompted or stored."""
        turns: list[EarlierTurn] = []
        for message in self.messages:
            if message.role == "user":
                turns.append(EarlierTurn(message.text()))
            elif message.role == "assistant" and turns and turns[-1].answered is None:
                answered = not message.text().strip().startswith(ABSTAIN_TEXT)
                turns[-1] = EarlierTurn(turns[-1].text, answered=answered)
        return turns[:-1]


class EmbeddingsRequest(Request):
    model_config = ConfigDict(extra="allow")
    model: str = MODEL_NAME
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        texts = [value] if isinstance(value, str) else value
        if not texts:
            raise ValueError("input must hold at least one string")
        if len(texts) > 2048:
            raise ValueError(f"input holds {len(texts)} strings; send at most 2048 per request")
        if any(not t.strip() for t in texts):
            raise ValueError("input strings must not be empty")
        return value


class SearchRequest(Request):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1)
    k: int = Field(5, ge=1, le=100)
    mode: Literal["hybrid", "dense", "bm25"] | None = None
    filters: Filters | None = None


class ClassifyRequest(Request):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)


class FeedbackRequest(Request):
    model_config = ConfigDict(extra="forbid")
    rating: Literal["up", "down", 1, -1]
    trace_id: str | None = Field(None, max_length=64)
    comment: str = Field("", max_length=2000)
    question: str = Field("", max_length=20000)
    answer: str = Field("", max_length=20000)

    @property
    def score(self) -> int:
        return 1 if self.rating in ("up", 1) else -1
