"""How the CLI shows ingest reports, passages and answers (kept apart from command wiring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from tandem.answer import Answer
    from tandem.ingest.ingestor import IngestReport
    from tandem.retrieve.passage import Passage

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def show_report(report: IngestReport, index_dir: str) -> None:
    if report.published:
        state = f"published version {report.version}"
    elif report.version is not None:
        state = f"index is up to date (version {report.version})"
    else:
        state = "nothing was published"
    console.print(
        f"[bold]{state}[/] in {index_dir}: {report.files_seen} files seen, "
        f"{report.files_added} added, {report.files_changed} changed, "
        f"{report.files_unchanged} unchanged, {report.files_deleted} deleted; "
        f"{report.new_chunks} chunks and {report.unit_vectors_embedded} unit texts embedded; "
        f"index holds {report.documents} documents, "
        f"{report.chunks} chunks; {report.seconds:.1f} s"
    )
    for path, reason in report.skipped:
        errors.print(f"[yellow]skipped[/] {escape(path)}: {escape(reason)}")
    verb = "quarantined" if report.quarantined else "flagged"
    for finding in report.flagged:
        errors.print(
            f"[yellow]{verb}[/] {escape(finding['chunk_id'])}: possible instructions to the model "
            f"({escape(finding['guard'])}: {escape(finding['detail'])})"
        )


def show_passages(passages: list[Passage]) -> None:
    if not passages:
        console.print("no matching passages")
    for p in passages:
        c = p.chunk
        where = " > ".join(x for x in (c.title, *c.heading_path) if x)
        page = f" p.{c.page}" if c.page else ""
        console.print(
            f"[bold]{p.rank}.[/] [cyan]{escape(c.doc_id)}[/]{page}  {escape(where)}  "
            f"[dim]score {p.score:.4f} (dense {p.dense_score:.3f}, bm25 {p.lexical_score:.2f})[/]"
        )
        snippet = " ".join(c.text.split())
        console.print(f"   {escape(snippet[:240])}{'…' if len(snippet) > 240 else ''}")


def show_route(answer: Answer) -> None:
    """One line: the action the router picked and the labels behind it."""
    if not answer.route:
        return
    labels = ", ".join(
        f"{name}={p['label']} ({p['confidence']:.2f})" for name, p in answer.route["predictions"].items()
    )
    ticket = f", ticket {answer.ticket}" if answer.ticket else ""
    console.print(f"[dim]route: {escape(answer.route['action'])}{ticket}; {escape(labels)}[/]")


def show_sources(answer: Answer) -> None:
    show_route(answer)
    if answer.mode == "blocked":
        console.print(f"[dim]{escape(answer.reason)}[/]")
    if answer.abstained:
        if answer.passages and answer.mode == "abstained":
            console.print(f"[dim]closest passage: {escape(answer.passages[0].chunk.doc_id)}[/]")
        return
    console.print("\n[bold]Sources[/]")
    seen: set[int] = set()
    for citation in answer.citations:
        if citation.number in seen:
            continue
        seen.add(citation.number)
        console.print(
            f"  [{citation.number}] [cyan]{escape(citation.location)}[/] "
            f"[dim]chunk {escape(citation.chunk_id)}, chars {citation.start}-{citation.end}[/]"
        )
    total = answer.timings.get("total_ms", 0.0)
    console.print(f"[dim]{answer.mode} in {total / 1000:.2f} s[/]")


def show_units(answer: Answer) -> None:
    """The evidence units the selector scored (best first), with the threshold an answer needs."""
    units = answer.diagnostics.get("units")
    if not units:
        console.print(
            "[dim]no evidence units were scored (the selector is off, or the answer stopped earlier)[/]"
        )
        return
    threshold = answer.diagnostics.get("selector_threshold", 0.0)
    console.print(f"\n[bold]Evidence units[/] [dim](an answer needs probability >= {threshold:.3f})[/]")
    for u in units:
        text = " ".join(u["text"].split())
        console.print(
            f"  {u['probability']:.3f}  [cyan]{escape(u['chunk_id'])}[/] [dim]{u['kind']}, "
            f"chars {u['start']}-{u['end']}[/]  {escape(text[:160])}{'…' if len(text) > 160 else ''}"
        )
