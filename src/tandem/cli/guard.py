"""`tandem guard ...`: see which input and corpus guards would fire, with scores and actions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tandem.cli.options import ConfigOption, JsonOption
from tandem.cli.output import console

if TYPE_CHECKING:
    from tandem.guard.input_guard import FindingRecord

app = typer.Typer(
    help="Guardrails: check a message for injection, PII and size; scan documents for planted instructions.",
    no_args_is_help=True,
)

RulesOnlyOption = Annotated[
    bool, typer.Option("--rules-only", help="Skip the classifier: rules (and PII masking) only.")
]


def _setup(config: Path | None, rules_only: bool):
    """Settings, and the configured encoder unless the classifier is off."""
    from tandem.config import Settings
    from tandem.encode import load_encoder

    settings = Settings.load(config)
    if rules_only:
        return settings, None
    return settings, load_encoder(settings.encoder, settings.encoder_backend, settings.encoder_threads)


@app.command()
def check(
    text: Annotated[str, typer.Argument(help="The message to check.")],
    threshold: Annotated[
        float | None, typer.Option(help="Classifier threshold (default: the one trained with the head).")
    ] = None,
    max_chars: Annotated[
        int | None, typer.Option(min=1, help="Longest message allowed (default: max_question_chars).")
    ] = None,
    rules_only: RulesOnlyOption = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show which guards fire on TEXT, their scores and actions, and the text with PII masked."""
    from tandem.guard.input_guard import InputGuard

    settings, encoder = _setup(config, rules_only)
    limit = max_chars or settings.max_question_chars
    guard = InputGuard(encoder, max_chars=limit, injection_threshold=threshold)
    report = guard.check(text)
    if as_json:
        console.print_json(data=report.to_dict())
        return
    verdict = "[bold red]blocked[/]" if report.blocked else "[bold green]allowed[/]"
    model = (
        f"; injection probability {report.injection_score:.3f} (threshold {guard.threshold_for(text):.3f})"
        if report.injection_score is not None
        else ""
    )
    console.print(f"{verdict} in {report.elapsed_ms:.1f} ms{model}")
    if not report.findings:
        console.print("  no guard fired")
    for finding in report.findings:
        console.print(
            f"  {finding.guard}: {escape(finding.kind)} (score {finding.score:.2f}) -> "
            f"[bold]{finding.action}[/]  [dim]{escape(finding.detail)}[/]"
        )
    if report.text != text:
        console.print(f"  text as logged: {escape(report.text[:300])}")


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="A document or a folder of documents.")],
    rules_only: RulesOnlyOption = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Scan documents as ingest would chunk them (and hidden HTML text) for planted instructions."""
    from tandem.documents.chunking import Chunker
    from tandem.documents.loaders import discover, load_documents
    from tandem.encode import load_encoder
    from tandem.errors import TandemError
    from tandem.guard.corpus_guard import CorpusGuard

    settings, encoder = _setup(config, rules_only)
    # the chunker counts tokens with the encoder's tokenizer, so it is loaded even for --rules-only
    counter = encoder or load_encoder(settings.encoder, settings.encoder_backend, 1)
    chunker = Chunker(counter, settings.chunk_tokens, settings.chunk_overlap)
    guard = CorpusGuard(encoder)
    chunks: list[tuple[str, str]] = []
    hidden: list[tuple[str, FindingRecord]] = []
    for file, doc_id in discover(path):
        try:
            documents = load_documents(file, doc_id)
        except TandemError:
            continue
        chunks += [(c.chunk_id, c.text) for d in documents for c in chunker.chunk(d)]
        if file.suffix.lower() in (".html", ".htm"):
            html = file.read_text(encoding="utf-8", errors="replace")
            hidden += [(doc_id, f.to_dict()) for f in guard.scan_html(html)]
    report = guard.scan(chunks)
    if as_json:
        data = report.to_dict()
        data["hidden_html"] = [{"doc_id": doc_id, **finding} for doc_id, finding in hidden]
        console.print_json(data=data)
        return
    console.print(f"[bold]{escape(report.summary())}[/] ({report.seconds:.1f} s)")
    for chunk_id, finding in report.findings:
        console.print(
            f"  [cyan]{escape(chunk_id)}[/] {finding.guard}: {escape(finding.kind)} ({finding.score:.2f}) "
            f"[dim]{escape(finding.detail)}[/]"
        )
    for doc_id, hidden_finding in hidden:
        console.print(
            f"  [cyan]{escape(doc_id)}[/] hidden HTML (dropped at ingest): "
            f"{escape(str(hidden_finding['kind']))} [dim]{escape(str(hidden_finding['detail']))}[/]"
        )
