"""Every supported format parses into documents with the structure users expect."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.documents.loaders import discover, load_documents
from tandem.errors import DocumentError

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]


def test_markdown_keeps_title_heading_path_tags_and_offsets() -> None:
    (doc,) = load_documents(DATA / "kb" / "refunds.md", "refunds.md")
    assert doc.title == "Refunds and returns"
    assert doc.tags == ("billing", "policy")
    paths = [b.heading_path for b in doc.blocks]
    assert ("Exceptions", "Custom paint") in paths
    block = next(b for b in doc.blocks if b.heading_path == ("Refund timing",))
    assert doc.block_text(block).startswith("Refunds are paid to the original payment method")


def test_html_drops_navigation_scripts_and_hidden_text() -> None:
    (doc,) = load_documents(DATA / "kb" / "guides" / "pairing.html", "guides/pairing.html")
    assert doc.title == "Pairing the app"
    assert "Hold the display's mode button for 5 seconds" in doc.text
    for boilerplate in ("Home", "Copyright", "tracking", "Ignore previous", "Hidden promo", "Site header"):
        assert boilerplate not in doc.text
    steps = [b for b in doc.blocks if b.heading_path == ("Steps",)]
    assert len(steps) == 2


def test_pdf_text_per_page() -> None:
    (doc,) = load_documents(DATA / "kb" / "guides" / "battery-care.pdf", "battery-care.pdf")
    pages = {b.page for b in doc.blocks}
    assert pages == {1, 2}
    page_two = " ".join(doc.block_text(b) for b in doc.blocks if b.page == 2)
    assert "below 5 degrees Celsius" in page_two


def test_faq_csv_one_block_per_pair() -> None:
    (doc,) = load_documents(DATA / "kb" / "faq.csv", "faq.csv")
    assert len(doc.blocks) == 3 and all(b.standalone for b in doc.blocks)
    assert doc.blocks[0].heading_path == ("How do I reset my password?",)
    assert 'tap "Forgot password"' in doc.block_text(doc.blocks[0])


def test_jsonl_faq_and_collection_keep_ids() -> None:
    (faq,) = load_documents(DATA / "kb" / "support-faq.jsonl", "support-faq.jsonl")
    assert faq.kind == "faq" and len(faq.blocks) == 2
    docs = load_documents(DATA / "kb" / "articles.jsonl", "articles.jsonl")
    assert [d.doc_id for d in docs] == ["art-101", "art-102"]
    assert docs[0].title == "Error code E04"


def test_plain_text_title_from_first_line() -> None:
    (doc,) = load_documents(DATA / "kb" / "warranty.txt", "warranty.txt")
    assert doc.title == "Warranty summary"
    assert len(doc.blocks) == 3


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("corrupt.pdf", "not a readable PDF"),
        ("junk.md", "binary"),
        ("empty.txt", "is empty"),
        ("latin1.txt", "not valid UTF-8"),
        ("notes.xyz", "unsupported file type '.xyz'"),
    ],
)
def test_bad_files_raise_clear_errors(name: str, problem: str) -> None:
    with pytest.raises(DocumentError) as caught:
        load_documents(DATA / "bad" / name, name)
    assert name in str(caught.value) and problem in str(caught.value)


def test_discover_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("x")
    (tmp_path / "a.md").write_text("# A\n\ntext")
    assert [rel for _, rel in discover(tmp_path)] == ["a.md"]


def test_discover_follows_linked_folders_once(tmp_path: Path) -> None:
    shelf = tmp_path / "shelf"
    (shelf / "manuals").mkdir(parents=True)
    (shelf / "manuals" / "b.md").write_text("# B\n\ntext")
    (shelf / "manuals" / "up").symlink_to(shelf)  # a loop back up
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.md").write_text("# A\n\ntext")
    (root / "linked").symlink_to(shelf / "manuals")
    assert [rel for _, rel in discover(root)] == ["a.md", "linked/b.md"]


def test_html_list_items_keep_their_markers(tmp_path: Path) -> None:
    page = tmp_path / "steps.html"
    page.write_text(
        "<html><body><main><h1>2FA</h1><p>Options:</p><ul><li>App</li><li>Text message</li></ul>"
        "<p>To turn it on:</p><ol><li>Open Settings.</li><li>Choose a method.</li></ol></main></body></html>"
    )
    [document] = load_documents(page, "steps.html")
    assert document.text.split("\n\n") == [
        "Options:", "- App", "- Text message", "To turn it on:", "1. Open Settings.", "2. Choose a method.",
    ]  # fmt: skip


def test_a_pdfs_running_headers_footers_and_page_numbers_are_left_out() -> None:
    from tandem.documents.pdf import without_page_furniture

    pages = [
        "Manual\nIntro.\nAcme - Manual - page 1",
        "ACME Confidential\nChapter 2\nBody, see page 3.\nAcme - Manual - page 2",
        "ACME Confidential\nChapter 3\nBody.\n3",
    ]
    assert without_page_furniture(pages) == [
        "Manual\nIntro.",
        "Chapter 2\nBody, see page 3.",
        "Chapter 3\nBody.",
    ]
    assert without_page_furniture(["Title\nThe only page.\nPage 1 of 1"]) == ["Title\nThe only page."]
    booklet = load_documents(REPO / "examples/demo-kb/docs/policies/warranty-booklet.pdf", "warranty")[0]
    assert "Limited Warranty - page" not in booklet.text and booklet.title == "Pedalwise Limited Warranty"
