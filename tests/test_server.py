"""`tandem serve` as a real process on 127.0.0.1: the official OpenAI client, auth, bad input,
backpressure and cancellation, against the bundled models and the demo knowledge base."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from openai import APIStatusError, AuthenticationError, NotFoundError, OpenAI

from tandem.server.process import LiveServer, cli, start_server

pytestmark = pytest.mark.slow  # the server loads the decoder and ingests the demo knowledge base

QUESTION = "How long do I have to return a bike for a refund?"
LONG_QUESTION = "How do I charge the battery?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, settings, encoder):
    """The demo knowledge base in an index of its own (uploads must not reach the shared demo
    index), with the demo router and guard policy, a queue of 1 and a small body limit. It
    generates every answer (`prefer_quotes` and the evidence selector off, so no question stops
    before the decoder): streaming, backpressure and cancellation are about generation; the
    default selected answers are tested in test_select.py."""
    from tandem.evaluate.demo_kb import demo_kb_root
    from tandem.pipeline import Tandem

    folder = tmp_path_factory.mktemp("serve")
    bot = Tandem(folder / "index", settings, encoder=encoder)
    bot.ingest([demo_kb_root() / "docs"])
    examples = demo_kb_root().parent
    live = start_server(
        folder,
        "--index",
        str(folder / "index"),
        "--router",
        str(examples / "router" / "router.toml"),
        settings={
            "TANDEM_GUARD_POLICY": str(examples / "guard" / "policy.toml"),
            "TANDEM_GENERATION_QUEUE": "1",
            "TANDEM_MAX_REQUEST_BYTES": "300000",
            "TANDEM_PREFER_QUOTES": "false",
            "TANDEM_ANSWER_SELECTOR": "false",
        },
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def keys(server: LiveServer) -> dict[str, str]:
    return {"user": server.create_key("user"), "admin": server.create_key("admin")}


@pytest.fixture(scope="module")
def client(server: LiveServer, keys: dict[str, str]) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key=keys["user"], max_retries=0, timeout=120)


def _http(server: LiveServer, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=120)


def test_chat_completion_with_citations_in_the_extension(client: OpenAI, server, keys) -> None:
    completion = client.chat.completions.create(
        model="tandem", messages=[{"role": "user", "content": QUESTION}]
    )
    text = completion.choices[0].message.content or ""
    extension = completion.model_extra["tandem"]
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert "30 days" in text and numbers, text
    cited = {c["number"]: c for c in extension["citations"]}
    assert numbers <= set(cited), "every [n] in the text has its citation"
    assert any(c["doc_id"].endswith("faq.csv") or "return" in c["doc_id"] for c in cited.values())
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    trace = _http(server, keys["user"]).get(f"/v1/traces/{extension['trace_id']}").json()
    assert trace["question"] == QUESTION and trace["spans"]


def test_a_follow_up_in_the_messages_list_is_searched_in_context(client: OpenAI, server, keys) -> None:
    messages = [
        {"role": "user", "content": "How much does the Trail T5 cost?"},
        {"role": "assistant", "content": "The Trail T5 costs EUR 3,890 including VAT. [1]"},
        {"role": "user", "content": "And the Fold F1?"},
    ]
    completion = client.chat.completions.create(model="tandem", messages=messages)  # type: ignore[arg-type]
    trace_id = completion.model_extra["tandem"]["trace_id"]
    spans = {s["name"]: s for s in _http(server, keys["user"]).get(f"/v1/traces/{trace_id}").json()["spans"]}
    assert spans["resolve"]["attributes"]["resolved"] == "How much does the Fold F1 cost?"
    assert any("fold-f1" in chunk for chunk in spans["retrieve"]["attributes"]["chunk_ids"][:3])


def test_a_stored_conversation_is_continued_by_its_id(client: OpenAI, server, keys) -> None:
    first = client.chat.completions.create(
        model="tandem", messages=[{"role": "user", "content": "How much does the Trail T5 cost?"}]
    )
    conversation_id = first.model_extra["tandem"]["conversation_id"]
    assert conversation_id.startswith("conv_") and first.model_extra["tandem"]["turn"] == 1
    second = client.chat.completions.create(
        model="tandem",
        messages=[
            {"role": "user", "content": "And the Fold F1?"}
        ],  # only the new turn: the server has the rest
        extra_body={"conversation_id": conversation_id},
    )
    extension = second.model_extra["tandem"]
    assert extension["conversation_id"] == conversation_id and extension["turn"] == 2
    spans = {
        s["name"]: s
        for s in _http(server, keys["user"]).get(f"/v1/traces/{extension['trace_id']}").json()["spans"]
    }
    assert spans["resolve"]["attributes"]["resolved"] == "How much does the Fold F1 cost?"
    shown = _http(server, keys["user"]).get(f"/v1/conversations/{conversation_id}").json()
    assert [e["question"] for e in shown["exchanges"]] == [
        "How much does the Trail T5 cost?",
        "And the Fold F1?",
    ]
    assert shown["exchanges"][1]["resolved"] == "How much does the Fold F1 cost?"
    listed = _http(server, keys["user"]).get("/v1/conversations").json()["data"]
    assert conversation_id in [c["id"] for c in listed]


def test_conversations_are_scoped_to_their_key_and_unknown_ids_are_404(client: OpenAI, server, keys) -> None:
    other_key = server.create_key("user")
    mine = _http(server, keys["user"]).post("/v1/conversations").json()["id"]
    other = OpenAI(base_url=f"{server.url}/v1", api_key=other_key, max_retries=0, timeout=120)
    for who, conversation_id in ((other, mine), (client, "conv_0000000000000000")):
        with pytest.raises(NotFoundError) as caught:
            who.chat.completions.create(
                model="tandem",
                messages=[{"role": "user", "content": QUESTION}],
                extra_body={"conversation_id": conversation_id},
            )
        assert "does not exist for this caller" in str(caught.value)
    assert _http(server, other_key).get(f"/v1/conversations/{mine}").status_code == 404
    assert mine not in [c["id"] for c in _http(server, other_key).get("/v1/conversations").json()["data"]]
    assert _http(server, keys["admin"]).get(f"/v1/conversations/{mine}").status_code == 200  # admins inspect


def test_asking_for_a_person_hands_off_with_the_transcript(client: OpenAI, server, keys) -> None:
    conversation_id = _http(server, keys["user"]).post("/v1/conversations").json()["id"]
    turns = [
        "My refund still hasn't arrived, my email is jane@example.com",
        "can I talk to a real person please",
    ]
    for turn in turns:
        completion = client.chat.completions.create(
            model="tandem",
            messages=[{"role": "user", "content": turn}],
            extra_body={"conversation_id": conversation_id},
        )
    extension = completion.model_extra["tandem"]
    assert extension["mode"] == "handoff" and extension["ticket"], extension
    assert extension["route"]["reasons"] == ["the customer asked for a person"]
    tickets = json.loads(cli(server.env, "route", "tickets", "--json"))
    ticket = next(t for t in tickets if t["ticket"] == extension["ticket"])
    assert ticket["conversation_id"] == conversation_id and ticket["queue"] == "support"
    assert [row["turn"] for row in ticket["transcript"]] == [1, 2]
    assert "jane@example.com" not in json.dumps(ticket) and "refund" in ticket["transcript"][0]["user"]
    assert ticket["transcript"][0]["labels"]["intent"]  # each turn with its route labels


def test_streamed_chat_matches_its_final_answer(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="tandem",
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, extension, usage = [], None, None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        extension = (chunk.model_extra or {}).get("tandem") or extension
        usage = chunk.usage or usage
    assert extension is not None and extension["citations"]
    streamed = "".join(pieces)
    assert streamed.strip() and re.search(r"\[\d+\]", streamed)
    assert usage is not None and usage.total_tokens > 0


def test_embeddings_match_the_in_process_encoder(client: OpenAI, encoder) -> None:
    texts = ["How do refunds work?", "The battery charges in four hours."]
    result = client.embeddings.create(model="tandem", input=texts)  # the client asks for base64
    served = np.array([d.embedding for d in result.data], dtype=np.float32)
    local = encoder.encode(texts)
    assert served.shape == (2, 384)
    assert np.allclose(served, local, atol=1e-4)
    floats = client.embeddings.create(model="tandem", input="hello", encoding_format="float")
    assert len(floats.data[0].embedding) == 384


def test_keys_and_scopes(server: LiveServer, keys: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError) as wrong:
        OpenAI(base_url=f"{server.url}/v1", api_key="tdm_wrong", max_retries=0).models.list()
    assert "invalid API key" in str(wrong.value)
    response = _http(server, None).post("/v1/search", json={"query": "refund"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_api_key"
    response = _http(server, "tdm_not-a-real-key").post("/v1/search", json={"query": "refund"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"

    upload = {"files": ("warranty-extra.md", b"# Frame lifetime\n\nZebra frames carry a 12-year warranty.\n")}
    response = _http(server, keys["user"]).post("/v1/documents", files=upload)
    assert response.status_code == 403 and "admin" in response.json()["error"]["message"]
    response = _http(server, keys["admin"]).post("/v1/documents", files=upload, data={"tags": "extra"})
    assert response.status_code == 201, response.text
    found = _http(server, keys["user"]).post(
        "/v1/search", json={"query": "zebra frame warranty years", "k": 1, "filters": {"tag": ["extra"]}}
    )
    assert found.json()["passages"][0]["doc_id"] == "warranty-extra.md"

    temporary = server.create_key("user")
    assert _http(server, temporary).get("/v1/models").status_code == 200
    key = _stores(server).verify(temporary)
    assert key is not None and key.id in cli(server.env, "keys", "list")
    cli(server.env, "keys", "revoke", key.id)
    assert _http(server, temporary).get("/v1/models").status_code == 401


def _settings(server: LiveServer):
    from tandem.config import Settings

    return Settings.load(None, data_dir=Path(server.env["TANDEM_DATA_DIR"]))


def _stores(server: LiveServer):
    from tandem.storage import KeyStore, open_store

    return KeyStore(open_store(_settings(server), "main"))


def _said(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "invalid_json"),
        ({"json": {"model": "tandem", "messages": "hello"}}, 422, "invalid_request"),
        (
            {"json": {"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}},
            404,
            "model_not_found",
        ),
        ({"json": {"model": "tandem", "messages": []}}, 422, "invalid_request"),
        (
            {"json": {"model": "tandem", "messages": [{"role": "user", "content": "  "}]}},
            400,
            "empty_message",
        ),
        ({"json": {"model": "tandem", "messages": [{"role": "user", "content": "x" * 400_000}]}}, 413, None),
    ],
)
def test_bad_chat_requests_get_clear_errors(server, keys, request_kwargs, status, code) -> None:
    response = _http(server, keys["user"]).post("/v1/chat/completions", **request_kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and (code is None or error["code"] == code)


def test_bad_uploads_are_refused_and_the_server_keeps_serving(server, keys) -> None:
    admin = _http(server, keys["admin"])
    for name, status in (("../../etc/passwd.md", 400), ("notes.exe", 415), (".hidden.md", 400)):
        response = admin.post("/v1/documents", files={"files": (name, b"# x\n\ntext\n")})
        assert response.status_code == status, (name, response.text)
        assert response.json()["error"]["message"]
    big = {"files": ("big.md", b"a" * 400_000)}
    assert admin.post("/v1/documents", files=big).status_code == 413
    assert not (Path(server.env["TANDEM_DATA_DIR"]).parent / "etc").exists()
    assert _http(server, None).get("/healthz").status_code == 200


def test_a_chunked_body_over_the_limit_is_413_too(server, keys) -> None:
    built = httpx.Request("POST", f"{server.url}/v1/documents", files={"files": ("big.md", b"a" * 400_000)})
    body = built.read()
    headers = {k: v for k, v in built.headers.items() if k.lower() != "content-length"}

    def chunks():  # no Content-Length: the limit is found while the body streams in
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    response = _http(server, keys["admin"]).post("/v1/documents", content=chunks(), headers=headers)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "body_too_large"


def test_concurrent_uploads_are_all_ingested(server, keys) -> None:
    """Ten uploads at once: each waits for the ingest before it (or gets 429 with Retry-After);
    none is dropped, and every document is searchable afterwards."""
    results: list[tuple[str, httpx.Response]] = []

    def upload(i: int) -> None:
        text = f"# Frame code {i}\n\nThe frame code of the Probe {i} bike is PRB-{i:04d}-X.\n".encode()
        with _http(server, keys["admin"]) as admin:
            name = f"probe-{i}.md"
            results.append((name, admin.post("/v1/documents", files={"files": (name, text)})))

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(results) == 10
    for _, r in results:
        assert r.status_code == 201 or (r.status_code == 429 and int(r.headers["Retry-After"]) >= 1), r.text
    accepted = {name for name, r in results if r.status_code == 201 and r.json()["ok"]}
    assert len(accepted) == 10  # the upload line (32 by default) holds them all
    search = {"query": "Probe bike frame code", "k": 20, "filters": {"source": ["*probe-*"]}}
    passages = _http(server, keys["user"]).post("/v1/search", json=search).json()["passages"]
    assert accepted <= {Path(p["doc_id"]).name for p in passages}


def test_unknown_model_through_the_openai_client(client: OpenAI) -> None:
    with pytest.raises(NotFoundError):
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])


def test_full_queue_answers_429_with_retry_after(server, keys) -> None:
    """One answer runs, one waits (queue of 1): the rest are turned away at once, not left hanging."""
    results: list[httpx.Response] = []

    def ask() -> None:
        body = {"model": "tandem", "messages": [{"role": "user", "content": LONG_QUESTION}]}
        results.append(_http(server, keys["user"]).post("/v1/chat/completions", json=body))

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(200) >= 2 and statuses.count(429) >= 1, statuses
    rejected = next(r for r in results if r.status_code == 429)
    assert int(rejected.headers["Retry-After"]) >= 1
    assert rejected.json()["error"]["code"] == "queue_full"


def test_client_disconnect_cancels_generation(server, keys) -> None:
    body = {"model": "tandem", "stream": True, "messages": [{"role": "user", "content": LONG_QUESTION}]}
    with _http(server, keys["user"]) as http, http.stream("POST", "/v1/chat/completions", json=body) as r:
        for line in r.iter_lines():
            if '"content": "' in line and '"content": ""' not in line:
                break  # the first sentence arrived: hang up mid-answer
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        metrics = _http(server, None).get("/metrics").text
        cancelled = _metric(metrics, "tandem_generation_cancelled_total") >= 1
        if cancelled and _metric(metrics, "tandem_generation_running") == 0:  # both settle
            break
        time.sleep(0.2)
    assert _metric(metrics, "tandem_generation_cancelled_total") >= 1
    assert _metric(metrics, "tandem_generation_running") == 0


JSON = {"Content-Type": "application/json"}
ODD_STRINGS = ["refund \ud800 policy", "refund\x00policy", "\u202erefund policy\u200f", "refund " * 15_000]


def test_odd_unicode_never_gives_a_5xx_and_streams_always_end(server, keys) -> None:
    """Lone surrogates, NUL, RTL marks and a 100 kB string on every text endpoint: answers or 4xx
    errors, never a 5xx; each stream ends with [DONE]; /metrics counts every status."""
    http = _http(server, keys["user"])
    server_errors_before = _server_errors(_http(server, None).get("/metrics").text)
    statuses = []
    for odd in ODD_STRINGS:
        chat = {"model": "tandem", "messages": [{"role": "user", "content": odd}]}
        requests = [
            ("/v1/chat/completions", chat),
            ("/v1/embeddings", {"input": [odd, "refunds"]}),
            ("/v1/search", {"query": odd, "k": 2}),
            ("/v1/feedback", {"rating": "up", "comment": odd[:2000], "question": odd[:20000]}),
        ]
        for path, body in requests:
            response = http.post(path, content=json.dumps(body), headers=JSON)
            statuses.append(response.status_code)
            assert response.status_code < 500, (path, odd[:30], response.text[:300])
        streamed = json.dumps({**chat, "stream": True})  # ASCII JSON: "\ud800" as an escape
        with http.stream("POST", "/v1/chat/completions", content=streamed, headers=JSON) as stream:
            lines = [line for line in stream.iter_lines() if line.strip()]
        assert stream.status_code < 500 and (stream.status_code != 200 or lines[-1] == "data: [DONE]")
    metrics = _http(server, None).get("/metrics").text
    assert _server_errors(metrics) == server_errors_before  # none during the fuzz
    counted = set(re.findall(r'^tandem_http_requests_total\{[^}]*status="(\d+)"', metrics, re.M))
    assert {str(code) for code in statuses} <= counted


def _server_errors(metrics: str) -> float:
    """5xx responses counted so far (on any route; /readyz answers 503 while the models load)."""
    counted = re.findall(r'^tandem_http_requests_total\{[^}]*status="(5\d\d)"\} ([0-9.e+]+)$', metrics, re.M)
    return sum(float(n) for _, n in counted)


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_feedback_is_stored_and_health_endpoints(server, keys) -> None:
    http = _http(server, keys["user"])
    response = http.post("/v1/feedback", json={"rating": "down", "comment": "too vague", "trace_id": "abc"})
    assert response.status_code == 201
    assert http.post("/v1/feedback", json={"rating": "sideways"}).status_code == 422
    from tandem.storage import FeedbackStore, open_store

    stored = FeedbackStore(open_store(_settings(server), "main")).list()
    assert any(f["comment"] == "too vague" and f["trace_id"] == "abc" for f in stored)
    assert _http(server, None).get("/readyz").json()["status"] == "ready"
    metrics = _http(server, None).get("/metrics").text
    assert "tandem_http_requests_total" in metrics and "tandem_feedback_total" in metrics


PLANTED_PII = ("jo.probe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "4111111111111111")


def test_nothing_personal_is_kept_unmasked_on_disk(server, keys) -> None:
    """Personal data in a question, a feedback comment and a feedback's question reaches no file:
    no table of any SQLite store, no trace, no ticket, no log."""
    http = _http(server, keys["user"])
    email, phone, card = PLANTED_PII[:3]
    question = f"My card {card} was charged twice; mail {email} or call {phone}. How do refunds work?"
    chat = {"model": "tandem", "messages": [{"role": "user", "content": question}]}
    assert http.post("/v1/chat/completions", json=chat).status_code == 200
    feedback = {"rating": "down", "comment": f"call me on {phone} or {email}", "question": question}
    assert http.post("/v1/feedback", json=feedback).status_code == 201
    from tandem.storage import FeedbackStore, open_store

    stored = FeedbackStore(open_store(_settings(server), "main")).list(limit=1)[0]
    assert (
        "[PHONE]" in stored["comment"] and "[EMAIL]" in stored["comment"] and "[CARD]" in stored["question"]
    )
    leaks = [
        (str(path), value)
        for path in server.log.parent.rglob("*")
        if path.is_file()
        for value in PLANTED_PII
        if value.encode() in path.read_bytes()
    ]
    assert not leaks


def test_classify_and_openapi(server, keys) -> None:
    http = _http(server, keys["user"])
    decision = http.post("/v1/classify", json={"text": "My battery caught fire while charging"}).json()
    assert decision["action"].startswith("handoff")
    schema = _http(server, None).get("/openapi.json").json()
    assert "/v1/chat/completions" in schema["paths"] and "/v1/embeddings" in schema["paths"]


def test_openai_client_reports_auth_errors(server) -> None:
    with pytest.raises(APIStatusError) as caught:
        OpenAI(base_url=f"{server.url}/v1", api_key="tdm_wrong", max_retries=0).chat.completions.create(
            model="tandem", messages=[{"role": "user", "content": QUESTION}]
        )
    assert caught.value.status_code == 401
