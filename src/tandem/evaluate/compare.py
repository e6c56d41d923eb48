"""Compare two runs: per-metric deltas A -> B and the questions that got better or worse.

>>> comparison = compare_runs(Path("runs/before"), Path("runs/after"))  # doctest: +SKIP
>>> [d.label for d in comparison.deltas if d.better is False]  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import Path

from tandem.evaluate import plots
from tandem.evaluate.report import fmt, page
from tandem.evaluate.runner import load_run
from tandem.evaluate.summary import headline

COMPARE = "compare.html"


@dataclass(frozen=True)
class MetricDelta:
    key: str
    label: str
    a: float | None
    b: float | None
    higher_is_better: bool

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def better(self) -> bool | None:
        """True when B improved on A, False when it got worse, None when equal or not comparable."""
        if self.delta is None or abs(self.delta) < 1e-9:
            return None
        return (self.delta > 0) == self.higher_is_better


@dataclass
class QuestionChange:
    id: str
    question: str
    improved: list[str] = field(default_factory=list)
    regressed: list[str] = field(default_factory=list)

    @property
    def direction(self) -> str:
        if self.improved and self.regressed:
            return "mixed"
        return "better" if self.improved else "worse"


@dataclass
class Comparison:
    a: Path
    b: Path
    deltas: list[MetricDelta]
    changes: list[QuestionChange]
    common: int
    only_a: list[str]
    only_b: list[str]
    notes: list[str]

    def of(self, direction: str) -> list[QuestionChange]:
        return [c for c in self.changes if c.direction == direction]

    def to_dict(self) -> dict:
        return {
            "a": str(self.a),
            "b": str(self.b),
            "metrics": [{**asdict(d), "delta": d.delta, "better": d.better} for d in self.deltas],
            "better": [asdict(c) for c in self.of("better")],
            "worse": [asdict(c) for c in self.of("worse")],
            "mixed": [asdict(c) for c in self.of("mixed")],
            "common_questions": self.common,
            "only_in_a": self.only_a,
            "only_in_b": self.only_b,
            "notes": self.notes,
        }


def _hit(row: dict, k: int) -> bool | None:
    if row.get("retrieval") is None:
        return None
    rank = row.get("first_relevant_rank")
    return rank is not None and rank <= k


def question_change(a: dict, b: dict, ka: int, kb: int, f1_margin: float = 0.1) -> QuestionChange:
    """What got better and worse for one question: answer F1, citation support, retrieval hit,
    abstention and routing correctness, errors."""
    change = QuestionChange(b["id"], b["question"])

    def note(better: bool, text: str) -> None:
        (change.improved if better else change.regressed).append(text)

    if bool(a.get("error")) != bool(b.get("error")):
        note(not b.get("error"), "error fixed" if not b.get("error") else "error")
    fa, fb = a.get("f1"), b.get("f1")
    if fa is not None and fb is not None and abs(fb - fa) >= f1_margin:
        note(fb > fa, f"answer F1 {fa:.2f} -> {fb:.2f}")
    ca, cb = a.get("citation_recall"), b.get("citation_recall")
    if ca is not None and cb is not None and abs(cb - ca) > 1e-9:
        note(cb > ca, f"citation recall {ca:.2f} -> {cb:.2f}")
    ha, hb = _hit(a, ka), _hit(b, kb)
    if ha is not None and hb is not None and ha != hb:
        after = f"hit #{b['first_relevant_rank']}" if hb else "miss"
        before = f"hit #{a['first_relevant_rank']}" if ha else "miss"
        note(hb, f"retrieval {before} -> {after}")
    for key, label in (("abstention_correct", "abstention"), ("route_correct", "route")):
        xa, xb = a.get(key), b.get(key)
        if xa is not None and xb is not None and xa != xb:
            note(xb, f"{label} {'right' if xb else 'wrong'} now ({b.get('mode', '')})")
    return change


def compare_runs(a: Path, b: Path, f1_margin: float = 0.1) -> Comparison:
    """Load two run folders and compare them question by question (matched by id)."""
    data_a, rows_a = load_run(a)
    data_b, rows_b = load_run(b)
    run_a, run_b = data_a.get("run", {}), data_b.get("run", {})
    ka, kb = run_a.get("k", 10), run_b.get("k", 10)
    by_a, by_b = {r["id"]: r for r in rows_a}, {r["id"]: r for r in rows_b}
    common = [qid for qid in by_b if qid in by_a]
    changes = [question_change(by_a[q], by_b[q], ka, kb, f1_margin) for q in common]
    changes = [c for c in changes if c.improved or c.regressed]
    values_a = {key: (label, value, up) for key, label, value, up in headline(data_a["metrics"])}
    deltas = []
    for key, label, value, up in headline(data_b["metrics"]):
        before = values_a.get(key, (label, None, up))[1]
        deltas.append(MetricDelta(key, label, before, value, up))
    notes = []
    if run_a.get("questions_sha256") != run_b.get("questions_sha256"):
        notes.append("the runs used different question files; metrics compare different question sets")
    if (run_a.get("index"), run_a.get("index_version")) != (run_b.get("index"), run_b.get("index_version")):
        notes.append(
            f"index differs: A {run_a.get('index')} v{run_a.get('index_version')}, "
            f"B {run_b.get('index')} v{run_b.get('index_version')}"
        )
    for key in sorted(set(run_a.get("settings", {})) | set(run_b.get("settings", {}))):
        sa, sb = run_a.get("settings", {}).get(key), run_b.get("settings", {}).get(key)
        if sa != sb:
            notes.append(f"setting {key}: {sa!r} -> {sb!r}")
    if ka != kb:
        notes.append(f"k differs: {ka} -> {kb}")
    return Comparison(
        a, b, deltas, changes, len(common),
        [q for q in by_a if q not in by_b], [q for q in by_b if q not in by_a], notes,
    )  # fmt: skip


def format_delta(delta: float | None) -> str:
    if delta is None:
        return "–"
    return f"{delta:+.3f}" if abs(delta) < 100 else f"{delta:+,.0f}"


def render_compare(comparison: Comparison, path: Path) -> Path:
    """compare.html: a delta plot, the metric table and the changed questions."""
    quality = [
        (d.label, d.delta, bool(d.better))
        for d in comparison.deltas
        if d.delta is not None
        and d.better is not None
        and not d.key.startswith("latency")
        and d.key != "errors"
    ]
    plot = plots.delta_bars(quality)
    rows = "".join(
        f"<tr><td>{escape(d.label)}</td><td>{fmt(d.a)}</td><td>{fmt(d.b)}</td>"
        f"<td class='{ {True: 'ok', False: 'no', None: 'dim'}[d.better] }'>{format_delta(d.delta)}</td></tr>"
        for d in comparison.deltas
    )
    sections = []
    for direction, title in (("worse", "Got worse"), ("better", "Got better"), ("mixed", "Mixed")):
        items = comparison.of(direction)
        if not items:
            continue
        lines = "".join(
            f"<tr><td>{escape(c.id)}</td><td>{escape(c.question)}</td>"
            f"<td class='ok'>{escape('; '.join(c.improved))}</td>"
            f"<td class='no'>{escape('; '.join(c.regressed))}</td></tr>"
            for c in items
        )
        sections.append(
            f"<h2>{title} ({len(items)})</h2><table><tr><th>id</th><th>question</th><th>improved</th>"
            f"<th>regressed</th></tr>{lines}</table>"
        )
    notes = "".join(f"<div>{escape(n)}</div>" for n in comparison.notes)
    body = (
        f"<h1>Compare runs</h1><div class='meta'>A <code>{escape(str(comparison.a))}</code> → "
        f"B <code>{escape(str(comparison.b))}</code> · {comparison.common} questions in both"
        f"{f' · {len(comparison.only_a)} only in A' if comparison.only_a else ''}"
        f"{f' · {len(comparison.only_b)} only in B' if comparison.only_b else ''}</div>"
        + (f"<h2>Notes</h2><div class='warn'>{notes}</div>" if notes else "")
        + (f"<div class='plots'><figure><img alt='deltas' src='{plot}'></figure></div>" if plot else "")
        + "<h2>Metrics</h2><table><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th></tr>"
        + rows
        + "</table>"
        + "".join(sections or ["<h2>Questions</h2><p class='dim'>no question changed</p>"])
    )
    path.write_text(page("Tandem: compare runs", body), encoding="utf-8")
    return path
