"""The Generator contract and the factory that picks a backend from the settings.

>>> from tandem.config import Settings
>>> from tandem.generate.base import load_generator
>>> generator = load_generator(Settings(generator_url="http://127.0.0.1:8080/v1"))
>>> generator.backend
'openai-http'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tandem.config import Settings


@dataclass
class GenerationStats:
    """Filled by `Generator.stream` once the answer is complete."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_ms: float = 0.0
    total_ms: float = 0.0
    finish_reason: str = ""
    threads: int = 0  # decode threads used (in-process llama.cpp), 0 when not known

    @property
    def decode_tokens_per_s(self) -> float:
        decode_ms = self.total_ms - self.first_token_ms
        return (self.completion_tokens - 1) / (decode_ms / 1000) if decode_ms > 0 else 0.0


@runtime_checkable
class Generator(Protocol):
    """Writes a chat answer, streamed: greedy decoding, optionally constrained by a GBNF grammar."""

    @property
    def model_id(self) -> str:
        """What wrote the answer, recorded in traces (e.g. `http:smollm2-135m@127.0.0.1:8080`)."""
        ...

    @property
    def backend(self) -> str: ...

    def stream(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 128,
        stats: GenerationStats | None = None,
        grammar: str | None = None,
    ) -> Iterator[str]: ...


def load_generator(settings: Settings) -> Generator:
    """An OpenAI-compatible server when `generator_url` is set, else llama.cpp in this process."""
    if settings.generator_url:
        from tandem.generate.openai_http import OpenAIHTTPGenerator

        key = settings.generator_api_key
        return OpenAIHTTPGenerator(
            settings.generator_url,
            settings.generator_model,
            api_key=key.get_secret_value() if key is not None else None,
            timeout_s=settings.generator_timeout_s,
            retries=settings.generator_retries,
            grammar_field=settings.generator_grammar_field,
            request_fields=settings.generator_request_fields,
        )
    from tandem.generate.llamacpp import LlamaCppGenerator

    return LlamaCppGenerator(
        settings.generator,
        settings.generator_threads,
        settings.context_tokens,
        settings.generator_adaptive_threads,
    )
