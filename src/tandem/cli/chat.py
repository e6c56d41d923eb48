"""`tandem chat`: a multi-turn chat kept as a stored conversation; `tandem conversations`: read them."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tandem.cli.ask import print_answer
from tandem.cli.options import (
    ConfigOption,
    IndexOption,
    JsonOption,
    RouterOption,
    SourceOption,
    TagOption,
    open_tandem,
    search_filters,
)
from tandem.cli.output import console, errors
from tandem.errors import TandemError

if TYPE_CHECKING:
    from tandem.index.filters import SearchFilters
    from tandem.pipeline import Tandem

ConversationOption = Annotated[
    str | None,
    typer.Option("--conversation", "-c", help="Resume this conversation (see `tandem conversations list`)."),
]
app = typer.Typer(help="Read stored conversations (chat, web UI and API).", no_args_is_help=True)


def chat(
    index: IndexOption = None,
    conversation: ConversationOption = None,
    router: RouterOption = None,
    source: SourceOption = None,
    tag: TagOption = None,
    config: ConfigOption = None,
) -> None:
    """Chat with the documents: follow-up questions are read in the context of the conversation.

    Each turn is stored; resume later with --conversation ID. Reads questions from the terminal (or
    one per line from a pipe); an empty line or Ctrl-D ends the chat.
    """
    bot = open_tandem(index, config, router=router)
    if conversation is None:
        conversation = bot.start_conversation()
    else:
        from tandem.converse.session import LOCAL_OWNER, load

        load(bot.conversations, conversation, LOCAL_OWNER, last=0)  # unknown or expired: say so now
    errors.print(f"conversation {conversation} (resume with --conversation {conversation})")
    chat_loop(bot, conversation, search_filters(source, tag))


def chat_loop(bot: Tandem, conversation_id: str, filters: SearchFilters | None) -> None:
    """Answer questions from stdin until an empty line or end of input; each turn is stored."""
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = console.input("[bold]Q:[/] ") if interactive else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not line.strip():
            break
        try:
            console.print("[bold]A:[/] ", end="")
            print_answer(bot, line.strip(), filters, as_json=False, conversation_id=conversation_id)
        except TandemError as exc:
            errors.print(f"[red]error:[/] {exc}")


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M")


@app.command("list")
def list_(
    index: IndexOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")] = 20,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The stored conversations (every owner's), most recently continued first."""
    found = open_tandem(index, config).conversations.recent(None, limit)
    if as_json:
        console.print_json(data=[{k: v for k, v in c.to_dict().items() if k != "exchanges"} for c in found])
        return
    if not found:
        console.print("no conversations stored yet (start one with `tandem chat`)")
    for c in found:
        console.print(
            f"{c.id}  {_when(c.updated)}  {c.turns:>3} turns  {c.owner:<10} {c.title}", markup=False
        )


@app.command()
def show(
    conversation_id: Annotated[str, typer.Argument(help="The conversation's id (conv_...).")],
    index: IndexOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One conversation turn by turn: questions and answers (PII masked), route, mode, ticket, trace."""
    from tandem.converse.session import load

    conversation = load(open_tandem(index, config).conversations, conversation_id, None)
    if as_json:
        console.print_json(data=conversation.to_dict())
        return
    console.print(f"{conversation.id}: {conversation.turns} turns, owner {conversation.owner}", markup=False)
    for e in conversation.exchanges:
        labels = ", ".join(f"{k}={v}" for k, v in e.labels.items())
        console.print(f"\n[bold]{e.turn}. Q:[/] {escape(e.question)}")
        if e.resolved:
            console.print(f"   [dim]searched as: {escape(e.resolved)}[/]")
        console.print(f"   [bold]A:[/] {escape(e.answer)}")
        extra = [f"mode {e.mode}", f"action {e.action}"] + ([labels] if labels else [])
        extra += [f"ticket {e.ticket}"] if e.ticket else []
        extra += [f"trace {e.trace_id}"] if e.trace_id else []
        console.print("   [dim]" + escape("; ".join(extra)) + "[/]")
