"""Load test: bounded concurrent clients against `tandem serve` on 127.0.0.1.

    python bench/load.py [--clients 16] [--requests 200] [--mix search=0.5,classify=0.25,chat=0.25]
                         [--url http://127.0.0.1:8000 --key tdm_...] [--out bench/results/load.json]

Without --url it starts `tandem serve --demo` itself (own data folder, auth on, default queue).
Each client sends the next request from a shared list (a seeded mix of search, classify and chat
over the demo questions); a 429/503 is counted as rejected and retried after its Retry-After
(at most 3 times), as a well-behaved client would. Every answered chat is followed by a feedback
write; at the end the feedback store is counted to check that every accepted write was persisted.
Reports throughput, latency p50/p95/p99 per kind, errors and rejections. With `--generate` the
server writes every answer with the decoder (quotes off), and the median decode rate of the answered
chats is reported: run it with `--clients 1 --mix chat=1` and with 16 clients to compare (issue 20:
decode under 16 clients >= 0.8x the single-client rate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

from tandem.evaluate.demo_kb import demo_questions
from tandem.server.process import start_server

ROOT = Path(__file__).resolve().parents[1]
RETRIES = 3


def plan(requests: int, mix: dict[str, float], seed: int = 0) -> list[tuple[str, str]]:
    questions = [q["question"] for q in demo_questions()]
    rng = random.Random(seed)
    kinds = rng.choices(list(mix), weights=list(mix.values()), k=requests)
    return [(kind, rng.choice(questions)) for kind in kinds]


def body(kind: str, text: str) -> tuple[str, dict]:
    if kind == "search":
        return "/v1/search", {"query": text, "k": 5}
    if kind == "classify":
        return "/v1/classify", {"text": text}
    return "/v1/chat/completions", {"model": "tandem", "messages": [{"role": "user", "content": text}]}


async def client(http: httpx.AsyncClient, work: asyncio.Queue, results: list[dict]) -> None:
    while True:
        try:
            kind, text = work.get_nowait()
        except asyncio.QueueEmpty:
            return
        path, payload = body(kind, text)
        record = {"kind": kind, "rejected": 0, "status": 0, "seconds": 0.0, "feedback": None}
        started = time.perf_counter()
        for _ in range(RETRIES + 1):
            try:
                response = await http.post(path, json=payload)
            except httpx.HTTPError as exc:
                record["status"], record["error"] = -1, type(exc).__name__
                break
            record["status"] = response.status_code
            if response.status_code not in (429, 503):
                break
            record["rejected"] += 1
            await asyncio.sleep(min(float(response.headers.get("Retry-After", "1")), 10.0))
        record["seconds"] = time.perf_counter() - started
        if kind == "chat" and record["status"] == 200:
            answer = response.json()
            record["decode_tps"] = decode_rate(answer)
            trace_id = answer["tandem"]["trace_id"]
            feedback = await http.post("/v1/feedback", json={"rating": "up", "trace_id": trace_id})
            record["feedback"] = feedback.status_code
        results.append(record)


def decode_rate(answer: dict) -> float | None:
    """Tokens per second after the first token, for an answer the decoder wrote (None when quoted)."""
    tokens = (answer.get("usage") or {}).get("completion_tokens") or 0
    timings = answer["tandem"].get("timings_ms") or {}
    decoding_ms = timings.get("generate_ms", 0.0) - timings.get("first_token_ms", 0.0)
    return round((tokens - 1) / (decoding_ms / 1000), 1) if tokens > 1 and decoding_ms > 0 else None


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    p50, p95, p99 = np.percentile(np.array(values) * 1000, [50, 95, 99])
    return {"p50_ms": round(float(p50), 1), "p95_ms": round(float(p95), 1), "p99_ms": round(float(p99), 1)}


async def run_load(url: str, key: str, clients: int, work_items: list[tuple[str, str]]) -> tuple[list, float]:
    work: asyncio.Queue = asyncio.Queue()
    for item in work_items:
        work.put_nowait(item)
    results: list[dict] = []
    limits = httpx.Limits(max_connections=clients)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http, work, results) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return results, elapsed


def summarise(results: list[dict], elapsed: float) -> dict:
    summary: dict = {"requests": len(results), "seconds": round(elapsed, 1)}
    summary["throughput_rps"] = round(len(results) / elapsed, 2)
    summary["errors"] = sum(1 for r in results if r["status"] != 200)
    summary["statuses"] = dict(Counter(str(r["status"]) for r in results))
    summary["rejections_429_503"] = sum(r["rejected"] for r in results)
    for kind in sorted({r["kind"] for r in results}):
        rows = [r for r in results if r["kind"] == kind]
        ok = [r["seconds"] for r in rows if r["status"] == 200]
        summary[kind] = {"requests": len(rows), "ok": len(ok), **percentiles(ok)}
    rates = [r["decode_tps"] for r in results if r.get("decode_tps")]
    if rates:
        summary["chat"]["decode_tokens_per_s_median"] = round(float(np.median(rates)), 1)
        summary["chat"]["generated"] = len(rates)
    summary["feedback_accepted"] = sum(1 for r in results if r["feedback"] == 201)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--mix", default="search=0.5,classify=0.25,chat=0.25")
    parser.add_argument("--url", help="A running server (default: start `tandem serve --demo`).")
    parser.add_argument("--key", help="API key for --url.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.json")
    parser.add_argument(
        "--generate", action="store_true", help="the started server writes answers (prefer_quotes off)"
    )
    args = parser.parse_args()
    mix = {k: float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    server = None
    if args.url is None:
        folder = Path(tempfile.mkdtemp(prefix="tandem-load-"))
        print(f"starting tandem serve --demo (data in {folder}) ...")
        settings = {"TANDEM_PREFER_QUOTES": "false"} if args.generate else None
        server = start_server(folder, "--demo", settings=settings)
        url, key = server.url, server.create_key("user")
    else:
        url, key = args.url, args.key or ""
    try:
        results, elapsed = asyncio.run(run_load(url, key, args.clients, plan(args.requests, mix)))
        summary = summarise(results, elapsed)
        if server is not None:
            from tandem.config import Settings
            from tandem.storage import FeedbackStore, open_store

            settings = Settings.load(None, data_dir=Path(server.env["TANDEM_DATA_DIR"]))
            summary["feedback_persisted"] = FeedbackStore(open_store(settings, "main")).count()
            summary["feedback_lost"] = summary["feedback_accepted"] - summary["feedback_persisted"]
    finally:
        if server is not None:
            server.stop()
    summary["config"] = {
        "clients": args.clients,
        "mix": mix,
        "url": url if args.url else "tandem serve --demo",
    }
    summary["machine"] = (
        f"{platform.machine()}, {platform.processor() or 'cpu'}, {__import__('os').cpu_count()} cores"
    )
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
