"""Shared fixtures: the real bundled encoder, real test documents copied to a temp folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tandem.config import Settings
from tandem.encode import load_encoder

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


@pytest.fixture
def make_tandem(tmp_path: Path, settings: Settings, encoder):
    """Build a Tandem over a temp index folder that shares the session's loaded encoder."""
    from tandem.pipeline import Tandem

    def make(index_dir: Path | None = None, **overrides: object) -> Tandem:
        shared = None if "encoder" in overrides else encoder  # a configured encoder loads itself
        return Tandem(index_dir or tmp_path / "index", settings.model_copy(update=overrides), encoder=shared)

    return make
