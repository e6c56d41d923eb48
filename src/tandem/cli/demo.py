"""`tandem demo`: ingest the bundled knowledge base, answer a sample question, then chat."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tandem.cli.ask import print_answer
from tandem.cli.chat import chat_loop
from tandem.cli.options import ConfigOption, load_settings
from tandem.cli.output import console, show_report


def demo(
    question: Annotated[
        str | None,
        typer.Option("--question", "-q", help="Ask this instead of the sample question."),
    ] = None,
    chat: Annotated[
        bool,
        typer.Option(help="Open an interactive chat after the sample answer (when on a terminal)."),
    ] = True,
    config: ConfigOption = None,
) -> None:
    """Ingest the bundled demo knowledge base, answer a sample question, then chat."""
    from tandem.evaluate.demo_kb import demo_index_dir, demo_kb_root
    from tandem.pipeline import Tandem

    settings = load_settings(config)
    bot = Tandem(demo_index_dir(), settings)
    docs = demo_kb_root() / "docs"
    console.print(f"[bold]Tandem demo[/]: ingesting {docs} into {demo_index_dir()}")
    show_report(bot.ingest([docs], show_progress=sys.stderr.isatty()), str(demo_index_dir()))
    sample = question or "How long do I have to return a bike for a refund?"
    console.print(f"\n[bold]Q:[/] {sample}\n[bold]A:[/] ", end="")
    print_answer(bot, sample, None, as_json=False)
    if not (chat and sys.stdin.isatty()):
        return
    console.print(
        '\nAsk about the fictional Pedalwise e-bikes; follow-ups such as "And the Fold F1?" are '
        "understood (empty line or Ctrl-D to quit)."
    )
    chat_loop(bot, bot.start_conversation(), None)
