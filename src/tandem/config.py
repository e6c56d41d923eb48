"""All settings in one place: defaults here, overridden by a TOML file, then TANDEM_* variables.

A file is read from `--config PATH`, else `$TANDEM_CONFIG`, else `./tandem.toml` when present.
Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tandem.errors import ConfigError

DATABASE_URL = r"^(sqlite|postgres|postgresql)(\+\w+)?://"  # store_url, trace_url: SQLite or PostgreSQL


class Settings(BaseSettings):
    """Every tunable of Tandem. Environment variables are the field names with `TANDEM_`."""

    model_config = SettingsConfigDict(env_prefix="TANDEM_", extra="forbid", validate_default=True)

    index_dir: Path = Field(Path("tandem-index"), description="Folder of the index.")
    data_dir: Path = Field(Path("tandem-data"), description="Folder of the SQLite store (tickets, feedback).")
    store_url: str | None = Field(
        None,
        pattern=DATABASE_URL,
        description="Database URL for tickets, feedback, API keys and traces, e.g. "
        "postgresql://user:password@host:5432/tandem; default: SQLite files in data_dir.",
    )
    trace_url: str | None = Field(
        None,
        pattern=DATABASE_URL,
        description="Where traces go, overriding store_url; default: traces.sqlite beside the index.",
    )
    router: Path | None = Field(None, description="Router folder or router TOML; none: answer everything.")
    keep_versions: int = Field(5, ge=1, description="Index versions kept on disk.")

    encoder: str = Field("all-MiniLM-L6-v2", description="Bundled encoder or a model folder.")
    encoder_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx-int8"
    encoder_threads: int = Field(1, ge=1, le=64, description="Threads of the encoder for questions.")
    ingest_encoder_threads: int = Field(
        2,
        ge=1,
        le=64,
        description="Threads of the encoder for bulk embedding at ingest (the same model, loaded beside "
        "the question encoder when this differs from encoder_threads).",
    )
    encode_batch_size: int = Field(32, ge=1, le=1024)
    max_file_mb: float = Field(
        100.0, gt=0, description="Larger files are skipped at ingest and named in the summary."
    )
    chunk_tokens: int = Field(220, ge=16, le=2048)
    chunk_overlap: int = Field(32, ge=0)
    sentence_vectors: bool = Field(True, description="Also embed each chunk's sentences.")
    late_sentence_vectors: bool = Field(
        False,
        description="Sentence vectors pooled from the chunk's own pass (late chunking), not a second pass.",
    )
    unit_vectors: bool = Field(
        True,
        description="Embed each chunk's evidence units at ingest and store them with the version, so no "
        "question waits for them (ingest takes about twice as long).",
    )
    corpus_guard: Literal["off", "flag", "quarantine"] = Field(
        "flag", description="Scan chunks for instructions aimed at the model: report, or keep them out."
    )

    vector_store: Literal["embedded", "milvus"] = Field(
        "embedded", description="Where new index versions keep their vectors: files, or Milvus."
    )
    milvus_uri: str | None = Field(
        None,
        pattern=r"^(https?|tcp|unix)://.+|.+\.db$",
        description="Milvus server URL, or a Milvus Lite .db path; default: milvus.db in the index folder.",
    )
    milvus_token: SecretStr | None = Field(None, description="Milvus token: 'user:password' or an API key.")
    search_mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    fusion: Literal["rrf", "weighted"] = "weighted"
    dense_weight: float = Field(0.7, ge=0.0, le=1.0)
    coverage_weight: float = Field(
        0.2, ge=0.0, le=2.0, description="Rerank the top 20 by the share of rare query words present."
    )
    top_k: int = Field(5, ge=1, le=100)

    generator: str = Field("smollm2-135m", description="Bundled GGUF model or a .gguf path.")
    generator_threads: int = Field(2, ge=1, le=64)
    generator_adaptive_threads: bool = Field(
        True,
        description="Decode with fewer than generator_threads while other tasks hold the cores (llama.cpp's "
        "threads wait for each other: one busy core made 2 threads 2.4x slower than 1).",
    )
    generator_url: str | None = Field(
        None, description="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1; none: run in process."
    )
    generator_model: str = Field("", description="Model name sent to the server; empty: the one it serves.")
    generator_api_key: SecretStr | None = Field(None, description="Bearer key for the generator server.")
    generator_timeout_s: float = Field(60.0, gt=0, description="Longest wait for the server's next bytes.")
    generator_retries: int = Field(2, ge=0, le=10, description="Retries before the first token (backoff).")
    generator_grammar_field: str = Field(
        "grammar", description="Request field for the answer grammar (vLLM: structured_outputs.grammar)."
    )
    generator_request_fields: dict[str, Any] = Field(
        {"repeat_penalty": 1.1}, description="Extra request fields (sampling); a null removes a sent field."
    )
    context_tokens: int = Field(2048, ge=512)
    max_answer_tokens: int = Field(128, ge=8, le=4096)
    prompt_passages: int = Field(1, ge=1, le=10)

    min_retrieval_score: float = Field(0.2, description="Abstain below this top dense cosine.")
    min_support: float = Field(0.5, description="A sentence needs this support to keep a citation.")
    min_lexical_support: float = Field(
        0.0, ge=0.0, le=1.0, description="...and this share of its content words in the passage."
    )
    min_answer_relevance: float = Field(
        0.0, description="...and this cosine to the question (it must answer, not just be true)."
    )
    extractive_passages: int = Field(1, ge=1, le=10, description="Top passages a quote may come from.")
    prefer_quotes: bool = Field(
        True,
        description="Quote the closest passage sentence when it clears min_extractive_similarity, and "
        "generate only when none does (the bundled 135M model's sentences were less accurate).",
    )
    min_extractive_similarity: float = Field(
        0.45, description="Quote the passage sentence closest to the question when at least this close."
    )
    answer_selector: bool = Field(
        True,
        description="Let the trained evidence selector choose the units that answer the question (and "
        "abstain when none does); false: the closest sentence by similarity, as before.",
    )
    selector_passages: int = Field(
        3, ge=1, le=20, description="Top passages whose units the selector scores."
    )
    follow_up_as_asked: bool = Field(
        True,
        description="When a follow-up made standalone finds no answering evidence, read the turn as "
        "the customer asked it, if it says enough to stand alone (the carried words can pull search "
        "back to the previous topic).",
    )
    selector_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Abstain below this selector probability (default: the shipped one).",
    )
    selector_model: Path | None = Field(
        None, description="An evidence selector model file (.npz) instead of the shipped one."
    )
    selector_cross: bool = Field(
        True,
        description="Re-read the selector's best units with the question by its cross-encoder (a LoRA "
        "adapter on the bundled encoder) and combine the scores.",
    )
    evidence_units: int = Field(3, ge=1, le=5, description="Most units an answer is built from.")
    max_question_chars: int = Field(2000, ge=10)
    input_guard: bool = Field(True, description="Check questions for prompt injection and PII first.")
    injection_threshold: float | None = Field(
        None, gt=0.0, le=1.0, description="Injection classifier threshold (default: the shipped one)."
    )
    injection_long_threshold: float = Field(
        0.6,
        gt=0.0,
        le=1.0,
        description="Same, for messages scored sentence by sentence (over 300 characters).",
    )
    blocked_message: str = "I can't help with that request."
    guard_policy: Path | None = Field(None, description="TOML of topics/patterns to refuse or hand off.")
    trace: bool = Field(True, description="Record a trace of every answer in traces.sqlite beside the index.")
    store_conversations: bool = Field(
        True, description="The API stores each conversation (PII masked) and returns its id to continue it."
    )
    conversation_retention_days: float | None = Field(
        30.0, gt=0, description="A conversation not continued for this long expires (unknown id); none: keep."
    )
    trace_retention_days: float | None = Field(
        None, gt=0, description="Delete traces older than this at each start of `tandem serve`; none: keep."
    )
    otlp_endpoint: str | None = Field(
        None,
        pattern=r"^https?://",
        description="Also send each trace to this OTLP/HTTP endpoint, e.g. http://collector:4318/v1/traces.",
    )

    assistant_name: str = Field("", description="Shown under the product name on the web page.")
    sample_questions: list[str] = Field(
        default_factory=list, max_length=12, description="Suggested questions on an empty chat page."
    )
    host: str = Field("127.0.0.1", description="Address `tandem serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `tandem serve` listens on.")
    max_request_bytes: int = Field(25_000_000, ge=1024, description="Larger request bodies get 413.")
    generation_concurrency: int = Field(1, ge=1, le=64, description="Answers generated at once.")
    generation_queue: int = Field(8, ge=0, le=10_000, description="Answers waiting; more get 429.")
    generation_wait_s: float = Field(60.0, gt=0, description="Longest wait for a turn before 503.")
    upload_queue: int = Field(
        32, ge=0, le=10_000, description="Uploads waiting to be ingested; more get 429."
    )
    upload_wait_s: float = Field(
        600.0, gt=0, description="Longest wait of an upload for the ingest before it (then 503)."
    )

    @classmethod
    def load(cls, path: Path | None = None, **overrides: Any) -> Settings:
        """Defaults < TOML file < environment < explicit overrides (e.g. CLI flags)."""
        file_values: dict[str, Any] = {}
        candidate = path or (Path(os.environ["TANDEM_CONFIG"]) if "TANDEM_CONFIG" in os.environ else None)
        if candidate is None and Path("tandem.toml").is_file():
            candidate = Path("tandem.toml")
        if candidate is not None:
            if not candidate.is_file():
                raise ConfigError(f"config file {candidate} does not exist")
            try:
                file_values = tomllib.loads(candidate.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"config file {candidate} is not valid TOML: {exc}") from None
            file_values = file_values.get("tandem", file_values)
        try:
            env_values = cls().model_dump(exclude_unset=True)
            merged = {
                **file_values,
                **env_values,
                **{k: v for k, v in overrides.items() if v is not None},
            }
            settings = cls.model_validate(merged)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            raise ConfigError(f"setting {where!r}: {problem['msg']}") from None
        if settings.chunk_overlap >= settings.chunk_tokens // 2:
            raise ConfigError(
                f"chunk_overlap must be below half of chunk_tokens ({settings.chunk_tokens // 2}). "
                f"Currently it is {settings.chunk_overlap}."
            )
        return settings
