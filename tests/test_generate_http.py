"""The HTTP generator against a real OpenAI-compatible server: llama-cpp-python's own, on 127.0.0.1.

One server process (the bundled GGUF, started with an API key) serves the module; the mid-stream
test kills and restarts it. Plumbing the real server cannot show (503s, retries, the circuit
breaker, 404 without a model list) uses a tiny stub server in a thread.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from tandem.config import Settings
from tandem.errors import ConfigError, ModelError
from tandem.evaluate.demo_kb import demo_kb_root, demo_questions
from tandem.generate.base import GenerationStats, Generator, load_generator
from tandem.generate.circuit import CircuitBreaker
from tandem.generate.llamacpp import resolve_gguf
from tandem.generate.openai_http import OpenAIHTTPGenerator, ServerUnavailableError
from tandem.generate.prompt import ANSWER_GRAMMAR, SYSTEM

pytestmark = pytest.mark.slow  # a llama.cpp server process and the decoder

API_KEY = "test-key"
MODEL = "smollm2-135m"
QUESTIONS = ("q002", "q005", "q011")  # extractive, generated, generated with the bundled model
MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {
        "role": "user",
        "content": 'Passages:\n\n[1] Refunds\n"""\nRefunds are issued within 5 business days after '
        'the returned bike is inspected.\n"""\n\nQuestion: How long do refunds take?',
    },
]
LONG_GRAMMAR = "root ::= [a-z ,.]{400,}"  # no early stop: the stream lasts max_tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """`python -m llama_cpp.server` with the bundled GGUF on one port; start, kill, start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        gguf, _ = resolve_gguf(MODEL)
        args = ["--model", str(gguf), "--model_alias", MODEL, "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1"]
        args += ["--api_key", API_KEY, "--verbose", "false", "--interrupt_requests", "false"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}")
            try:
                headers = {"Authorization": f"Bearer {API_KEY}"}
                if httpx.get(f"{self.url}/models", headers=headers, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("llama_cpp.server did not answer /v1/models within 90 s")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    llama = LlamaServer()
    llama.start()
    yield llama
    llama.stop()


def generator(server: LlamaServer, **options: object) -> OpenAIHTTPGenerator:
    options = {"model": MODEL, "api_key": API_KEY, "backoff_s": 0.05, **options}
    return OpenAIHTTPGenerator(server.url, **options)  # type: ignore[arg-type]


# -- the real server ---------------------------------------------------------------------------
def test_streams_a_grammar_constrained_answer(server: LlamaServer) -> None:
    gen = generator(server)
    assert isinstance(gen, Generator)
    assert gen.model_id == f"http:{MODEL}@127.0.0.1:{server.port}"
    stats = GenerationStats()
    pieces = list(gen.stream(MESSAGES, 64, stats, ANSWER_GRAMMAR))
    text = "".join(pieces)
    assert len(pieces) > 3 and text[0].isupper() and text.endswith((".", "!", "?"))
    assert stats.finish_reason == "stop" and stats.completion_tokens == len(pieces)
    assert 0 < stats.first_token_ms <= stats.total_ms and stats.prompt_tokens > 50


def test_empty_model_setting_uses_the_one_the_server_serves(server: LlamaServer) -> None:
    gen = OpenAIHTTPGenerator(server.url, "", api_key=API_KEY)
    assert gen.model_id == f"http:{MODEL}@127.0.0.1:{server.port}"


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    """The demo folders that the compared questions are about (the whole demo KB takes ~30 s)."""
    from tandem.pipeline import Tandem

    index = tmp_path_factory.mktemp("demo") / "index"
    bot = Tandem(index, Settings.load(None), encoder=encoder)
    docs = demo_kb_root() / "docs"
    assert bot.ingest([docs / "account", docs / "products"]).ok
    return index


def test_answers_and_citations_match_the_in_process_backend(
    server: LlamaServer, demo_index: Path, settings: Settings, encoder
) -> None:
    from tandem.pipeline import Tandem

    # one llama.cpp thread on each side, like the server: busy-waiting threads crawl on a shared CPU;
    # the similarity path, so that every listed question reaches the generator (the selector may
    # abstain first, and test_answer covers generation from the selected evidence)
    base = settings.model_copy(
        update={
            "trace": False,
            "input_guard": False,
            "generator_threads": 1,
            "prefer_quotes": False,
            "answer_selector": False,
        }
    )
    key = SecretStr(API_KEY)
    remote = base.model_copy(update={"generator_url": server.url, "generator_api_key": key})
    local_bot = Tandem(demo_index, base, encoder=encoder)
    http_bot = Tandem(demo_index, remote, encoder=encoder)
    questions = {q["id"]: q["question"] for q in demo_questions()}
    modes = set()
    for qid in QUESTIONS:
        local, http = local_bot.ask(questions[qid]), http_bot.ask(questions[qid])
        assert http.draft == local.draft, qid
        assert http.text == local.text, qid
        assert [c.chunk_id for c in http.citations] == [c.chunk_id for c in local.citations], qid
        assert http.mode == local.mode and http.citations, qid
        modes.add(http.mode)
    assert "generated" in modes
    assert http_bot.generator.backend == "openai-http"
    assert http.versions["generator"] == f"http:{MODEL}@127.0.0.1:{server.port}"


def test_wrong_model_name_lists_the_served_models(server: LlamaServer) -> None:
    # llama_cpp.server answers any model name with its own model, so the name is checked
    # against /v1/models before the first request.
    with pytest.raises(ModelError, match=r"no model 'smolm2'.*serves 'smollm2-135m'.*TANDEM_GENERATOR_MODEL"):
        list(generator(server, model="smolm2").stream(MESSAGES, 8))


def test_missing_api_key_says_which_setting_to_set(server: LlamaServer) -> None:
    gen = generator(server, api_key=None)
    with pytest.raises(ModelError, match=r"HTTP 401.*TANDEM_GENERATOR_API_KEY"):
        list(gen.stream(MESSAGES, 8))


def test_server_down_at_start_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    gen = OpenAIHTTPGenerator(url, MODEL, retries=1, backoff_s=0.01)
    with pytest.raises(ServerUnavailableError) as caught:
        list(gen.stream(MESSAGES, 8))
    message = str(caught.value)
    assert url in message and "connection refused" in message and "2 attempts" in message
    assert "start the server or fix TANDEM_GENERATOR_URL" in message
    # with no model configured the name is asked first (for traces): that also trips the breaker
    gen = OpenAIHTTPGenerator(url, "", retries=0, failure_threshold=2, cooldown_s=60)
    for _ in range(2):
        with pytest.raises(ServerUnavailableError, match="connection refused"):
            _ = gen.model_id
    with pytest.raises(ServerUnavailableError, match=r"failed 2 requests in a row.*circuit breaker open"):
        list(gen.stream(MESSAGES, 8))


def test_server_dying_mid_stream_fails_cleanly_then_recovers(server: LlamaServer) -> None:
    gen = generator(server)
    pieces = gen.stream(MESSAGES, 200, grammar=LONG_GRAMMAR)
    first = next(pieces)
    server.kill()
    with pytest.raises(ServerUnavailableError, match=r"closed the stream after \d+ pieces.*cut off"):
        for piece in pieces:
            first += piece
    with pytest.raises(ServerUnavailableError, match="connection refused"):
        list(generator(server, retries=0).stream(MESSAGES, 8))
    server.start()
    assert "".join(gen.stream(MESSAGES, 64, grammar=ANSWER_GRAMMAR)).endswith(".")
    assert gen.breaker.state == "closed"


# -- plumbing, on a stub server ----------------------------------------------------------------
class Stub:
    """Scripted answers for /v1/chat/completions: "ok" streams two pieces; an int is that status."""

    def __init__(self, script: list[str | int], models: list[str] | None = None) -> None:
        self.script, self.models, self.bodies = script, models, []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if stub.models is None:
                    return self.reply(404, {"detail": "Not Found"})
                self.reply(200, {"object": "list", "data": [{"id": m} for m in stub.models]})

            def do_POST(self) -> None:
                stub.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                step = stub.script.pop(0) if len(stub.script) > 1 else stub.script[0]
                if step != "ok":
                    return self.reply(int(step), {"error": {"message": f"scripted {step}"}})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for delta, finish in (({"content": "Hello"}, None), ({"content": " there."}, "stop")):
                    chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                usage = {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}}
                self.wfile.write(f": keep-alive\n\ndata: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())

            def reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stub() -> Iterator[Callable[..., Stub]]:
    made: list[Stub] = []

    def make(script: list[str | int], models: list[str] | None = None) -> Stub:
        made.append(Stub(script, models))
        return made[-1]

    yield make
    for s in made:
        s.close()


def test_request_fields_grammar_field_and_usage(stub) -> None:
    server = stub(["ok"], models=["m"])
    gen = OpenAIHTTPGenerator(
        server.url,
        "m",
        grammar_field="structured_outputs.grammar",
        request_fields={"repetition_penalty": 1.1, "stream_options": None},
    )
    stats = GenerationStats()
    assert "".join(gen.stream(MESSAGES, 16, stats, "root ::= x")) == "Hello there."
    (body,) = server.bodies
    assert body["model"] == "m" and body["temperature"] == 0.0 and body["stream"] is True
    assert body["structured_outputs"] == {"grammar": "root ::= x"} and body["repetition_penalty"] == 1.1
    assert "stream_options" not in body and "grammar" not in body
    assert (stats.prompt_tokens, stats.completion_tokens, stats.finish_reason) == (7, 2, "stop")
    list(OpenAIHTTPGenerator(server.url, "m", grammar_field="").stream(MESSAGES, 16, grammar="root ::= x"))
    assert "grammar" not in server.bodies[-1] and server.bodies[-1]["repeat_penalty"] == 1.1


def test_retries_before_the_first_token(stub) -> None:
    server = stub([503, 502, "ok"], models=["m"])
    gen = OpenAIHTTPGenerator(server.url, "m", retries=2, backoff_s=0.01)
    assert "".join(gen.stream(MESSAGES)) == "Hello there."
    assert len(server.bodies) == 3
    server.script[:] = [503]
    with pytest.raises(ServerUnavailableError, match=r"HTTP 503: scripted 503, 3 attempts"):
        list(gen.stream(MESSAGES))


def test_404_without_a_model_list_points_at_url_and_model(stub) -> None:
    server = stub([404], models=None)
    with pytest.raises(ModelError, match=r"answered 404 \(scripted 404\).*TANDEM_GENERATOR_URL"):
        list(OpenAIHTTPGenerator(server.url, "llama3").stream(MESSAGES))
    with pytest.raises(ModelError, match="does not list its models; set TANDEM_GENERATOR_MODEL"):
        list(OpenAIHTTPGenerator(server.url, "").stream(MESSAGES))


def test_circuit_breaker_opens_then_a_probe_closes_it(stub) -> None:
    server = stub([503], models=["m"])
    gen = OpenAIHTTPGenerator(server.url, "m", retries=0, failure_threshold=2, cooldown_s=0.3)
    for _ in range(2):
        with pytest.raises(ServerUnavailableError, match="HTTP 503"):
            list(gen.stream(MESSAGES))
    with pytest.raises(ServerUnavailableError, match="circuit breaker open"):
        list(gen.stream(MESSAGES))
    assert len(server.bodies) == 2 and gen.breaker.state == "open"  # failed fast, no request
    server.script[:] = ["ok"]
    time.sleep(0.35)
    assert gen.breaker.state == "half-open"
    assert "".join(gen.stream(MESSAGES)) == "Hello there."
    assert gen.breaker.state == "closed"


def test_circuit_breaker_half_open_lets_one_probe_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10, clock=lambda: now[0])
    breaker.failure()
    assert not breaker.acquire() and breaker.retry_in_s() == 10
    now[0] = 10.0
    assert breaker.acquire() and not breaker.acquire()  # one probe at a time
    breaker.failure()  # the probe failed: open again for a full cool-down
    now[0] = 15.0
    assert breaker.state == "open" and not breaker.acquire()
    now[0] = 20.0
    assert breaker.acquire()
    breaker.success()
    assert breaker.state == "closed" and breaker.acquire() and breaker.acquire()


def test_settings_choose_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_GENERATOR_URL", "http://gpu-box:8000")
    monkeypatch.setenv("TANDEM_GENERATOR_REQUEST_FIELDS", '{"repetition_penalty": 1.1}')
    monkeypatch.setenv("TANDEM_GENERATOR_GRAMMAR_FIELD", "guided_grammar")
    monkeypatch.setenv("TANDEM_GENERATOR_MODEL", "Qwen/Qwen2.5-1.5B-Instruct")
    gen = load_generator(Settings.load(None))
    assert isinstance(gen, OpenAIHTTPGenerator)
    assert gen.api_root == "http://gpu-box:8000/v1" and gen.grammar_field == "guided_grammar"
    assert gen.request_fields == {"repetition_penalty": 1.1}
    assert gen.model_id == "http:Qwen/Qwen2.5-1.5B-Instruct@gpu-box:8000"
    with pytest.raises(ConfigError, match="'gpu-box:8000'"):
        OpenAIHTTPGenerator("gpu-box:8000")
