"""Build support-style training pairs for the evidence selector from public product documentation.

    .venv/bin/python scripts/build_support_pairs.py [--mirrors /work/.mirror] [--out PATH]
        [--max-mb 3.0] [--per-kind 2000] [--seed 0] [--check]

Reads pinned commits of Microsoft product-documentation repositories (Markdown how-to articles and
FAQ pages, content licensed CC BY 4.0; see SOURCES and `data/selector/README.md`)
from bare git mirrors named `<mirrors>/<owner>+<name>/repo` (as made by the session tool `fetch`,
or `git clone --mirror`), and writes one JSON line per example to
`data/selector/support_pairs.jsonl`:

    {"source", "doc", "kind", "question", "paraphrase", "title", "heading", "section", "positive",
     "negatives": [{"section", "heading"}, {"section", "heading"}]}

Kinds: "question" (a heading that is a question, or an FAQ entry; positive = the first paragraph or
list of its section), "howto" ("To create X" / "Creating X" / "Create X" heading over a numbered
list; question "How do I create X?", positive = the list with its lead-in) and "table" (a table row,
positive = that row, question templated from the row key and a column header; or a `**Key**: value`
list line). Negatives are the two other sections of the same article sharing the most words with the
question. `positive` is an exact substring of `section`, and its ends fall on evidence-unit
boundaries (`tandem.select.units.passage_units`): every unit that overlaps it lies inside it.
Kinds are taken in turn (question, howto, table, ...) from candidates shuffled with
random.Random(seed), at most PER_ARTICLE per article, until --per-kind of a kind or --max-mb of
output; about 1 in 5 questions is paraphrased. The output is deterministic for given commits.
`--check` only validates an existing file.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from tandem.select.units import passage_units  # noqa: E402

OUT = ROOT / "data" / "selector" / "support_pairs.jsonl"
MAX_SECTION_CHARS = 1500
PER_ARTICLE = 4
PER_TABLE = 2
NEGATIVES = 2
PARAPHRASED = 0.2  # share of questions rewritten from the heading wording
BOILERPLATE_DOCS = 4  # a heading or question found in this many articles is boilerplate
KINDS = ("question", "howto", "table")


@dataclass(frozen=True)
class Source:
    repo: str  # owner/name
    commit: str
    include: tuple[str, ...]  # path prefixes read
    exclude: tuple[str, ...] = ()  # path substrings skipped


_COMMON_EXCLUDE = ("/includes/", "/TOC.", "README", "LICENSE", "/breadcrumb/", "template")
SOURCES = (
    Source(
        "MicrosoftDocs/dynamics365smb-docs", "41aa5854d6fd0c6eacf01d5dc91327a04ab9eae9",
        ("business-central/",),
    ),
    Source(
        "MicrosoftDocs/dynamics365smb-devitpro-pb", "5dc00b6a9b1e032290c571a07d7f5916a6b0dad4",
        ("dev-itpro/",),
        ("methods-auto", "triggers-auto", "/diagnostics/", "api-reference", "/analyzers/", "/properties/",
         "api-analytics", "/attributes/", "avs-diagnostics", "/directives/", "/api-", "/api/",
         "financereportsapi", "cloudmigrationapi", "/developer/"),
    ),
    Source(
        "MicrosoftDocs/OfficeDocs-Exchange", "52e8b70f9b7aa92a24a4cb16b70229c1b45d583a",
        ("Exchange/", "Outlook/"),
    ),
    Source(
        "MicrosoftDocs/OfficeDocs-SharePoint", "7c40f91e5ec777bea5e1a222015884fdc8b3a2bb",
        ("SharePoint/", "OneDrive/", "migration/", "sharepointmigration/"),
    ),
    Source("MicrosoftDocs/OfficeDocs-DeployOffice", "947f018871a61f93d0cef7f70bea1a8b6330802d", ("",)),
    Source("MicrosoftDocs/OfficeDocs-MicrosoftSearch", "630b5dcdcf0932b6b45a8249b724a1e7ed8e6ba9", ("",)),
    Source("MicrosoftDocs/OfficeDocs-O365ITPro", "a654a323c51eeba8e4c26ef160ca493fa4fc741b", ("",)),
    Source(
        "MicrosoftDocs/iis-docs", "63b689f03dea4704aaa6a7c17dd42a899a1d4bc7", ("iis/",),
        ("web-development-reference", "wmi-provider"),
    ),
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Reading a mirror


class Mirror:
    """Files of one commit of a bare git repository, read through one `git cat-file --batch`."""

    def __init__(self, git_dir: Path, commit: str) -> None:
        self.git_dir = git_dir
        listing = subprocess.run(
            ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", commit],
            check=True, capture_output=True,
        ).stdout.decode("utf-8")  # fmt: skip
        self.blobs: dict[str, str] = {}
        for entry in listing.split("\0"):
            if not entry:
                continue
            meta, path = entry.split("\t", 1)
            _, kind, sha = meta.split()
            if kind == "blob":
                self.blobs[path] = sha
        self._cat = subprocess.Popen(
            ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._cache: dict[str, str] = {}

    def read(self, path: str) -> str | None:
        if path in self._cache:
            return self._cache[path]
        sha = self.blobs.get(path)
        if sha is None:
            return None
        assert self._cat.stdin and self._cat.stdout
        self._cat.stdin.write(sha.encode() + b"\n")
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        size = int(header[2])
        data = self._cat.stdout.read(size)
        self._cat.stdout.read(1)
        text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        if len(self._cache) < 4000:
            self._cache[path] = text
        return text

    def close(self) -> None:
        if self._cat.stdin:
            self._cat.stdin.close()
        self._cat.wait()


# ---------------------------------------------------------------------------------------------
# Markdown cleaning

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_INCLUDE = re.compile(r"\[!INCLUDE\s*\[[^\]]*\]\s*\(([^)]*)\)\s*\]", re.I)
_LEFTOVER_DIRECTIVE = re.compile(
    r"\[!(?:INCLUDE|VIDEO|div|NOTE|TIP|IMPORTANT|WARNING|CAUTION)[^\]]*\]\s*(?:\([^)]*\)\s*\])?", re.I
)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LIQUID = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_IMAGE_BLOCK = re.compile(r":::image[^\n]*?type=\"complex\".*?:::image-end:::", re.S)
_IMAGE_INLINE = re.compile(r":::image\b.*?:::", re.S)
_PARENS = r"\((?:[^()\n]|\([^()\n]*\))*\)"
_IMAGE = re.compile(r"!\[[^\]\n]*\]" + _PARENS)
_LINK = re.compile(r"(?<!!)\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]" + _PARENS)
_REF_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_REF_DEF = re.compile(r"^\s*\[[^\]\n]+\]:\s*\S+.*$", re.M)
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_BR = re.compile(r"<br\s*/?>", re.I)
_TAGS = (
    "a|abbr|b|big|blockquote|center|cite|code|col|colgroup|dd|del|div|dl|dt|em|font|h[1-6]|hr|i|img|"
    "ins|kbd|li|mark|nobr|ol|p|pre|q|s|samp|section|small|span|strike|strong|sub|sup|table|tbody|td|"
    "th|thead|tr|tt|u|ul|var|caption|iframe|video|details|summary|figure|figcaption|input|label|button"
)
_TAG = re.compile(rf"</?(?:{_TAGS})\b[^<>]*>", re.I)
_ALERT = re.compile(r"^(\s*)>\s*\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*$", re.I)
_QUOTE = re.compile(r"^(\s*)>\s?")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING_LINE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_HEADING_ANCHOR = re.compile(r"\s*\{#[^}]*\}\s*$")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+.!<>-])")
_LIST_MARK = re.compile(r"^(\s*)(?:[-*+\u2022]|\d{1,2}[.)])\s+")
_NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$")
_BOLD_QUESTION = re.compile(r"^\*\*(?:Q:\s*)?([^*\n]{8,200}\?)\*\*\s*$")
CODE = "\u241eCODE\u241e"  # stands for a code block: sections holding one are not used


def front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "-")):
            meta[key.strip()] = value.strip().strip("'\"")
    return meta, text[match.end() :]


def resolve_includes(text: str, here: str, mirror: Mirror, depth: int = 0) -> str:
    """Inline `[!INCLUDE[...](path)]` fragments (front matter dropped), relative to `here`."""

    def replace(match: re.Match[str]) -> str:
        target = match.group(1).strip().split("#")[0]
        if depth > 3 or not target or "://" in target:
            return ""
        path = str(PurePosixPath(here).parent / target)
        parts: list[str] = []
        for part in path.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        body = mirror.read("/".join(parts))
        if body is None:
            return ""
        body = front_matter(body)[1].strip()
        body = resolve_includes(body, "/".join(parts), mirror, depth + 1)
        return body if "\n" in body else body.strip()

    return _INCLUDE.sub(replace, text)


def clean_inline(line: str) -> str:
    line = _IMAGE.sub("", line)
    line = _LINK.sub(lambda m: m.group(1).strip(), line)
    line = _REF_LINK.sub(r"\1", line)
    line = _AUTOLINK.sub(r"\1", line)
    line = _LEFTOVER_DIRECTIVE.sub("", line)
    line = _BR.sub(" ", line)
    line = _TAG.sub("", line)
    line = html.unescape(line).replace("\u00a0", " ").replace("\u202f", " ").replace("\u200b", "")
    line = _ESCAPE.sub(r"\1", line)
    indent = len(line) - len(line.lstrip(" "))
    body = re.sub(r"[ \t]{2,}", " ", line.strip())
    body = re.sub(r"\*\*\s*\*\*", "", body)
    return " " * indent + body if body else ""


def clean_markdown(text: str) -> str:
    """Markdown with links reduced to their text, images, comments, templating, directives and
    HTML tags removed, alerts unwrapped, and each fenced code block replaced by the CODE marker."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = _COMMENT.sub("", text)
    text = _LIQUID.sub("", text)
    text = _IMAGE_BLOCK.sub("", text)
    text = _IMAGE_INLINE.sub("", text)
    text = _REF_DEF.sub("", text)
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            if not in_code:
                out.append(CODE)
            in_code = not in_code
            continue
        if in_code:
            continue
        if _ALERT.match(line) or line.strip().startswith(":::") or re.match(r"^\s*>\s*\[!div\b", line, re.I):
            continue
        while _QUOTE.match(line):
            line = _QUOTE.sub(r"\1", line, count=1)
        heading = _HEADING_LINE.match(line)
        if heading:
            title = clean_inline(_HEADING_ANCHOR.sub("", heading.group(2))).strip()
            out.append(f"{heading.group(1)} {title}" if title else "")
            continue
        out.append(clean_inline(line).rstrip())
    return "\n".join(out)


def _is_structural(line: str) -> bool:
    s = line.strip()
    return bool(_LIST_MARK.match(line) or s.startswith("|") or s.startswith("#") or s == CODE)


def normalize_blocks(text: str) -> str:
    """One line per paragraph and per list item: soft-wrapped prose is joined, an indented
    paragraph inside a list item is appended to the item, indented tables are dedented; a line
    with a table rule gets outer pipes on every row of its table."""
    lines = text.split("\n")
    out: list[str] = []
    in_list = False
    prev_blank = True
    for line in lines:
        if not line.strip():
            out.append("")
            prev_blank = True
            continue
        stripped = line.strip()
        indented = line.startswith("  ")
        if _LIST_MARK.match(line):
            in_list = True
            out.append(line.rstrip())
        elif stripped.startswith("|") or stripped == CODE or stripped.startswith("#"):
            out.append(stripped)
            if stripped.startswith("#"):
                in_list = False
        elif in_list and (indented or not prev_blank) and out:
            # continuation of the previous list item (a wrapped line or an indented paragraph)
            j = len(out) - 1
            while j >= 0 and not out[j].strip():
                j -= 1
            if j >= 0 and _LIST_MARK.match(out[j]):
                del out[j + 1 :]
                out[j] = f"{out[j]} {stripped}"
            else:
                out.append(stripped)
        elif not prev_blank and out and out[-1].strip() and not _is_structural(out[-1]):
            out[-1] = f"{out[-1]} {stripped}"  # soft-wrapped paragraph
        else:
            in_list = False
            out.append(stripped)
        prev_blank = False
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")
    return _pipe_tables(text)


def _pipe_tables(text: str) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not _TABLE_RULE.match(line) or i == 0:
            continue
        start = i - 1
        end = i + 1
        while end < len(lines) and "|" in lines[end] and lines[end].strip():
            end += 1
        for k in range(start, end):
            row = lines[k].strip()
            if not row.startswith("|"):
                row = "| " + row
            if not row.endswith("|") or row.endswith("\\|"):
                row = row + " |"
            lines[k] = row
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Articles and sections


@dataclass
class Section:
    heading: str  # heading path, " > " joined, the article title first
    text: str  # its title-less heading text
    body: str
    level: int

    @property
    def usable(self) -> bool:
        return bool(self.body.strip()) and len(self.body) <= MAX_SECTION_CHARS and CODE not in self.body


@dataclass
class Article:
    source: str
    doc: str
    title: str
    sections: list[Section] = field(default_factory=list)


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\*\*|__|`", "", text)).strip()


def split_sections(text: str, title: str) -> list[Section]:
    """Sections at every heading (and at a bold line that is a question), each with its body."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    heading_level = 1  # of the last real heading: a bold question sits one level below it
    current = Section(title, "", "", 1)
    body: list[str] = []

    def close() -> None:
        current.body = "\n".join(body).strip("\n")
        sections.append(current)

    for line in text.split("\n"):
        heading = _HEADING_LINE.match(line)
        bold_q = _BOLD_QUESTION.match(line.strip())
        if heading or bold_q:
            if heading:
                level, name = len(heading.group(1)), plain(heading.group(2))
                heading_level = level
            else:
                level, name = heading_level + 1, plain(bold_q.group(1))  # type: ignore[union-attr]
            if level == 1 and not sections and not "".join(body).strip():
                body = []
                continue  # the title line
            close()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, name))
            path = " > ".join([title, *[n for _, n in stack]])
            current = Section(path, name, "", level)
            body = []
            continue
        body.append(line)
    close()
    return [s for s in sections if s.body.strip() or s.text]


def markdown_article(source: str, path: str, raw: str, mirror: Mirror) -> Article | None:
    meta, body = front_matter(raw)
    if meta.get("ms.topic", "").lower() == "include" or "redirect_url" in meta:
        return None
    body = resolve_includes(body, path, mirror)
    text = normalize_blocks(clean_markdown(body))
    first = re.search(r"^# (.+)$", text, re.M)
    title = plain(first.group(1)) if first else plain(clean_inline(meta.get("title", "")))
    if not title:
        return None
    return Article(source, path, title, split_sections(text, title))


def yaml_faq_article(source: str, path: str, raw: str, mirror: Mirror) -> Article | None:
    """An FAQ page (`### YamlMime:FAQ`): each question is a section whose body is its answer."""
    import yaml

    if not raw.lstrip().startswith("### YamlMime:FAQ"):
        return None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    title = plain(clean_inline(str(data.get("title", ""))))
    if not title:
        return None
    article = Article(source, path, title)
    for group in data.get("sections") or []:
        for qa in (group or {}).get("questions") or []:
            question = plain(clean_inline(resolve_includes(str(qa.get("question", "")), path, mirror)))
            answer = resolve_includes(str(qa.get("answer", "")), path, mirror)
            answer = normalize_blocks(clean_markdown(answer))
            if question and answer.strip():
                article.sections.append(Section(f"{title} > {question}", question, answer, 2))
    return article


# ---------------------------------------------------------------------------------------------
# Blocks of a section body (with character spans into it)


@dataclass
class Block:
    kind: str  # "para" | "list" | "table" | "code"
    start: int
    end: int
    lines: list[tuple[int, int]]


def body_blocks(body: str) -> list[Block]:
    spans, pos = [], 0
    for line in body.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + len(line.rstrip())))
        pos += len(line) + 1

    def kind_of(s: int, e: int) -> str:
        line = body[s:e]
        if line == CODE:
            return "code"
        if line.startswith("|"):
            return "table"
        if _LIST_MARK.match(line):
            return "list"
        return "para"

    blocks: list[Block] = []
    for s, e in spans:
        k = kind_of(s, e)
        if blocks and k in ("list", "table") and blocks[-1].kind == k:
            blocks[-1].end = e
            blocks[-1].lines.append((s, e))
        else:
            blocks.append(Block(k, s, e, [(s, e)]))
    return blocks


def aligned(body: str, start: int, end: int, context: str) -> bool:
    """The span is the only occurrence of its text in `body`, starts and ends on evidence-unit
    boundaries and holds at least one unit."""
    if body.find(body[start:end]) != start or body.find(body[start:end], start + 1) != -1:
        return False
    units = passage_units(body, context)
    inside = [u for u in units if start <= u.start and u.end <= end]
    crossing = [
        u for u in units if u.start < end and start < u.end and not (start <= u.start and u.end <= end)
    ]
    return bool(inside) and not crossing


# ---------------------------------------------------------------------------------------------
# Questions


def _word_set(text: str) -> set[str]:
    return set(text.split())


_STOP = _word_set(
    "a an the of to in on for and or is are be can do does how i my me you your what why when where "
    "which who with it its this that by as at from if not no i'm i've there their they we our will "
    "would should could was were has have had"
)
_VERBS = sorted(
    _word_set(
        "access activate add adjust allow apply approve archive assign attach authorize back block book "
        "build calculate cancel capture categorize change check choose clean clear close collect combine "
        "complete configure confirm connect consolidate convert copy correct count create customize "
        "deactivate define delegate delete deploy design designate disable disconnect display download "
        "duplicate edit "
        "email enable enter establish estimate exclude export extend fill filter find finish fix forward "
        "generate get give grant group hide identify implement import include increase insert install "
        "integrate invite invoice issue journalize keep link load locate lock log make manage map mark "
        "merge migrate modify monitor move open optimize pay perform personalize pick place plan post "
        "prepare prevent print process provision publish purchase put receive reconcile record recover "
        "reduce refresh register reinstall release remove rename renew reopen replace request reserve reset "
        "resolve restore restrict resume retrieve return reverse review revoke run save schedule search "
        "select send set settle share ship show sign sort specify split start stop submit subscribe suspend "
        "switch sync synchronize tag test track transfer troubleshoot turn undo uninstall unlink unlock "
        "update upgrade upload use validate verify view void work write"
    )
)
_DOUBLE = {"set", "run", "get", "plan", "map", "stop", "ship", "cancel", "log", "tag", "submit", "put"}
_NOUN_LIKE = {  # imperative forms that head noun phrases too often ("Transfer orders", "Change log")
    "access",
    "book",
    "build",
    "check",
    "count",
    "design",
    "email",
    "estimate",
    "filter",
    "group",
    "invoice",
    "issue",
    "log",
    "map",
    "mark",
    "pay",
    "plan",
    "post",
    "print",
    "process",
    "purchase",
    "record",
    "release",
    "request",
    "return",
    "review",
    "schedule",
    "search",
    "set",
    "ship",
    "sign",
    "sort",
    "start",
    "switch",
    "tag",
    "test",
    "track",
    "transfer",
    "turn",
    "undo",
    "update",
    "upgrade",
    "use",
    "view",
    "work",
    "write",
    "show",
    "display",
    "back",
    "get",
    "make",
    "keep",
    "give",
    "load",
    "lock",
    "link",
    "place",
    "put",
    "find",
    "copy",
    "split",
    "fix",
    "close",
    "complete",
    "forward",
    "increase",
    "reduce",
    "replace",
    "share",
}


def _gerund(verb: str) -> set[str]:
    forms = {verb + "ing"}
    if verb.endswith("e") and not verb.endswith("ee"):
        forms = {verb[:-1] + "ing"}
    if verb in _DOUBLE:
        forms = {verb + verb[-1] + "ing", verb + "ing"} if verb == "cancel" else {verb + verb[-1] + "ing"}
    return forms


_GERUNDS = {g: v for v in _VERBS for g in _gerund(v)}
_PARTICLE_VERBS: dict[str, tuple[str, ...]] = {
    "set": ("up",), "back": ("up",), "sign": ("in", "up", "out"), "turn": ("on", "off"),
    "log": ("in", "on", "off", "out"), "fill": ("in",), "clean": ("up",),
}  # fmt: skip


_NOUN_AFTER_GERUND = _word_set(
    "group groups date dates setup setups type types method methods rule rules option options agent agents "
    "address addresses list lists table tables template templates policy policies settings profile profiles "
    "preview period periods description details status information and or code codes account accounts "
    "overview considerations requirements limits process processes scenarios entries"
)
_ADJECTIVE_GERUNDS = {"shipping", "billing", "routing", "banking", "pending", "outstanding", "recurring"}


def _pronouns(text: str) -> str:
    text = re.sub(r"\byour\b", "my", text)
    text = re.sub(r"\bYour\b", "My", text)
    text = re.sub(r"\byourself\b", "myself", text)
    return text


def _rest_ok(rest: str) -> bool:
    return 1 <= len(rest.split()) <= 14 and not re.search(r"[:;()\[\]]|\?$", rest)


def howto_question(heading: str) -> str | None:
    """'To create a customer' / 'Creating a customer' / 'Create a customer' / 'How to create a
    customer' / 'Step 2: Create a customer' -> 'How do I create a customer?'; None when unsure."""
    h = re.sub(r"^(?:step|option|method|task|part)\s+\d+\s*[:.-]\s*", "", heading.strip(), flags=re.I)
    h = re.sub(r"\s*\((?:optional|recommended|preview|required)\)\s*$", "", h, flags=re.I).rstrip(". ")
    words = h.split()
    if len(words) < 2 or h.endswith("?"):
        return None
    first, rest_words = words[0].lower(), words[1:]
    if first == "to" and words[1].islower() and words[1].isalpha():
        verb, rest_words = words[1], words[2:]
        if verb not in _VERBS:
            return None
    elif first == "how" and len(words) > 2 and words[1].lower() == "to":
        verb, rest_words = words[2].lower(), words[3:]
        if verb not in _VERBS:
            return None
    elif first in _GERUNDS:
        if (rest_words and rest_words[0].lower() in _NOUN_AFTER_GERUND) or first in _ADJECTIVE_GERUNDS:
            return None  # "Posting groups", "Shipping agents": a noun phrase, not a task
        verb = _GERUNDS[first]
    elif first in _VERBS and first not in _NOUN_LIKE:
        verb = first
    elif rest_words and rest_words[0].lower() in _PARTICLE_VERBS.get(first, ()):
        verb = first  # "Set up ...", "Turn on ..."
    else:
        return None
    rest = " ".join(rest_words)
    if verb in _PARTICLE_VERBS and not rest_words:
        return None
    if not _rest_ok(rest) or (verb in _PARTICLE_VERBS and len(rest_words) < 2 and first != "to"):
        return None
    return _pronouns(f"How do I {verb} {rest}".strip()) + "?"


_QUESTION_PREFIX = re.compile(
    r"^(?:\d{1,2}[.)]\s+|step \d+\s*[:.-]\s*)?(?:(?:Q|Question)\s*\d*\s*[:.]\s*)?", re.I
)


def question_heading(text: str) -> str | None:
    q = re.sub(_QUESTION_PREFIX, "", text.strip())
    q = re.sub(r"\s+\?", "?", q)
    if not q.endswith("?") or len(q) < 12 or len(q) > 200 or len(q.split()) < 3:
        return None
    if q[0].islower() or len(q.split("?")) > 3 or _GENERIC_QUESTION.search(q):
        return None
    return q


_GENERIC_QUESTION = re.compile(
    r"^how do (?:you|i|we) know .*\bwork(?:ed|s)?\?$|need to know before|^(?:still )?need (?:more )?help|"
    r"^(?:any )?(?:more |other )?questions\?$|read more|^what does (?:this|that|it) mean\?$|^ready\b|"
    r"feedback|^what(?:'s| is) next\?$|^next steps?\?$",
    re.I,
)


_DESCRIPTIVE = {
    "description",
    "descriptions",
    "details",
    "detail",
    "purpose",
    "explanation",
    "meaning",
    "definition",
    "summary",
    "usage",
    "information",
    "what it does",
    "what it means",
    "used for",
    "function",
}
_YES_NO_COLUMNS = {
    "supported",
    "available",
    "required",
    "optional",
    "enabled",
    "included",
    "mandatory",
    "deprecated",
    "editable",
    "configurable",
    "recommended",
    "allowed",
    "blocked",
    "visible",
    "retained",
    "replicated",
}
_NOT_A_NOUN = {
    "after",
    "before",
    "when",
    "if",
    "for",
    "to",
    "in",
    "on",
    "with",
    "by",
    "from",
    "at",
    "is",
    "are",
    "can",
    "does",
    "do",
    "how",
    "what",
    "why",
    "which",
    "who",
    "where",
    "see",
    "go",
    "learn",
    "click",
    "select",
}
_SKIP_COLUMNS = {
    "notes",
    "note",
    "comments",
    "comment",
    "remarks",
    "more information",
    "learn more",
    "link",
    "links",
    "reference",
    "references",
    "see also",
    "see",
    "go to",
    "example",
    "examples",
    "sample",
    "use",
}
_NOUNS = {
    "field",
    "option",
    "setting",
    "property",
    "attribute",
    "parameter",
    "value",
    "column",
    "action",
    "role",
    "permission",
    "status",
    "type",
    "report",
    "page",
    "feature",
    "element",
    "policy",
    "event",
    "tab",
    "button",
    "code",
    "key",
    "term",
    "command",
    "cmdlet",
    "switch",
    "flag",
    "mode",
    "state",
    "menu",
    "control",
    "fasttab",
    "error",
    "template",
    "level",
    "method",
    "entry",
    "variable",
    "metric",
    "dimension",
    "permission set",
    "account",
    "field name",
    "setting name",
    "service",
    "task",
}
_YES_NO = {
    "yes", "no", "✓", "✔", "x", "supported", "not supported", "n/a", "available", "not available", "true",
    "false", "required", "optional",
}  # fmt: skip
_THIRD_PERSON = re.compile(
    r"^(?:Sets|Specifies|Enables|Disables|Determines|Shows|Allows|Controls|Defines|Indicates|Displays|"
    r"Lets|Provides|Creates|Removes|Adds|Contains|Lists|Opens|Turns|Configures|Returns|Identifies|"
    r"Stores|Prevents|Blocks|Sends|Deletes|Includes|Gives|Helps|Manages|Tracks|Calculates|Selects|"
    r"Links|Changes|Describes|Represents|Uses)\b"
)


def _lower_header(h: str) -> str:
    """Lowercase a header, keeping acronyms and CamelCase words."""
    keep = lambda w: (w.isupper() and len(w) > 1) or re.search(r"[A-Z].*[A-Z]|[a-z][A-Z]", w)  # noqa: E731
    return " ".join(w if keep(w) else w.lower() for w in h.split())


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _descriptive(header: str) -> bool:
    h = header.lower()
    return h in _DESCRIPTIVE or any(w in _DESCRIPTIVE for w in re.findall(r"[a-z]+", h)[:2])


def _row_noun(first_header: str) -> str | None:
    """'Field' / 'Fields' / 'Field name' / 'Setting Name' -> 'field' / 'setting'; None otherwise."""
    words = [_singular(w) for w in first_header.lower().split()]
    if len(words) == 1 and words[0] in _NOUNS:
        return words[0]
    if len(words) == 2 and words[1] == "name" and words[0] in _NOUNS:
        return words[0]
    return None


def row_question(first_header: str, header: str, key: str, cell: str) -> str | None:
    """A question a row answers, from its key (first cell) and the header of the cell asked for."""
    h0, hj = plain(first_header), plain(header).rstrip(".:… ")
    key, cell = plain(key).rstrip("*").strip(), plain(cell)
    if not hj or not key or ":" in key or len(key) > 80 or len(key.split()) > 10:
        return None
    if not re.match(r"[A-Za-z]", key):
        return None
    if len(hj) > 40 or hj.endswith("?") or not re.match(r"[A-Za-z]", hj) or hj.lower() in _SKIP_COLUMNS:
        return None
    hjl = _lower_header(hj)
    if _descriptive(hj):
        noun = _row_noun(h0)
        if noun:
            return f"What does the {key} {noun} mean?"
        if len(cell.split()) >= 4 and re.match(r"[A-Z]", cell):
            return f"What is {key}?"
        return None
    if cell.lower() in _YES_NO or len(cell) <= 2:
        return f"Is {key} {hjl}?" if hjl.lower() in _YES_NO_COLUMNS else None
    first_word = hj.split()[0].lower()
    if len(hj.split()) > 3 or hj.lower() in _STOP or first_word in _GERUNDS or first_word == "using":
        return None
    if first_word in _NOT_A_NOUN or hj.lower() in ("name", key.lower()) or len(key) < 3:
        return None
    noun = _row_noun(h0)
    if noun and hj.lower() in ("value", "values", "what to enter", "enter", "setting", "entry"):
        return f"What value should I enter for the {key} {noun}?"
    verb = "are" if re.search(r"[^su]s$", hjl.split()[-1]) else "is"
    return f"What {verb} the {hjl} for {key}?"


def spec_question(key: str, value: str) -> str | None:
    if not re.match(r"[A-Z]", key) or len(key.split()) > 6 or len(key) > 45:
        return None
    if _THIRD_PERSON.match(value):
        return f"What does {key} do?"
    if re.match(r"^(?:A|An|The)\s", value):
        return f"What is {key}?"
    return None


# ---------------------------------------------------------------------------------------------
# Examples


@dataclass
class Example:
    kind: str
    article: Article
    section: int
    question: str
    start: int
    end: int
    table: str = ""  # which table a row comes from (for the per-table cap)

    @property
    def positive(self) -> str:
        return self.article.sections[self.section].body[self.start : self.end]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9][a-z0-9'-]+", text.lower()) if w not in _STOP}


def _first_answer(body: str, blocks: list[Block]) -> tuple[int, int] | None:
    """The first paragraph or list (a lead-in with its list; a very short first paragraph joined
    to what follows it)."""
    if not blocks or blocks[0].kind not in ("para", "list"):
        return None
    i = 0
    start, end = blocks[0].start, blocks[0].end
    while True:
        b = blocks[i]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if b.kind == "para" and body[b.start : b.end].endswith(":") and nxt and nxt.kind == "list":
            end = nxt.end
            i += 1
            b = nxt
            nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if b.kind == "para" and len(body[start:end].split()) < 6 and nxt and nxt.kind in ("para", "list"):
            end = nxt.end
            i += 1
            continue
        return start, end


def _numbered_list(body: str, blocks: list[Block]) -> tuple[int, int] | None:
    for i, b in enumerate(blocks):
        if b.kind != "list" or not re.match(r"^\s*1[.)]\s", body[b.start : b.end]):
            continue
        top = [s for s, e in b.lines if _NUMBERED.match(body[s:e]) and body[s] != " "]
        if len(top) < 2:
            return None
        prev = blocks[i - 1] if i else None
        if prev and prev.kind == "para" and body[prev.start : prev.end].endswith(":"):
            return prev.start, b.end
        return b.start, b.end
    return None


def candidates(article: Article, boilerplate: set[str]) -> list[Example]:
    found: list[Example] = []
    for si, section in enumerate(article.sections):
        if not section.usable or (si == 0 and not section.text):
            continue
        body = section.body
        blocks = body_blocks(body)
        context = section.heading
        q = question_heading(section.text)
        if q and section.text.lower() not in boilerplate:
            span = _first_answer(body, blocks)
            if span and aligned(body, *span, context):
                found.append(Example("question", article, si, q, *span))
            continue
        hq = howto_question(section.text)
        if hq:
            span = _numbered_list(body, blocks)
            if span and aligned(body, *span, context):
                found.append(Example("howto", article, si, hq, *span))
        for ti, b in enumerate(blocks):
            if b.kind == "table":
                found.extend(_table_rows(article, si, body, b, f"{si}:{ti}"))
            elif b.kind == "list":
                found.extend(_spec_lines(article, si, body, b, f"{si}:{ti}"))
    return found


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _table_rows(article: Article, si: int, body: str, block: Block, table_id: str) -> list[Example]:
    rows = [body[s:e] for s, e in block.lines]
    if len(rows) < 4 or not _TABLE_RULE.match(rows[1]) or "\\|" in body[block.start : block.end]:
        return []
    header = _cells(rows[0])
    if len(header) < 2 or not all(plain(h) for h in header[:2]):
        return []
    out = []
    for (s, e), row in zip(block.lines[2:], rows[2:], strict=True):
        cells = _cells(row)
        if len(cells) != len(header):
            continue
        key = plain(cells[0])
        columns = [j for j in range(1, len(header)) if plain(header[j]) and plain(cells[j])]
        if not columns:
            continue
        j = columns[0] if len(columns) == 1 or plain(header[columns[0]]).lower() in _DESCRIPTIVE else columns[
            (len(key) + len(table_id)) % len(columns)]  # fmt: skip
        q = row_question(header[0], header[j], key, cells[j])
        if q and aligned(body, s, e, article.sections[si].heading):
            out.append(Example("table", article, si, q, s, e, table_id))
    return out


_SPEC_LINE = re.compile(
    r"^\s*[-*]\s+\*\*([^*\n]{2,45}?)\*\*\s*:\s+(\S.{10,})$|^\s*[-*]\s+\*\*([^*\n]{2,45}?):\*\*\s+(\S.{10,})$"
)


def _spec_lines(article: Article, si: int, body: str, block: Block, list_id: str) -> list[Example]:
    out = []
    for s, e in block.lines:
        m = _SPEC_LINE.match(body[s:e])
        if not m:
            continue
        key, value = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        q = spec_question(plain(key).rstrip(":"), plain(value))
        if q and aligned(body, s, e, article.sections[si].heading):
            out.append(Example("table", article, si, q, s, e, list_id))
    return out


def hard_negatives(example: Example) -> list[Section] | None:
    article = example.article
    own = article.sections[example.section]
    q = _words(example.question)
    scored = []
    for i, s in enumerate(article.sections):
        if i == example.section or not s.usable or example.positive in s.body or s.body == own.body:
            continue
        if own.text and s.text.lower().startswith(own.text.lower()):
            continue  # "X (Text version)" and the like
        words, own_words = _words(s.body), _words(own.body)
        if len(words & own_words) > 0.7 * max(1, len(words | own_words)):
            continue  # a near-copy of the section that answers
        overlap = len(q & _words(f"{s.text} {s.body}"))
        scored.append((-overlap, i, s))
    scored.sort(key=lambda t: (t[0], t[1]))
    if len(scored) < NEGATIVES:
        return None
    return [s for _, _, s in scored[:NEGATIVES]]


# ---------------------------------------------------------------------------------------------
# Paraphrases


def paraphrase(question: str, kind: str, rng: random.Random) -> str:
    """A deterministic rewrite so that questions are not always a heading verbatim."""
    m = re.match(r"^How do I (.+)\?$", question)
    if m:
        x = m.group(1)
        return rng.choice([
            f"How can I {x}?", f"What are the steps to {x}?", f"I'm trying to {x}; how do I do that?",
            f"I need to {x}. What should I do?", f"Can you walk me through how to {x}?", f"How would I {x}?",
        ])  # fmt: skip
    m = re.match(r"^What (is|are) the (.+) for (.+)\?$", question)
    if m:
        verb, col, key = m.group(1), m.group(2), m.group(3)
        short = "What's" if verb == "is" else "What are"
        return rng.choice([
            f"Can you tell me the {col} for {key}?", f"{short} the {col} for {key}?",
            f"For {key}, what {verb} the {col}?", f"I'd like to know the {col} for {key}.",
        ])  # fmt: skip
    m = re.match(r"^What does the (.+) mean\?$", question)
    if m:
        x = m.group(1)
        return rng.choice([f"What is the {x} for?", f"Can you explain the {x}?", f"What's the {x} used for?"])
    m = re.match(r"^What does (.+) do\?$", question)
    if m:
        return rng.choice([f"What is {m.group(1)} for?", f"Can you explain what {m.group(1)} does?"])
    m = re.match(r"^What is (.+)\?$", question)
    if m:
        x = m.group(1)
        return rng.choice([f"Can you tell me what {x} is?", f"What's {x}?", f"Could you explain {x}?"])
    m = re.match(r"^Can I (.+)\?$", question)
    if m:
        return rng.choice([f"Is it possible to {m.group(1)}?", f"Am I able to {m.group(1)}?"])
    m = re.match(r"^Is it possible to (.+)\?$", question)
    if m:
        return f"Can I {m.group(1)}?"
    m = re.match(r"^How (?:can|do) I (.+)\?$", question)
    if m:
        return rng.choice([f"What's the way to {m.group(1)}?", f"I'm trying to {m.group(1)}; how?"])
    keep_case = re.match(r"^[A-Z]{2}|^I\b|^[A-Z][a-z]*[A-Z]", question)
    lower = question if keep_case else question[0].lower() + question[1:]
    return rng.choice(
        [f"Quick question: {lower}", f"I was wondering, {lower}", f"Hi, {lower}", f"{question} Thanks!"]
    )


# ---------------------------------------------------------------------------------------------


def load_articles(mirrors: Path) -> tuple[list[Article], dict[str, str]]:
    articles: list[Article] = []
    commits = {}
    for source in SOURCES:
        git_dir = mirrors / source.repo.replace("/", "+") / "repo"
        if not git_dir.is_dir():
            sys.exit(f"error: no mirror of {source.repo} at {git_dir} (fetch github:{source.repo})")
        mirror = Mirror(git_dir, source.commit)
        commits[source.repo] = source.commit
        n = 0
        for path in sorted(mirror.blobs):
            if not path.endswith((".md", ".yml")) or not path.startswith(source.include):
                continue
            if any(x in path for x in (*_COMMON_EXCLUDE, *source.exclude)):
                continue
            if path.rsplit("/", 1)[-1].lower() == "toc.yml":
                continue
            raw = mirror.read(path) or ""
            if path.endswith(".yml"):
                article = yaml_faq_article(source.repo, path, raw, mirror)
            else:
                article = markdown_article(source.repo, path, raw, mirror)
            if article and len(article.sections) >= NEGATIVES + 1:
                articles.append(article)
                n += 1
        mirror.close()
        print(f"{source.repo}: {n} articles", file=sys.stderr)
    return articles, commits


def _record(ex: Example, negatives: list[Section], seed: int) -> dict:
    section = ex.article.sections[ex.section]
    rng = random.Random(f"{seed}:{ex.article.source}:{ex.article.doc}:{ex.question}")  # str seeds are stable
    question, rewritten = ex.question, False
    if rng.random() < PARAPHRASED:
        question, rewritten = paraphrase(ex.question, ex.kind, rng), True
    return {
        "source": ex.article.source,
        "doc": ex.article.doc,
        "kind": ex.kind,
        "question": question,
        "paraphrase": rewritten,
        "title": ex.article.title,
        "heading": section.heading,
        "section": section.body,
        "positive": ex.positive,
        "negatives": [{"section": n.body, "heading": n.heading} for n in negatives],
    }


def _size(record: dict) -> int:
    return len(json.dumps(record, ensure_ascii=False).encode("utf-8")) + 1


def build(articles: list[Article], per_kind: int, max_bytes: int, seed: int) -> list[dict]:
    """Candidates of every kind, shuffled with random.Random(seed), taken in turn (question, howto,
    table, question, ...) under the per-article and per-table caps until `per_kind` of a kind or
    `max_bytes` of output is reached; written in document order."""
    heading_articles: dict[str, set[str]] = defaultdict(set)
    for a in articles:
        for s in a.sections:
            heading_articles[s.text.lower()].add(f"{a.source}/{a.doc}")
    boilerplate = {h for h, docs in heading_articles.items() if len(docs) >= BOILERPLATE_DOCS}

    by_kind: dict[str, list[Example]] = defaultdict(list)
    question_docs: dict[str, set[str]] = defaultdict(set)
    for a in articles:
        for ex in candidates(a, boilerplate):
            by_kind[ex.kind].append(ex)
            question_docs[ex.question.lower()].add(f"{a.source}/{a.doc}")
    for kind in by_kind:  # a question asked of many articles (shared setup steps, version tables)
        by_kind[kind] = [
            e for e in by_kind[kind] if len(question_docs[e.question.lower()]) < BOILERPLATE_DOCS
        ]
    print("candidates: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(by_kind.items())), file=sys.stderr)

    rng = random.Random(seed)
    for kind in sorted(by_kind):
        rng.shuffle(by_kind[kind])
    per_article: Counter[str] = Counter()
    per_table: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    at: Counter[str] = Counter()

    def next_eligible(kind: str) -> tuple[Example, dict] | None:
        pool = by_kind[kind]
        while at[kind] < len(pool):
            ex = pool[at[kind]]
            at[kind] += 1
            doc = f"{ex.article.source}/{ex.article.doc}"
            if per_article[doc] >= PER_ARTICLE or (ex.question.lower(), ex.positive) in seen:
                continue
            if ex.table and per_table[f"{doc}#{ex.table}"] >= PER_TABLE:
                continue
            negatives = hard_negatives(ex)
            if negatives is not None:
                return ex, _record(ex, negatives, seed)
        return None

    taken: Counter[str] = Counter()
    chosen: list[tuple[Example, dict]] = []
    total, full, active = 0, False, True
    while active and not full:
        active = False
        for kind in KINDS:
            if taken[kind] >= per_kind:
                continue
            found = next_eligible(kind)
            if found is None:
                continue
            active = True
            ex, record = found
            if total + _size(record) > max_bytes:
                full = True
                break
            doc = f"{ex.article.source}/{ex.article.doc}"
            per_article[doc] += 1
            per_table[f"{doc}#{ex.table}"] += 1
            seen.add((ex.question.lower(), ex.positive))
            taken[kind] += 1
            total += _size(record)
            chosen.append(found)
    chosen.sort(
        key=lambda t: (t[0].article.source, t[0].article.doc, t[0].section, t[0].start, t[0].question)
    )
    return [record for _, record in chosen]


def validate(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            r = json.loads(line)
            for key in ("source", "doc", "kind", "question", "title", "heading", "section", "positive"):
                assert isinstance(r[key], str) and r[key].strip(), f"line {n}: empty {key}"
            assert r["positive"] in r["section"], f"line {n}: positive not in section"
            assert len(r["section"]) <= MAX_SECTION_CHARS, f"line {n}: section too long"
            assert CODE not in r["section"], f"line {n}: code marker"
            assert len(r["negatives"]) == NEGATIVES, f"line {n}: negatives"
            for neg in r["negatives"]:
                assert neg["section"].strip() and neg["heading"].strip(), f"line {n}: empty negative"
                assert r["positive"] not in neg["section"], f"line {n}: positive in a negative"
            start = r["section"].index(r["positive"])
            end = start + len(r["positive"])
            assert aligned(r["section"], start, end, r["heading"]), f"line {n}: unaligned"
            counts[r["kind"]] += 1
            counts["paraphrase"] += bool(r["paraphrase"])
            counts["lines"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mirrors", type=Path, default=Path("/work/.mirror"), help="folder of <owner>+<name>/repo mirrors"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--per-kind", type=int, default=2000, help="examples per kind at most")
    parser.add_argument("--max-mb", type=float, default=3.0, help="output size at most (MB, 1e6 bytes)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="only validate --out")
    args = parser.parse_args()
    if not args.check:
        articles, _ = load_articles(args.mirrors)
        records = build(articles, args.per_kind, int(args.max_mb * 1e6), args.seed)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = validate(args.out)
    sources = Counter(json.loads(line)["source"] for line in args.out.open(encoding="utf-8"))
    print(f"{args.out}: {counts['lines']} examples, {args.out.stat().st_size / 1e6:.2f} MB; "
          f"question {counts['question']}, howto {counts['howto']}, table {counts['table']}; "
          f"paraphrased {counts['paraphrase']}")  # fmt: skip
    for s, n in sources.most_common():
        print(f"  {s}: {n}")


if __name__ == "__main__":
    main()
