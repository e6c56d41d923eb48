"""Encoder backends agree with each other; any local sentence-transformers folder can be used."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tandem.encode import load_encoder, resolve_encoder
from tandem.errors import ConfigError, ModelError

TEXTS = ["How do I reset my password?", "Refunds are paid within 14 days of the return."]


@pytest.mark.slow
def test_onnx_fp32_matches_torch_and_int8_is_close() -> None:
    reference = load_encoder("all-MiniLM-L6-v2", "torch", 1).encode(TEXTS)
    fp32 = load_encoder("all-MiniLM-L6-v2", "onnx", 1).encode(TEXTS)
    int8 = load_encoder("all-MiniLM-L6-v2", "onnx-int8", 1).encode(TEXTS)
    assert reference.shape == fp32.shape == (2, 384)
    assert np.abs(reference - fp32).max() < 1e-4
    assert (reference * int8).sum(axis=1).min() > 0.98
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)


def test_local_model_folder_is_its_own_encoder(tmp_path: Path, make_tandem) -> None:
    bundled = resolve_encoder("all-MiniLM-L6-v2").path
    local = tmp_path / "my-encoder"
    local.mkdir()
    for item in bundled.iterdir():
        (local / item.name).symlink_to(item)
    files = resolve_encoder(str(local))
    assert files.model_id == "local:my-encoder" and files.max_seq_length == 256
    bot = make_tandem(tmp_path / "local-index", encoder=str(local))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# Hours\n\nThe shop opens at nine.\n")
    assert bot.ingest([tmp_path / "docs"]).ok
    assert bot.snapshot.manifest.encoder.model_id == "local:my-encoder"
    assert bot.search("opening time", k=1)[0].chunk.doc_id == "a.md"


def test_unknown_encoder_and_backend_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="neither the bundled"):
        resolve_encoder(str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="encoder_backend must be one of"):
        load_encoder("all-MiniLM-L6-v2", "tensorrt", 1)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 CPUs to choose 2 threads")
def test_ingest_embeds_on_its_own_thread_count(tmp_path: Path, settings, encoder, monkeypatch) -> None:
    from tandem.pipeline import components

    chosen = settings.model_copy(
        update={"index_dir": tmp_path / "index", "encoder_threads": 1, "ingest_encoder_threads": 2}
    )
    monkeypatch.setattr(components, "runnable_tasks", lambda: 1)  # nothing else runs
    parts = components.Components(chosen)
    bulk = parts.ingest_encoder
    assert bulk is not parts.encoder and bulk.model_id == parts.encoder.model_id
    assert bulk.session.get_session_options().intra_op_num_threads == 2
    assert parts.ingest_encoder is bulk  # loaded once
    text = ["Our bikes ship within two business days."]
    assert np.allclose(bulk.encode(text), parts.encoder.encode(text), atol=1e-3)
    monkeypatch.setattr(components, "runnable_tasks", lambda: 64)  # other processes hold the cores
    assert parts.ingest_encoder is parts.encoder
    same = components.Components(chosen.model_copy(update={"ingest_encoder_threads": 1}))
    assert same.ingest_encoder is same.encoder
    assert components.Components(chosen, encoder=encoder).ingest_encoder is encoder  # one serves both
