"""HTML loader: main content only (no nav, footer, scripts or hidden text), headings kept."""

from __future__ import annotations

import re
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from tandem.documents.models import Block, Document
from tandem.documents.text_utils import read_text
from tandem.errors import DocumentError

_DROP = "script, style, noscript, template, nav, footer, header, aside, form, button, svg, iframe"
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, dt, dd, td, th, figcaption"
_SPACE = re.compile(r"[ \t\r\f\v]*\n[ \t\r\f\v]*|[ \t\r\f\v]+")


def _clean(text: str) -> str:
    return _SPACE.sub(lambda m: "\n" if "\n" in m.group(0) else " ", text).strip()


def _item_marker(item: Node) -> str:
    """A list item's marker as Markdown writes it: "3. " in an ordered list, "- " otherwise, so
    that the lists of a page read as lists (steps stay numbered)."""
    parent = item.parent
    if parent is None or parent.tag != "ol":
        return "- "
    number, sibling = 1, item.prev
    while sibling is not None:
        number += sibling.tag == "li"
        sibling = sibling.prev
    return f"{number}. "


def _is_hidden(node: Node) -> bool:
    attrs = node.attributes
    return (
        "hidden" in attrs
        or attrs.get("aria-hidden") == "true"
        or bool(_HIDDEN.search(attrs.get("style") or ""))
    )


def load_html(path: Path, doc_id: str) -> list[Document]:
    """Extract headings and block text from <main>/<article> (or <body>) in document order."""
    tree = HTMLParser(read_text(path))
    title_node = tree.css_first("title")
    title = _clean(title_node.text()) if title_node else ""
    for node in tree.css(_DROP):
        node.decompose()
    for node in tree.css("[style], [hidden], [aria-hidden]"):
        if _is_hidden(node):
            node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.css_first("[role=main]")
    root = root or tree.body or tree.root
    if root is None:
        raise DocumentError(str(path), "has no HTML body to extract text from")

    parts: list[str] = []
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    length = 0
    matched = root.css(_BLOCKS)
    matched_ids = {node.mem_id for node in matched}
    for node in matched:
        parent, nested = node.parent, False
        while parent is not None and parent.mem_id != root.mem_id:
            if parent.mem_id in matched_ids:
                nested = True
                break
            parent = parent.parent
        text = _clean(node.text(separator=" " if node.tag in ("td", "th") else ""))
        if nested or not text:
            continue
        tag = node.tag
        assert tag is not None  # css() only matches elements, and every element has a tag name
        if tag[0] == "h" and tag[1:].isdigit():
            level = int(tag[1:])
            if level == 1 and not headings and not blocks:
                title = title or text
                if text == title:
                    continue
            headings[:] = [(lvl, h) for lvl, h in headings if lvl < level]
            headings.append((level, text))
            continue
        if tag == "li":
            text = _item_marker(node) + text
        if parts:
            length += 2
        blocks.append(Block(length, length + len(text), tuple(h for _, h in headings)))
        parts.append(text)
        length += len(text)
    if not blocks:
        text = _clean(root.text(separator="\n"))
        if text:
            parts, blocks = [text], [Block(0, len(text))]
    return [
        Document(
            doc_id=doc_id,
            source=str(path),
            title=title or path.stem,
            text="\n\n".join(parts),
            blocks=blocks,
            kind="html",
        )
    ]
