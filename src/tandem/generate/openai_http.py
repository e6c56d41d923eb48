"""Generation on an OpenAI-compatible server (vLLM, llama.cpp server, TGI, Ollama) over HTTP.

>>> generator = OpenAIHTTPGenerator("http://127.0.0.1:8080/v1", "smollm2-135m")
>>> generator.model_id
'http:smollm2-135m@127.0.0.1:8080'
>>> "".join(generator.stream([{"role": "user", "content": "Hi"}]))  # doctest: +SKIP

Streams `/v1/chat/completions` (server-sent events) with the in-process sampling: temperature 0,
the answer grammar in `grammar_field`, extra fields such as the repeat penalty in `request_fields`.
Failures before the first token are retried with backoff; text already streamed is never repeated,
so a stream cut off midway fails with a `ModelError`. After `failure_threshold` failed requests in
a row the circuit opens: requests fail fast for `cooldown_s`, then one probe request decides.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from tandem.errors import ConfigError, ModelError
from tandem.generate.base import GenerationStats
from tandem.generate.circuit import CircuitBreaker, backoff_delay
from tandem.generate.http_wire import (
    RETRY_STATUS,
    ServerUnavailableError,
    Transient,
    describe_transport_error,
    error_detail,
    model_names,
    sse_data,
)

log = logging.getLogger("tandem.generate")

DEFAULT_REQUEST_FIELDS: dict[str, Any] = {"repeat_penalty": 1.1}


class OpenAIHTTPGenerator:
    """Chat generation on a server that speaks the OpenAI chat completions API."""

    backend = "openai-http"

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key: str | None = None,
        timeout_s: float = 60.0,
        connect_timeout_s: float = 5.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        grammar_field: str = "grammar",
        request_fields: Mapping[str, Any] | None = None,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
    ) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"generator_url must be an http(s) URL such as http://127.0.0.1:8080/v1. "
                f"Currently it is {base_url!r}."
            )
        if timeout_s <= 0 or connect_timeout_s <= 0:
            raise ConfigError(
                f"generator timeouts must be above 0. Currently {timeout_s=}, {connect_timeout_s=}."
            )
        if retries < 0:
            raise ConfigError(f"generator_retries must be 0 or more. Currently it is {retries}.")
        root = base_url.strip().rstrip("/")
        self.api_root = root if root.endswith("/v1") else f"{root}/v1"
        self.host = parts.netloc
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.grammar_field = grammar_field.strip()
        self.request_fields = dict(DEFAULT_REQUEST_FIELDS if request_fields is None else request_fields)
        self.breaker = CircuitBreaker(failure_threshold, cooldown_s)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s)
        )
        self._model = model.strip()
        self._model_checked = False
        self._model_lock = threading.Lock()

    # -- identity ------------------------------------------------------------------------------
    @property
    def model(self) -> str:
        """The model name sent to the server; asks the server when none was configured."""
        if self._model:
            return self._model
        if not self.breaker.acquire():
            raise ServerUnavailableError(self._circuit_open_message())
        try:
            model = self._resolve_model()
        except ServerUnavailableError:
            self.breaker.failure()
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success()
        return model

    @property
    def model_id(self) -> str:
        return f"http:{self.model}@{self.host}"

    def close(self) -> None:
        self._client.close()

    # -- generation ----------------------------------------------------------------------------
    def stream(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 128,
        stats: GenerationStats | None = None,
        grammar: str | None = None,
    ) -> Iterator[str]:
        """Yield text pieces as the server streams them; fills `stats` when done."""
        stats = stats if stats is not None else GenerationStats()
        if not self.breaker.acquire():
            raise ServerUnavailableError(self._circuit_open_message())
        healthy: bool | None = None  # None: the caller stopped early, which says nothing
        try:
            yield from self._generate(messages, max_tokens, stats, grammar)
            healthy = True
        except ServerUnavailableError:
            healthy = False
            raise
        except ModelError:
            healthy = True  # the server answered; the request or the settings were wrong
            raise
        finally:
            if healthy is None:
                self.breaker.release()
            elif healthy:
                self.breaker.success()
            else:
                self.breaker.failure()

    def _generate(
        self, messages: list[dict[str, str]], max_tokens: int, stats: GenerationStats, grammar: str | None
    ) -> Iterator[str]:
        started = time.perf_counter()
        payload = self._payload(self._resolve_model(), messages, max_tokens, grammar)
        streamed = 0
        for attempt in range(self.retries + 1):
            try:
                for piece in self._attempt(payload, stats, started):
                    streamed += 1
                    yield piece
                break
            except Transient as exc:
                if streamed:
                    raise ServerUnavailableError(
                        f"the generator server at {self.api_root} closed the stream after {streamed} "
                        f"pieces ({exc.reason}); the answer was cut off. Ask again once the server is back"
                    ) from None
                if attempt == self.retries:
                    raise ServerUnavailableError(self._unavailable_message(exc, attempt + 1)) from None
                self._pause_before_retry(exc, attempt)
        stats.total_ms = (time.perf_counter() - started) * 1000
        if not stats.prompt_tokens:  # the server sent no usage: estimate (~4 characters a token)
            stats.prompt_tokens = max(1, round(sum(len(m["content"]) for m in messages) / 4))

    def _payload(
        self, model: str, messages: list[dict[str, str]], max_tokens: int, grammar: str | None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        for key, value in self.request_fields.items():
            if value is None:
                payload.pop(key, None)  # a null field removes one Tandem would send
            else:
                payload[key] = value
        if grammar and self.grammar_field:
            *parents, leaf = self.grammar_field.split(".")  # "structured_outputs.grammar" nests
            target = payload
            for name in parents:
                target = target.setdefault(name, {})
            target[leaf] = grammar
        return payload

    def _attempt(self, payload: dict[str, Any], stats: GenerationStats, started: float) -> Iterator[str]:
        """One request: yields content pieces; raises `Transient` for failures worth retrying."""
        stats.prompt_tokens, stats.completion_tokens, stats.finish_reason = 0, 0, ""
        usage: dict[str, Any] = {}
        try:
            with self._client.stream("POST", f"{self.api_root}/chat/completions", json=payload) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for_status(response)
                done = False
                for data in sse_data(response.iter_lines()):
                    if data == "[DONE]":
                        done = True
                        break
                    chunk = self._decode(data)
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or ():
                        if choice.get("index", 0) != 0:
                            continue
                        if choice.get("finish_reason"):
                            stats.finish_reason = choice["finish_reason"]
                        piece = (choice.get("delta") or {}).get("content") or ""
                        if piece:
                            if not stats.completion_tokens:
                                stats.first_token_ms = (time.perf_counter() - started) * 1000
                            stats.completion_tokens += 1
                            yield piece
                if not done and not stats.finish_reason:
                    raise Transient("closed", "the stream ended before the answer was complete")
        except httpx.TimeoutException:
            raise Transient("timeout", f"nothing received for {self.timeout_s:g} s") from None
        except httpx.TransportError as exc:
            raise Transient("unreachable", describe_transport_error(exc)) from None
        if usage.get("completion_tokens"):
            stats.completion_tokens = int(usage["completion_tokens"])
        if usage.get("prompt_tokens"):
            stats.prompt_tokens = int(usage["prompt_tokens"])

    def _decode(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError:
            raise ModelError(
                f"the generator server at {self.api_root} sent an event that is not JSON: {data[:120]!r}; "
                f"is TANDEM_GENERATOR_URL an OpenAI-compatible endpoint?"
            ) from None
        if not isinstance(chunk, dict):
            raise ModelError(f"the generator server at {self.api_root} sent an odd event: {data[:120]!r}")
        if chunk.get("error"):
            raise Transient("status", f"the server reported an error mid-stream: {error_detail(chunk)}")
        return chunk

    # -- the model name ------------------------------------------------------------------------
    def _resolve_model(self) -> str:
        """Check the configured model against /v1/models once; pick the only one if none is set."""
        with self._model_lock:
            if self._model_checked:
                return self._model
            served = self._with_retries(self._list_models)
            if served is None:  # no model list on this server: trust the setting
                if not self._model:
                    raise ModelError(
                        f"the generator server at {self.api_root} does not list its models; "
                        f"set TANDEM_GENERATOR_MODEL to the model name it serves"
                    )
            elif not self._model:
                if len(served) != 1:
                    raise ModelError(
                        f"the generator server at {self.api_root} serves {len(served)} models "
                        f"({model_names(served)}); set TANDEM_GENERATOR_MODEL to one of them"
                    )
                self._model = served[0]
            elif self._model not in served:
                raise ModelError(self._unknown_model_message(served))
            self._model_checked = True
            return self._model

    def _list_models(self) -> list[str] | None:
        try:
            response = self._client.get(f"{self.api_root}/models")
        except httpx.TimeoutException:
            raise Transient("timeout", f"nothing received for {self.timeout_s:g} s") from None
        except httpx.TransportError as exc:
            raise Transient("unreachable", describe_transport_error(exc)) from None
        if response.status_code in (404, 405, 501):
            return None
        if response.status_code >= 400:
            self._raise_for_status(response)
        try:
            return [str(m["id"]) for m in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            return None

    def _with_retries(self, call: Any) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return call()
            except Transient as exc:
                if attempt == self.retries:
                    raise ServerUnavailableError(self._unavailable_message(exc, attempt + 1)) from None
                self._pause_before_retry(exc, attempt)
        raise AssertionError("unreachable")

    def _pause_before_retry(self, exc: Transient, attempt: int) -> None:
        delay = backoff_delay(attempt, self.backoff_s)
        log.warning(
            "generator server at %s: %s; retry %d of %d in %.1f s",
            self.api_root, exc.reason, attempt + 1, self.retries, delay,
        )  # fmt: skip
        time.sleep(delay)

    # -- errors --------------------------------------------------------------------------------
    def _raise_for_status(self, response: httpx.Response) -> None:
        status, detail = response.status_code, error_detail(response)
        if status in RETRY_STATUS:
            raise Transient("status", f"HTTP {status}: {detail}")
        if status in (401, 403):
            raise ModelError(
                f"the generator server at {self.api_root} refused the request (HTTP {status}: {detail}); "
                f"set TANDEM_GENERATOR_API_KEY to a key it accepts"
            )
        if status == 404:
            try:
                served = self._list_models()
            except (Transient, ModelError):
                served = None
            if served:
                raise ModelError(self._unknown_model_message(served, detail))
            raise ModelError(
                f"the generator server at {self.api_root} answered 404 ({detail}); check "
                f"TANDEM_GENERATOR_URL (it should end in /v1) and TANDEM_GENERATOR_MODEL"
            )
        raise ModelError(
            f"the generator server at {self.api_root} rejected the request (HTTP {status}: {detail}); "
            f"if it does not accept a field Tandem sends, adjust TANDEM_GENERATOR_GRAMMAR_FIELD "
            f"(now {self.grammar_field!r}) or TANDEM_GENERATOR_REQUEST_FIELDS"
        )

    def _unknown_model_message(self, served: list[str], detail: str = "") -> str:
        said = f" ({detail})" if detail else ""
        return (
            f"the generator server at {self.api_root} has no model {self._model!r}{said}; it serves "
            f"{model_names(served)}: set TANDEM_GENERATOR_MODEL to one of them"
        )

    def _unavailable_message(self, exc: Transient, attempts: int) -> str:
        tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
        if exc.kind == "unreachable":
            return (
                f"cannot reach the generator server at {self.api_root} ({exc.reason}, {tries}); "
                f"start the server or fix TANDEM_GENERATOR_URL"
            )
        if exc.kind == "timeout":
            return (
                f"the generator server at {self.api_root} did not answer in time ({exc.reason}, {tries}); "
                f"check the server or raise TANDEM_GENERATOR_TIMEOUT_S"
            )
        return f"the generator server at {self.api_root} failed ({exc.reason}, {tries}); check its logs"

    def _circuit_open_message(self) -> str:
        wait = self.breaker.retry_in_s()
        when = f"for another {wait:.0f} s" if wait >= 1 else "until a trial request succeeds"
        return (
            f"the generator server at {self.api_root} failed {self.breaker.consecutive_failures} "
            f"requests in a row, so Tandem is not calling it {when} (circuit breaker open); "
            f"check the server"
        )
