"""`tandem serve` (API + web page) and `tandem keys ...` (API keys)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from tandem.cli.options import ConfigOption, load_settings
from tandem.cli.output import console, errors
from tandem.errors import InputError

if TYPE_CHECKING:
    from tandem.config import Settings
    from tandem.storage import KeyStore
    from tandem.storage.keys import Scope

keys_app = typer.Typer(help="Create, list and revoke API keys for `tandem serve`.", no_args_is_help=True)


def _demo_extras() -> dict[str, object]:
    """The demo router and guard policy beside the demo knowledge base, its name and samples."""
    from tandem.evaluate.demo_kb import demo_kb_root

    examples = demo_kb_root().parent
    found = {
        "router": examples / "router" / "router.toml",
        "guard_policy": examples / "guard" / "policy.toml",
    }
    extras: dict[str, object] = {name: path for name, path in found.items() if path.is_file()}
    extras["assistant_name"] = "Pedalwise demo: a fictional e-bike company"
    extras["sample_questions"] = [
        "How long do I have to return a bike for a refund?",
        "Can I bring my e-bike battery on a flight?",
        "Do I pay shipping on a bike delivered to Spain?",
        "My battery caught fire while charging",
    ]
    return extras


def _leave_a_core_for_the_encoder(settings: Settings) -> Settings:
    """Unless generator_threads was set explicitly, generate on all cores but one.

    While an answer is generated the server also encodes searches, classifications and
    embeddings. llama.cpp's threads wait on each other, so one busy core slows every one of them:
    on 2 cores, 2 generator threads under such load decoded at about 0.5 tokens/s against 13-16
    with 1 (docs/benchmarks.md).
    """
    if "generator_threads" in settings.model_fields_set:
        return settings
    threads = max(1, min(settings.generator_threads, (os.cpu_count() or 2) - 1))
    return settings.model_copy(update={"generator_threads": threads})


def _keys(settings: Settings) -> KeyStore:  # KeyStore imported lazily
    from tandem.storage import KeyStore, open_store

    return KeyStore(open_store(settings, "main"))


def serve(
    index: Annotated[Path | None, typer.Option("--index", "-i", help="Index folder to serve.")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Ingest and serve the bundled demo knowledge base.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    router: Annotated[Path | None, typer.Option("--router", help="Router folder or TOML.")] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Accept requests without an API key (local demos only).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Serve the OpenAI-compatible API and the web chat page (http://HOST:PORT/)."""
    import uvicorn

    from tandem.evaluate.demo_kb import demo_index_dir, demo_kb_root
    from tandem.pipeline import Tandem
    from tandem.server import create_app

    overrides: dict[str, object] = {"host": host, "port": port, "router": router}
    if demo:
        if index is not None:
            raise InputError("--demo serves the bundled demo index; leave out --index (or drop --demo)")
        extras = _demo_extras()
        overrides = {**extras, **{k: v for k, v in overrides.items() if v is not None}}
    settings = load_settings(config, **overrides)
    settings = _leave_a_core_for_the_encoder(settings)
    bot = Tandem(demo_index_dir() if demo else index, settings)
    if demo:
        console.print(f"Ingesting the demo knowledge base {demo_kb_root() / 'docs'} ...")
        bot.ingest([demo_kb_root() / "docs"], show_progress=sys.stderr.isatty())
    elif not bot.layout.exists():
        console.print(
            f"[yellow]warning:[/] no index at {bot.layout.root} yet; upload documents (POST /v1/documents) "
            "or run `tandem ingest PATH --index DIR` first"
        )
    url = f"http://{settings.host}:{settings.port}/"
    if no_auth:
        errors.print(
            "[yellow]warning:[/] --no-auth: anyone who can reach this port can ask, upload and read "
            "traces. Use it only for local demos."
        )
    else:
        url = _bootstrap_admin_key(settings, url)
    console.print(f"Tandem is starting on [bold]{url}[/] (API docs: {url}docs). Ctrl-C stops it.")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(bot, auth=not no_auth)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", timeout_graceful_shutdown=5)


def _bootstrap_admin_key(settings: Settings, url: str) -> str:
    """With no keys at all, create an admin key and print it once, so the first start just works."""
    keys = _keys(settings)
    if any(not k.revoked for k in keys.list()):
        console.print("API keys are required (create one with `tandem keys create --scope user`).")
        return url
    _, secret = keys.create("admin", "bootstrap (created by the first `tandem serve`)")
    console.print(
        f"No API keys existed, so an admin key was created (shown once, keep it):\n  [bold]{secret}[/]\n"
        f"Open the page with it: {url}#key={secret}"
    )
    return url


@keys_app.command("create")
def keys_create(
    scope: Annotated[
        str, typer.Option(help="user: ask/search/feedback; admin: also upload documents.")
    ] = "user",
    name: Annotated[str, typer.Option(help="Who or what the key is for.")] = "",
    config: ConfigOption = None,
) -> None:
    """Create a key and print its secret (stored hashed: it cannot be shown again)."""
    if scope not in ("user", "admin"):
        raise InputError(f"--scope must be 'user' or 'admin' (got {scope!r})")
    key, secret = _keys(load_settings(config)).create(cast("Scope", scope), name)  # checked just above
    console.print(f"Created {scope} key {key.id} ({name or 'no name'}). Secret, shown once:")
    print(secret)


@keys_app.command("list")
def keys_list(config: ConfigOption = None) -> None:
    """List keys (ids, scopes, prefixes; never secrets)."""
    found = _keys(load_settings(config)).list()
    if not found:
        console.print("No API keys yet: `tandem keys create --scope admin`.")
    for k in found:
        state = "revoked" if k.revoked else "active"
        console.print(f"{k.id}  {k.scope:5}  {k.prefix}…  {state:7}  {k.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id from `tandem keys list`.")],
                config: ConfigOption = None) -> None:  # fmt: skip
    """Revoke a key: requests with it get 401 from then on."""
    if not _keys(load_settings(config)).revoke(key_id):
        raise InputError(f"no active key {key_id!r}; see `tandem keys list`")
    console.print(f"Revoked {key_id}.")
