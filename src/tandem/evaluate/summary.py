"""Aggregate per-question results (the rows of results.jsonl) into the metrics of metrics.json."""

from __future__ import annotations

from collections import Counter

from tandem.evaluate.metrics import abstention_scores, latency_summary, mean

HEADLINE = (
    # (section, key, label, higher is better)
    ("retrieval", "recall@1", "Recall@1", True),
    ("retrieval", "recall@5", "Recall@5", True),
    ("retrieval", "recall@k", "Recall@k", True),
    ("retrieval", "mrr@10", "MRR@10", True),
    ("retrieval", "ndcg@10", "nDCG@10", True),
    ("citations", "recall", "Citation recall", True),
    ("citations", "precision", "Citation precision", True),
    ("answers", "answer_correct", "Answer correct", True),
    ("answers", "f1", "Answer F1", True),
    ("answers", "exact_match", "Exact match", True),
    ("answers", "contains_reference", "Contains reference", True),
    ("answers", "f1_when_answered", "F1 when answered", True),
    ("abstention", "precision", "Abstention precision", True),
    ("abstention", "recall", "Abstention recall", True),
    ("abstention", "accuracy", "Abstention accuracy", True),
    ("routing", "accuracy", "Routing accuracy", True),
)


def summarise(rows: list[dict], k: int) -> dict:
    """Every metric over the rows that have what it needs (questions that failed are left out)."""
    ok = [r for r in rows if not r.get("error")]
    retrieval = [r["retrieval"] for r in ok if r.get("retrieval")]
    retrieval_keys = sorted({key for r in retrieval for key in r}, key=_metric_order)
    cited = [r for r in ok if r.get("citation_recall") is not None]
    with_refs = [r for r in ok if r.get("f1") is not None]
    answered_refs = [r for r in with_refs if not r["abstained"]]
    routed = [r for r in ok if r.get("route_correct") is not None]
    judged = [r for r in ok if r.get("answer_correct") is not None]
    abstention = abstention_scores([not r["answerable"] for r in ok], [r["abstained"] for r in ok])
    abstention["abstain_rate"] = (abstention["tp"] + abstention["fp"]) / len(ok) if ok else None
    ranks = Counter(
        "miss"
        if r.get("first_relevant_rank") is None or r["first_relevant_rank"] > k
        else r["first_relevant_rank"]
        for r in ok
        if r.get("retrieval")
    )
    return {
        "questions": len(rows),
        "errors": len(rows) - len(ok),
        "modes": dict(Counter(r["mode"] for r in ok)),
        "retrieval": {
            "questions": len(retrieval),
            "k": k,
            **{key: mean(r[key] for r in retrieval) for key in retrieval_keys},
            "recall@k": mean(r.get(f"recall@{k}") for r in retrieval),
            "first_relevant_rank": {str(key): n for key, n in sorted(ranks.items(), key=_rank_order)},
        },
        "citations": {
            "answers": len(cited),
            "statements": sum(len(r["statements"]) for r in cited),
            "citations": sum(r["citations_counted"] for r in cited),
            "recall": mean(r["citation_recall"] for r in cited),
            "precision": mean(r["citation_precision"] for r in cited),
        },
        "answers": {
            "questions": len(with_refs),
            "judged": len(judged),
            "answer_correct": mean(float(r["answer_correct"]) for r in judged),
            "answered": len(answered_refs),
            "f1": mean(r["f1"] for r in with_refs),
            "exact_match": mean(r["exact_match"] for r in with_refs),
            "contains_reference": mean(r["contains_reference"] for r in with_refs),
            "f1_when_answered": mean(r["f1"] for r in answered_refs),
        },
        "abstention": abstention,
        "routing": {
            "questions": len(routed),
            "accuracy": mean(float(r["route_correct"]) for r in routed),
            "pairs": dict(Counter(f"{r['expected_route']} -> {r['route_action']}" for r in routed)),
        },
        "latency_ms": latency_summary(r.get("timings_ms", {}) for r in ok),
    }


def headline(metrics: dict) -> list[tuple[str, str, float | None, bool]]:
    """(key, label, value, higher is better) of the metrics worth a card or a compare row."""
    out = []
    for section, key, label, up in HEADLINE:
        value = metrics.get(section, {}).get(key)
        if key == "recall@k":
            k = metrics.get("retrieval", {}).get("k")
            if k in (1, 5):
                continue
            label = f"Recall@{k}"
        out.append((f"{section}.{key}", label, value, up))
    for stage in ("total", "retrieve", "generate", "first_token"):
        entry = metrics.get("latency_ms", {}).get(stage)
        if entry:
            for p in ("p50", "p95"):
                out.append((f"latency_ms.{stage}.{p}", f"{stage} {p} (ms)", entry[p], False))
    out.append(("errors", "Errors", metrics.get("errors"), False))
    return out


def _metric_order(key: str) -> tuple:
    name, _, depth = key.partition("@")
    return (("recall", "mrr", "ndcg").index(name) if name in ("recall", "mrr", "ndcg") else 9,
            int(depth) if depth.isdigit() else 0)  # fmt: skip


def _rank_order(item: tuple) -> tuple:
    key = item[0]
    return (1, 0) if key == "miss" else (0, key)
