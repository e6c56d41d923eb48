"""Backends compared on the demo questions: today the generator (in process vs an HTTP server).

    python bench/backends.py                          # every demo question, ingests to a temp index
    python bench/backends.py --questions 3 --index ./demo-index
    python bench/backends.py --url http://gpu-box:8000/v1 --model Qwen/Qwen2.5-1.5B-Instruct

`generator`: ask latency (p50/p95 of `Tandem.ask`, end to end) with the bundled GGUF in this
process vs the same GGUF behind llama-cpp-python's OpenAI-compatible server on 127.0.0.1 (or the
server at --url), and how many answers came out identical. Each part is one function in PARTS;
results are merged into bench/results/backends.json under the part's name. Not a test: figures
go to docs/benchmarks.md with the machine and date.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from answer import percentile
from backends_milvus import bench_milvus
from tandem.config import Settings
from tandem.evaluate.demo_kb import demo_kb_root, demo_questions
from tandem.generate.llamacpp import resolve_gguf
from tandem.pipeline import Tandem

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def llama_server(threads: int) -> Iterator[str]:
    """The bundled GGUF behind `python -m llama_cpp.server` on a free local port; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gguf, _ = resolve_gguf("smollm2-135m")
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    command += ["--model_alias", "smollm2-135m", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--n_ctx", "2048", "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    command += ["--verbose", "false", "--interrupt_requests", "false"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            if process.poll() is not None:
                raise SystemExit(f"llama_cpp.server exited with {process.returncode}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def ask_interleaved(bots: dict[str, Tandem], questions: list[dict]) -> dict[str, list[dict]]:
    """Each question to every bot in turn, so a change in machine load hits all of them alike."""
    for bot in bots.values():
        bot.ask("How long do refunds take?")  # load models and warm caches; not measured
    rows: dict[str, list[dict]] = {name: [] for name in bots}
    for i, q in enumerate(questions, start=1):
        for name, bot in bots.items():
            answer = bot.ask(q["question"])
            rows[name].append(
                {
                    "id": q["id"],
                    "text": answer.text,
                    "draft": answer.draft,
                    "cited": [c.chunk_id for c in answer.citations],
                    "total_ms": answer.timings.get("total_ms", 0.0),
                    "first_token_ms": answer.timings.get("first_token_ms"),
                }
            )
        print(f"\r{i}/{len(questions)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return rows


def summary(rows: list[dict]) -> dict:
    total = [r["total_ms"] for r in rows]
    first = [r["first_token_ms"] for r in rows if r["first_token_ms"] is not None]
    return {
        "questions": len(rows),
        "ask_p50_ms": round(percentile(total, 0.5), 1),
        "ask_p95_ms": round(percentile(total, 0.95), 1),
        "first_token_p50_ms": round(statistics.median(first), 1) if first else None,
    }


def bench_generator(args: argparse.Namespace, index: Path, questions: list[dict]) -> dict:
    base = Settings.load(None).model_copy(update={"trace": False})
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(llama_server(base.generator_threads))
        remote = base.model_copy(update={"generator_url": url, "generator_model": args.model or ""})
        local = Tandem(index, base)
        # one encoder: only the generator differs
        bots = {"in-process": local, "http": Tandem(index, remote, encoder=local.encoder)}
        rows = ask_interleaved(bots, questions)
        model_id = bots["http"].generator.model_id
    results: dict = {name: summary(r) for name, r in rows.items()}
    results["http"]["model_id"] = model_id
    same = sum(
        (a["text"], a["draft"], a["cited"]) == (b["text"], b["draft"], b["cited"])
        for a, b in zip(rows["in-process"], rows["http"], strict=True)
    )
    results["identical_answers"] = same
    print(f"{'generator':<12} {'questions':>9} {'ask p50 ms':>11} {'ask p95 ms':>11} {'1st token p50':>14}")
    for name in ("in-process", "http"):
        r = results[name]
        print(
            f"{name:<12} {r['questions']:>9} {r['ask_p50_ms']:>11} {r['ask_p95_ms']:>11} "
            f"{r['first_token_p50_ms']!s:>14}"
        )
    print(f"identical answers (text, draft, citations): {same}/{len(questions)}")
    return results


PARTS: dict[str, Callable[[argparse.Namespace, Path, list[dict]], dict]] = {
    "generator": bench_generator,
    "milvus": bench_milvus,  # SQuAD retrieval and search latency, embedded vs Milvus Lite
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", choices=sorted(PARTS), default=sorted(PARTS))
    parser.add_argument("--questions", type=int, default=None, help="first N demo questions (default all)")
    parser.add_argument("--index", type=Path, default=None, help="demo index (default: ingest to a temp dir)")
    parser.add_argument("--url", default=None, help="use this OpenAI-compatible server instead")
    parser.add_argument("--model", default=None, help="model name for --url (default: the one it serves)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "backends.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = demo_questions()[: args.questions]
    with tempfile.TemporaryDirectory() as scratch:
        index = args.index or Path(scratch) / "index"
        if not (index / "versions").is_dir():
            Tandem(index, Settings.load(None)).ingest([demo_kb_root() / "docs"])
        results = {part: PARTS[part](args, index, questions) for part in args.parts}
    data = json.loads(args.out.read_text()) if args.out.is_file() else {}
    machine = {"machine": platform.machine(), "processor": platform.processor(), "cpus": os.cpu_count()}
    data.update({part: {**r, "date": time.strftime("%Y-%m-%d"), **machine} for part, r in results.items()})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
