"""The report's plots: matplotlib figures returned as `data:image/png;base64,...` URIs, so the HTML
needs no other file. Uses `Figure` directly (no pyplot), which leaves the caller's backend alone."""

from __future__ import annotations

import base64
import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tandem.evaluate.metrics import STAGE_ORDER

BLUE, GREEN, RED, GREY = "#3b6ea8", "#3a8a4f", "#c0463b", "#9aa3ad"


def _figure(width: float = 6.0, height: float = 3.4) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def to_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def rank_histogram(ranks: dict[str, int], k: int) -> str | None:
    """How many questions found their first expected document at rank 1, 2, ... or missed it."""
    if not ranks:
        return None
    labels = [str(r) for r in range(1, k + 1)] + ["miss"]
    counts = [ranks.get(label, 0) for label in labels]
    figure, axes = _figure()
    axes.bar(labels, counts, color=[BLUE] * k + [RED])
    axes.set_xlabel("rank of the first expected document")
    axes.set_ylabel("questions")
    axes.set_title("Retrieval: where the first relevant document landed")
    return to_data_uri(figure)


def latency_boxes(rows: list[dict]) -> str | None:
    """Per-stage latency distribution (log scale), pipeline order top to bottom."""
    by_stage: dict[str, list[float]] = {}
    for row in rows:
        for key, value in (row.get("timings_ms") or {}).items():
            if value is not None and value > 0:
                by_stage.setdefault(key.removesuffix("_ms"), []).append(value)
    if not by_stage:
        return None
    rank = {name: i for i, name in enumerate(STAGE_ORDER)}
    stages = sorted(by_stage, key=lambda s: (rank.get(s, len(rank) - 1), s), reverse=True)
    figure, axes = _figure(6.0, 0.45 * len(stages) + 1.2)
    axes.boxplot(
        [by_stage[s] for s in stages],
        orientation="horizontal",
        tick_labels=stages,
        widths=0.6,
        flierprops={"markersize": 3, "markeredgecolor": GREY},
        medianprops={"color": RED},
        patch_artist=True,
        boxprops={"facecolor": "#dbe6f3"},
    )
    axes.set_xscale("log")
    axes.set_xlabel("milliseconds (log scale)")
    axes.set_title("Latency per stage")
    return to_data_uri(figure)


def support_histogram(rows: list[dict], threshold: float) -> str | None:
    """Support score of every citation, split by whether its statement was supported."""
    kept: list[float] = []
    dropped: list[float] = []
    for row in rows:
        for statement in row.get("statements") or []:
            scores = statement.get("citation_support") or []
            (kept if statement.get("supported") else dropped).extend(scores)
    if not kept and not dropped:
        return None
    figure, axes = _figure()
    bins = [i / 20 for i in range(21)]
    axes.hist([kept, dropped], bins=bins, stacked=True, color=[GREEN, RED],
              label=["statement supported", "statement not supported"])  # fmt: skip
    axes.axvline(threshold, color="black", linestyle="--", linewidth=1)
    axes.text(threshold, axes.get_ylim()[1] * 0.95, f" min_support {threshold:g}", va="top", fontsize=8)
    axes.set_xlabel("support score of the cited passage")
    axes.set_ylabel("citations")
    axes.set_title("Citation support scores")
    axes.legend(frameon=False, fontsize=8)
    return to_data_uri(figure)


def abstention_matrix(abstention: dict) -> str | None:
    """2x2: should the system have abstained (rows) against did it (columns)."""
    if not abstention.get("n"):
        return None
    cells = [[abstention["tn"], abstention["fp"]], [abstention["fn"], abstention["tp"]]]
    good = [[True, False], [False, True]]
    figure, axes = _figure(4.2, 3.4)
    axes.imshow([[0.15 if g else 0.85 for g in row] for row in good], cmap="RdYlGn_r", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            axes.text(j, i, str(cells[i][j]), ha="center", va="center", fontsize=18, fontweight="bold")
    axes.set_xticks([0, 1], ["answered", "abstained"])
    axes.set_yticks([0, 1], ["answerable", "unanswerable"])
    axes.set_xlabel("what Tandem did")
    axes.set_ylabel("what the question needed")
    axes.set_title("Abstention")
    axes.spines[:].set_visible(False)
    return to_data_uri(figure)


def f1_histogram(rows: list[dict]) -> str | None:
    """Answer token F1 against the references, for questions that have references."""
    values = [r["f1"] for r in rows if r.get("f1") is not None]
    if not values:
        return None
    figure, axes = _figure()
    axes.hist(values, bins=[i / 10 for i in range(11)], color=BLUE, edgecolor="white")
    axes.set_xlabel("token F1 against the best reference")
    axes.set_ylabel("questions")
    axes.set_title("Answer F1")
    return to_data_uri(figure)


def delta_bars(deltas: list[tuple[str, float, bool]]) -> str | None:
    """Horizontal bars of metric changes A -> B; green when the change is an improvement."""
    if not deltas:
        return None
    figure, axes = _figure(6.5, 0.32 * len(deltas) + 1.2)
    labels = [label for label, _, _ in deltas][::-1]
    values = [value for _, value, _ in deltas][::-1]
    colours = [GREEN if better else RED for _, _, better in deltas][::-1]
    axes.barh(labels, values, color=colours)
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlabel("change from A to B (quality metrics, 0-1 scale)")
    axes.set_title("What changed")
    return to_data_uri(figure)
