"""The decode thread policy: as many threads as cores nobody else is using, at least one."""

from __future__ import annotations

from pathlib import Path

from tandem.generate.threads import decode_threads, runnable_tasks


def test_an_idle_machine_decodes_with_the_configured_threads() -> None:
    assert decode_threads(2, cpus=2, runnable=1) == 2  # only the reading thread runs
    assert decode_threads(4, cpus=16, runnable=3) == 4


def test_a_busy_core_leaves_one_thread_and_never_zero() -> None:
    assert decode_threads(2, cpus=2, runnable=2) == 1
    assert decode_threads(2, cpus=2, runnable=9) == 1
    assert decode_threads(8, cpus=8, runnable=4) == 5


def test_unknown_load_keeps_the_configured_threads(tmp_path: Path) -> None:
    assert runnable_tasks(tmp_path / "missing") is None
    (tmp_path / "loadavg").write_text("garbage")
    assert runnable_tasks(tmp_path / "loadavg") is None
    assert decode_threads(2, cpus=2, runnable=None) == 2
    (tmp_path / "loadavg").write_text("0.52 0.58 0.59 3/817 12345\n")
    assert runnable_tasks(tmp_path / "loadavg") == 3
