"""Shared fixtures: the real bundled encoder, real test documents copied to a temp folder."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tandem.config import Settings
from tandem.encode import load_encoder

if TYPE_CHECKING:
    from tandem.pipeline import Tandem

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.load(None)


@pytest.fixture(scope="session")
def encoder(settings: Settings):
    return load_encoder(settings.encoder, settings.encoder_backend, settings.encoder_threads)


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A writable copy of the small multi-format knowledge base."""
    target = tmp_path / "kb"
    shutil.copytree(DATA / "kb", target)
    return target


@pytest.fixture(scope="session")
def kb_index(tmp_path_factory: pytest.TempPathFactory, settings: Settings, encoder) -> Path:
    """The small knowledge base ingested once per test run, with the default settings. Read-only:
    tests take a copy (`copy_kb_index`, `kb_tandem`), so their traces and tickets stay their own."""
    from tandem.pipeline import Tandem

    folder = tmp_path_factory.mktemp("kb-index") / "index"
    assert Tandem(folder, settings, encoder=encoder).ingest([DATA / "kb"]).published
    return folder


@pytest.fixture(scope="session")
def copy_kb_index(tmp_path_factory: pytest.TempPathFactory, kb_index: Path) -> Callable[..., Path]:
    """Copy the shared knowledge-base index to `target` (default: a new temp folder); returns it."""

    def copy(target: Path | None = None) -> Path:
        target = target or tmp_path_factory.mktemp("kb-copy") / "index"
        shutil.copytree(kb_index, target)
        return target

    return copy


@pytest.fixture(scope="session")
def kb_tandem(copy_kb_index: Callable[..., Path], settings: Settings, encoder) -> Callable[..., Tandem]:
    """A Tandem over a private copy of the shared knowledge-base index, with settings `overrides`."""
    from tandem.pipeline import Tandem

    def make(**overrides: object) -> Tandem:
        return Tandem(copy_kb_index(), settings.model_copy(update=overrides), encoder=encoder)

    return make


@pytest.fixture
def make_tandem(tmp_path: Path, settings: Settings, encoder):
    """Build a Tandem over a temp index folder that shares the session's loaded encoder."""
    from tandem.pipeline import Tandem

    def make(index_dir: Path | None = None, **overrides: object) -> Tandem:
        shared = None if "encoder" in overrides else encoder  # a configured encoder loads itself
        return Tandem(index_dir or tmp_path / "index", settings.model_copy(update=overrides), encoder=shared)

    return make
