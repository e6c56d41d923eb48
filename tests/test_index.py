"""Ingest into the embedded index: formats, incremental re-ingest, filters, versions, safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tandem.errors import IndexError_
from tandem.index.layout import IndexLayout
from tandem.index.snapshot import SearchFilters

from .conftest import DATA


def test_ingest_every_format_then_hybrid_search(make_tandem, kb: Path) -> None:
    bot = make_tandem()
    report = bot.ingest([kb])
    assert report.ok and report.published and report.version == 1
    assert report.files_added == 7 and not report.skipped
    ids = set(bot.snapshot.doc_ids)
    assert {"refunds.md", "faq.csv", "guides/pairing.html", "guides/battery-care.pdf", "art-101"} <= ids
    top = bot.search("which payment method is the refund paid to", k=3)
    assert top[0].chunk.doc_id == "refunds.md"
    assert top[0].chunk.heading_path == ("Refund timing",)
    assert top[0].dense_rank is not None and top[0].lexical_rank is not None
    faq = bot.search("shipping to Canada", k=1)[0]
    assert faq.chunk.doc_id == "faq.csv" and faq.chunk.text.startswith("Q: Do you ship to Canada?")
    page = bot.search("charging a cold battery in winter", k=1)[0]
    assert page.chunk.doc_id == "guides/battery-care.pdf" and page.chunk.page == 2
    for mode in ("dense", "bm25"):
        assert bot.search("error E04 speed sensor magnet", k=1, mode=mode)[0].chunk.doc_id == "art-101"


def test_reingest_skips_unchanged_replaces_changed_drops_deleted(make_tandem, kb: Path) -> None:
    bot = make_tandem()
    bot.ingest([kb])
    again = bot.ingest([kb])
    assert (again.files_unchanged, again.new_chunks, again.published) == (7, 0, False)

    (kb / "warranty.txt").write_text("Warranty summary\n\nThe frame is covered for 15 years.\n")
    (kb / "faq.csv").unlink()
    (kb / "new.md").write_text("# Gift cards\n\nGift cards never expire.\n")
    report = bot.ingest([kb])
    assert (report.files_changed, report.files_deleted, report.files_added) == (1, 1, 1)
    assert report.files_unchanged == 5 and report.version == 2
    assert "faq.csv" not in bot.snapshot.doc_ids
    hit = bot.search("how many years is the frame covered", k=1)[0]
    assert "15 years" in hit.chunk.text
    texts = [p.chunk.text for p in bot.search("frame covered 10 years", k=10)]
    assert not any("10 years" in t for t in texts), "stale chunk of the old version still searchable"
    assert bot.search("gift card expiry", k=1)[0].chunk.doc_id == "new.md"


def test_ingesting_another_folder_keeps_the_first(make_tandem, kb: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.md").write_text("# Extra\n\nThe showroom in Lyon opens at 10:00.\n")
    bot = make_tandem()
    bot.ingest([kb])
    report = bot.ingest([other])
    assert report.files_deleted == 0 and report.files_added == 1
    assert {"refunds.md", "extra.md"} <= set(bot.snapshot.doc_ids)


def test_filters_by_source_glob_and_tag(make_tandem, kb: Path) -> None:
    bot = make_tandem()
    bot.ingest([kb], tags=("kb",))
    only_guides = bot.search("refund", k=10, filters=SearchFilters(sources=("guides/*",)))
    assert only_guides and all(p.chunk.doc_id.startswith("guides/") for p in only_guides)
    billing = bot.search("battery", k=10, filters=SearchFilters(tags=("billing",)))
    assert billing and {p.chunk.doc_id for p in billing} == {"refunds.md"}
    assert bot.search("battery", k=3, filters=SearchFilters(tags=("nope",))) == []
    assert all("kb" in p.chunk.tags for p in bot.search("battery", k=3))


def test_bad_inputs_are_skipped_and_reported(make_tandem, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(DATA / "bad", bad)
    (bad / "gone.md").symlink_to(tmp_path / "deleted-target.md")
    bot = make_tandem()
    report = bot.ingest([bad, tmp_path / "missing"])
    assert report.ok and report.files_added == 1  # only good-faq.csv
    reasons = dict(report.skipped)
    assert len(reasons) == 7
    assert "broken link" in reasons[str(bad / "gone.md")]
    assert reasons[str(tmp_path / "missing")] == "does not exist"
    assert "not valid UTF-8" in reasons[str(bad / "latin1.txt")]
    assert bot.search("is this fine", k=1)[0].chunk.doc_id == "good-faq.csv"


def test_nothing_ingestible_is_not_ok_and_leaves_no_index(make_tandem, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(DATA / "bad", bad)
    (bad / "good-faq.csv").unlink()
    bot = make_tandem()
    report = bot.ingest([bad])
    assert not report.ok and not report.published
    assert not IndexLayout(tmp_path / "index").exists()


def test_opening_with_another_encoder_says_reindex(make_tandem, kb: Path, tmp_path: Path) -> None:
    bot = make_tandem()
    bot.ingest([kb])
    manifest_path = bot.layout.current_folder() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["encoder"]["model_id"] = "local:some-other-model"
    manifest_path.write_text(json.dumps(manifest))
    fresh = make_tandem()
    with pytest.raises(IndexError_, match="re-index"):
        fresh.search("refund")
    with pytest.raises(IndexError_, match="new --index folder"):
        fresh.ingest([kb])


def test_second_writer_is_refused(make_tandem, kb: Path, tmp_path: Path) -> None:
    layout = IndexLayout(tmp_path / "index")
    with layout.write_lock(), pytest.raises(IndexError_, match="another ingest"):
        make_tandem().ingest([kb])


@pytest.mark.slow
def test_killed_ingest_leaves_previous_version_readable(make_tandem, kb: Path, tmp_path: Path) -> None:
    bot = make_tandem()
    bot.ingest([kb])
    many = tmp_path / "many"
    many.mkdir()
    for i in range(400):
        (many / f"doc{i}.md").write_text(f"# Note {i}\n\n" + f"Paragraph {i} about spare part {i}. " * 40)
    index = tmp_path / "index"
    process = subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", "ingest", str(many), "--index", str(index)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TANDEM_ENCODER_THREADS": "1"},
    )
    deadline = time.monotonic() + 120
    while not list((index / "versions").glob(".building-*")) and time.monotonic() < deadline:
        assert process.poll() is None, "ingest finished before it could be interrupted"
        time.sleep(0.01)
    time.sleep(1.0)
    assert process.poll() is None, "ingest finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()

    survivor = make_tandem()
    assert survivor.layout.current_name() == "v000001"
    assert survivor.search("refund timing", k=1)[0].chunk.doc_id == "refunds.md"
    report = survivor.ingest([kb])
    assert report.files_unchanged == 7
    assert not list((index / "versions").glob(".building-*")), "stale build folder was not cleaned"


def test_the_index_writer_is_the_one_locked_door(make_tandem, kb: Path, tmp_path: Path) -> None:
    """Writing outside `IndexWriter.open()` is refused; an abandoned build leaves the current version
    and no build folder behind."""
    from tandem.index.writer import IndexWriter

    bot = make_tandem()
    assert bot.ingest([kb]).published
    writer = IndexWriter(bot.settings.index_dir, None)
    with pytest.raises(RuntimeError, match=r"writer\.open"):
        writer.start_version(bot.encoder.dimension, None)
    with writer.open() as previous:
        assert previous is not None and previous.version == 1
        version = writer.start_version(bot.encoder.dimension, previous)
        assert version.number == 2 and version.folder.is_dir()
        writer.abandon(version)
        assert not version.folder.exists()
    assert IndexLayout(bot.settings.index_dir).current_name() == "v000001"
    assert sorted(p.name for p in (bot.settings.index_dir / "versions").iterdir()) == ["v000001"]


def test_a_fifo_and_a_non_utf8_name_are_skipped_not_fatal(tmp_path: Path) -> None:
    """A named pipe would block the read forever (holding the index lock), and a name that is not
    UTF-8 cannot be stored: both are skipped and named, and the good file beside them is ingested."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text("# Hours\n\nThe shop opens at nine.\n")
    os.mkfifo(docs / "pipe.md")
    with open(os.path.join(os.fsencode(docs), b"caf\xe9.md"), "w") as handle:
        handle.write("# Menu\n\nCoffee.\n")
    command = [sys.executable, "-m", "tandem.cli", "ingest", str(docs), "--index", str(tmp_path / "index")]
    result = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["files_added"] == 1 and report["published"]
    reasons = {Path(path).name: reason for path, reason in report["skipped"]}
    assert "not a regular file" in reasons["pipe.md"]
    assert "not valid UTF-8" in reasons["caf\ufffd.md"]
    plain = subprocess.run(command, capture_output=True, text=True, timeout=120)  # the summary prints too
    assert plain.returncode == 0 and "caf\ufffd.md" in plain.stdout + plain.stderr


def test_leftovers_of_a_killed_publish_are_cleaned(make_tandem, kb: Path) -> None:
    """A kill between moving a build into place and pointing CURRENT at it leaves a complete but
    unpublished version and a CURRENT temp file: the next ingest removes both. A version left
    current-less by a rollback is kept."""
    bot = make_tandem()
    bot.ingest([kb])
    versions = bot.settings.index_dir / "versions"
    shutil.copytree(versions / "v000001", versions / "v000002")  # moved into place, never published
    (bot.settings.index_dir / ".CURRENT.4242").write_text("v000002\n")
    (kb / "refunds.md").write_text("# Refunds\n\nRefunds take 21 days now.\n")
    report = bot.ingest([kb])
    assert report.published and report.version == 2 and report.files_changed == 1
    assert not list(bot.settings.index_dir.glob(".CURRENT.*"))
    assert "21 days" in bot.search("how long do refunds take", k=1)[0].chunk.text

    from tandem.index.versions import rollback

    rollback(bot.settings.index_dir, "1")
    (kb / "refunds.md").write_text("# Refunds\n\nRefunds take 30 days now.\n")
    assert bot.ingest([kb]).version == 3
    assert sorted(p.name for p in versions.iterdir()) == ["v000001", "v000002", "v000003"]


def test_an_index_read_by_older_parsers_is_read_again(make_tandem, kb: Path) -> None:
    bot = make_tandem()
    bot.ingest([kb])
    manifest_file = IndexLayout(bot.settings.index_dir).current_folder() / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    assert manifest["chunking"]["parsers"] >= 2
    del manifest["chunking"]["parsers"]  # as written before the field: parsers 1
    manifest_file.write_text(json.dumps(manifest))
    again = make_tandem().ingest([kb])
    assert again.files_changed == 7 and again.files_unchanged == 0 and again.published
    assert make_tandem().ingest([kb]).files_unchanged == 7  # and then reused as usual
