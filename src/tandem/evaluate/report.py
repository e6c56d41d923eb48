"""RUN_DIR/report.html: one self-contained page (inline CSS, plots as data URIs) to read a run."""

from __future__ import annotations

from html import escape
from pathlib import Path

from tandem.evaluate import plots
from tandem.evaluate.runner import load_run
from tandem.evaluate.summary import headline

REPORT = "report.html"

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.meta{color:#5b6472;font-size:13px}.meta code{background:#e9ecf1;padding:1px 4px;border-radius:3px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
.card{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px #0001}
.card .v{font-size:24px;font-weight:650}.card .l{color:#5b6472;font-size:12px}
.card .n{color:#8a93a0;font-size:11px}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:12px}
.plots figure{background:#fff;margin:0;padding:8px;border-radius:8px;box-shadow:0 1px 2px #0001}
.plots img{width:100%;height:auto}
.warn{background:#fff6e0;border-left:4px solid #e0a800;padding:8px 12px;border-radius:4px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid #e6e8ec;vertical-align:top;text-align:left}
th{background:#eef1f5;position:sticky;top:0}
tr.bad td:first-child{border-left:4px solid #c0463b}tr.good td:first-child{border-left:4px solid #3a8a4f}
.badge{display:inline-block;background:#fbe3e0;color:#8d2a20;border-radius:10px;padding:1px 7px;
margin:1px;font-size:11px;white-space:nowrap}
.ok{color:#3a8a4f}.no{color:#c0463b}.dim{color:#8a93a0;font-size:12px}
td.q{max-width:280px}td.a{max-width:360px}
"""


def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.{digits}f}"
    return escape(str(value))


def ms(row: dict) -> str:
    total = (row.get("timings_ms") or {}).get("total_ms")
    return "–" if total is None else f"{total:,.0f}"


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>")  # fmt: skip


def cards(metrics: dict) -> str:
    citations = metrics["citations"]
    counts = {
        "retrieval": f"{metrics['retrieval']['questions']} questions with expected docs",
        "citations": f"{citations['answers']} answers, {citations['citations']} citations",
        "answers": f"{metrics['answers']['questions']} questions with references",
        "abstention": f"{metrics['abstention']['n']} questions",
        "routing": f"{metrics['routing']['questions']} questions with a route",
        "latency_ms": f"{metrics['latency_ms'].get('total', {}).get('n', 0)} answers",
    }
    out = []
    for key, label, value, _ in headline(metrics):
        if key in ("errors",) and not value:
            continue
        shown = fmt(value, 1) if key.startswith("latency") else fmt(value)
        out.append(f"<div class='card'><div class='v'>{shown}</div><div class='l'>{escape(label)}</div>"
                   f"<div class='n'>{escape(counts.get(key.split('.')[0], ''))}</div></div>")  # fmt: skip
    return "<div class='cards'>" + "".join(out) + "</div>"


def figures(metrics: dict, rows: list[dict], threshold: float) -> str:
    made = [
        plots.rank_histogram(metrics["retrieval"].get("first_relevant_rank", {}), metrics["retrieval"]["k"]),
        plots.support_histogram(rows, threshold),
        plots.latency_boxes(rows),
        plots.abstention_matrix(metrics["abstention"]),
        plots.f1_histogram(rows),
    ]
    images = [f"<figure><img alt='plot' src='{uri}'></figure>" for uri in made if uri]
    return (
        "<div class='plots'>" + "".join(images) + "</div>" if images else "<p class='dim'>nothing to plot</p>"
    )


def _mark(ok: bool | None) -> str:
    if ok is None:
        return "<span class='dim'>–</span>"
    return "<span class='ok'>✓</span>" if ok else "<span class='no'>✗</span>"


def question_table(rows: list[dict], k: int) -> str:
    """Every question, the ones with the most failures first."""
    ordered = sorted(
        rows, key=lambda r: (-len(r.get("failures", [])), r.get("f1") if r.get("f1") is not None else 2)
    )
    body = []
    for r in ordered:
        failures = r.get("failures", [])
        rank = r.get("first_relevant_rank")
        retrieval = "–" if r.get("retrieval") is None else (f"#{rank}" if rank and rank <= k else "miss")
        citation = (f"R {fmt(r.get('citation_recall'), 2)} / P {fmt(r.get('citation_precision'), 2)}"
                    if r.get("citation_recall") is not None else "–")  # fmt: skip
        expected = ", ".join(r.get("expected_docs") or []) or ("unanswerable" if not r["answerable"] else "")
        answer = r.get("error") or r.get("answer", "")
        trace = f"<div class='dim'>trace {escape(r['trace_id'])}</div>" if r.get("trace_id") else ""
        cited = ", ".join(r.get("cited_docs") or [])
        body.append(
            f"<tr class='{'bad' if failures else 'good'}'><td>{escape(r['id'])}</td>"
            f"<td class='q'>{escape(r['question'])}<div class='dim'>expects: {escape(expected)}</div></td>"
            f"<td class='a'>{escape(answer)}<div class='dim'>{escape(r.get('mode', ''))}"
            f"{' · cites ' + escape(cited) if cited else ''}</div>{trace}</td>"
            f"<td>{retrieval}</td><td>{citation}</td>"
            f"<td>{fmt(r.get('f1'), 2)} / {fmt(r.get('exact_match'), 0)}</td>"
            f"<td>{_mark(r.get('abstention_correct'))}</td><td>{_mark(r.get('route_correct'))}</td>"
            f"<td>{ms(r)}</td>"
            f"<td>{''.join(f'<span class=badge>{escape(f)}</span>' for f in failures)}</td></tr>"
        )
    head = ("<tr><th>id</th><th>question</th><th>answer</th><th>first hit</th><th>citations</th>"
            "<th>F1 / EM</th><th>abstention</th><th>route</th><th>ms</th><th>failures</th></tr>")  # fmt: skip
    return f"<table>{head}{''.join(body)}</table>"


def render_report(folder: Path) -> Path:
    """Write folder/report.html from the run's metrics.json and results.jsonl; return its path."""
    data, rows = load_run(folder)
    run, metrics = data.get("run", {}), data["metrics"]
    judge = run.get("judge", {})
    versions = ", ".join(f"{k} <code>{escape(str(v))}</code>" for k, v in run.get("versions", {}).items())
    failing = sum(1 for r in rows if r.get("failures"))
    header = (
        f"<h1>Evaluation of {escape(Path(run.get('questions_file', '?')).name)}</h1>"
        f"<div class='meta'>{escape(run.get('created', ''))} · {run.get('questions', len(rows))} questions "
        f"({failing} with a failure) · index <code>{escape(str(run.get('index', '')))}</code> "
        f"version {fmt(run.get('index_version'))} · {versions} · k={fmt(run.get('k'))} · "
        f"{fmt(run.get('runtime_s'))} s on {escape(str(run.get('machine', {}).get('cpu', '')))}</div>"
    )
    warnings = data.get("warnings") or []
    warning_html = (
        "<h2>Warnings</h2><div class='warn'>" + "<br>".join(escape(w) for w in warnings) + "</div>"
        if warnings
        else ""
    )
    notes = (
        "<h2>How to read this</h2><p class='dim'>Retrieval metrics count documents (chunks deduplicated "
        "in rank order) against <code>expected_docs</code>. Citation recall is the share of an answer's "
        "statements that their cited passages support together; citation precision is the share of "
        "citations that are needed (ALCE, Gao et al. 2023), judged by Tandem's support judge "
        f"(<code>min_support</code> {fmt(judge.get('min_support'))}, numbers must appear in the passage). "
        "F1 and exact match use SQuAD normalisation, best over the references; an abstention scores 0. "
        'Abstention treats "should abstain" (not answerable) as the positive class.</p>'
    )
    body = (
        header
        + warning_html
        + "<h2>Summary</h2>"
        + cards(metrics)
        + "<h2>Plots</h2>"
        + figures(metrics, rows, judge.get("min_support", 0.5))
        + "<h2>Questions (failures first)</h2>"
        + question_table(rows, metrics["retrieval"]["k"])
        + notes
    )
    path = folder / REPORT
    path.write_text(page(f"Tandem evaluation: {run.get('questions_file', '')}", body), encoding="utf-8")
    return path
