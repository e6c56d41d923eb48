"""Read an evaluation question set (JSONL): one question per line, bad lines reported and skipped.

Each line is an object with `question` (or `text`) and optionally `id`, `answerable` (default
true), `expected_docs` (document ids), `reference` / `references` / `reference_answer` (answers to
score against), `key_facts` (what a right answer must state: a list of facts, each a list of
accepted wordings, e.g. `[["EUR 25", "25 euros"]]`) and `expected_route` (an action such as
"answer" or "handoff:safety", or a label), and `history` (the conversation's earlier user turns,
oldest first: the question is asked as a follow-up). A line with `turns` instead is a whole
conversation (`examples/demo-kb/conversations.jsonl`): each turn (`user`, `expected_docs`,
`expected_action`) becomes a case asked with the turns before it as its history, id `<id>.t<n>`.

>>> from pathlib import Path
>>> questions = load_questions(Path("examples/demo-kb/questions.jsonl"))  # doctest: +SKIP
>>> questions.items[0].id, questions.problems  # doctest: +SKIP
('q001', [])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tandem.errors import InputError

QUESTION_KEYS = ("question", "text")
REFERENCE_KEYS = ("reference", "references", "reference_answer", "reference_answers", "answers")
KNOWN_KEYS = {"id", "_id", "answerable", "expected_docs", "expected_route", "key_facts", "history"}
KNOWN_KEYS |= {*QUESTION_KEYS, *REFERENCE_KEYS}


@dataclass(frozen=True)
class EvalQuestion:
    """One question to ask, with what a good answer looks like."""

    id: str
    question: str
    line: int
    answerable: bool = True
    expected_docs: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    expected_route: str | None = None
    key_facts: tuple[tuple[str, ...], ...] = ()  # each fact: its accepted wordings
    history: tuple[str, ...] = ()  # earlier user turns of its conversation, oldest first
    extra: dict = field(default_factory=dict)


@dataclass
class QuestionSet:
    """The questions that could be read, and a line-numbered message for each problem."""

    path: Path
    items: list[EvalQuestion]
    problems: list[str]


class _BadLine(Exception):
    pass


def _strings(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("text"), str):  # SQuAD {"text": ...}
                item = item["text"]
            if not isinstance(item, str):
                raise _BadLine(f"`{key}` must be a string or a list of strings, found {item!r}")
            if item.strip():
                out.append(item)
        return tuple(out)
    raise _BadLine(f"`{key}` must be a string or a list of strings, not {type(value).__name__}")


def _key_facts(value: object) -> tuple[tuple[str, ...], ...]:
    """`key_facts`: a list of facts, each a string or a list of accepted wordings."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _BadLine(f'"key_facts" must be a list (of strings or lists of strings), not {value!r}')
    facts = tuple(_strings(fact, "key_facts") for fact in value)
    return tuple(fact for fact in facts if fact)


def _parse(row: object, line: int) -> tuple[EvalQuestion, str | None]:
    if not isinstance(row, dict):
        raise _BadLine(f"expected a JSON object, found {type(row).__name__}")
    question = next((row[k] for k in QUESTION_KEYS if k in row), None)
    if not isinstance(question, str) or not question.strip():
        raise _BadLine('no question: give a non-empty "question" string')
    answerable = row.get("answerable", True)
    if not isinstance(answerable, bool):
        raise _BadLine(f'"answerable" must be true or false, not {answerable!r}')
    route = row.get("expected_route")
    if route is not None and (not isinstance(route, str) or not route.strip()):
        raise _BadLine(f'"expected_route" must be a non-empty string, not {route!r}')
    references: tuple[str, ...] = ()
    for key in REFERENCE_KEYS:
        references += _strings(row.get(key), key)
    raw_id = row.get("id", row.get("_id"))
    warning = None
    if raw_id is None or not str(raw_id).strip():
        raw_id = f"line-{line}"
        warning = f"line {line}: no id; using {raw_id!r} (give each question an id to compare runs)"
    item = EvalQuestion(
        id=str(raw_id),
        question=question.strip(),
        line=line,
        answerable=answerable,
        expected_docs=tuple(dict.fromkeys(_strings(row.get("expected_docs"), "expected_docs"))),
        references=tuple(dict.fromkeys(references)),
        expected_route=route.strip() if route else None,
        key_facts=_key_facts(row.get("key_facts")),
        history=_strings(row.get("history"), "history"),
        extra={k: v for k, v in row.items() if k not in KNOWN_KEYS},
    )
    return item, warning


def _parse_line(row: object, line: int) -> list[tuple[EvalQuestion, str | None]]:
    """One question, or every turn of a conversation (a line with `turns`)."""
    if not isinstance(row, dict) or "turns" not in row:
        return [_parse(row, line)]
    turns = row["turns"]
    if not isinstance(turns, list) or not turns or not all(isinstance(t, dict) for t in turns):
        raise _BadLine('"turns" must be a non-empty list of objects with a "user" message')
    name = str(row.get("id") or f"line-{line}")
    cases = []
    for number, turn in enumerate(turns, start=1):
        case = {
            "id": f"{name}.t{number}",
            "question": turn.get("user"),
            "expected_docs": turn.get("expected_docs"),
            "history": [t.get("user") or "" for t in turns[: number - 1]],
            **({"expected_route": turn["expected_action"]} if turn.get("expected_action") else {}),
        }
        cases.append(_parse(case, line))
    return cases


def load_questions(path: Path, limit: int | None = None) -> QuestionSet:
    """Every readable question of a JSONL file, in file order (the first `limit` when given)."""
    if not path.is_file():
        raise InputError(f"question file {path} does not exist (one JSON object per line)")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"question file {path} is not UTF-8 text") from None
    items: list[EvalQuestion] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed = _parse_line(json.loads(line), number)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno}); skipped")
            continue
        except _BadLine as exc:
            problems.append(f"line {number}: {exc}; skipped")
            continue
        for item, warning in parsed:
            if warning:
                problems.append(warning)
            if item.id in seen:
                renamed = f"{item.id}@line{number}"
                problems.append(f"line {number}: id {item.id!r} is used twice; this one is {renamed!r}")
                item = EvalQuestion(**{**item.__dict__, "id": renamed})
            seen.add(item.id)
            items.append(item)
        if limit is not None and len(items) >= limit:
            items = items[:limit]
            break
    if not items:
        detail = f" ({len(problems)} bad lines, first: {problems[0]})" if problems else ""
        raise InputError(f"question file {path} holds no usable questions{detail}")
    return QuestionSet(path, items, problems)


def unknown_documents(questions: list[EvalQuestion], known: set[str]) -> dict[str, tuple[str, ...]]:
    """question id -> the expected document ids that the index does not hold."""
    missing = {}
    for q in questions:
        unknown = tuple(d for d in q.expected_docs if d not in known)
        if unknown:
            missing[q.id] = unknown
    return missing


def unknown_document_warnings(
    questions: list[EvalQuestion], known: set[str], index: str, shown: int = 10
) -> list[str]:
    """One clear line per question whose expectations name documents missing from the index."""
    missing = unknown_documents(questions, known)
    by_id = {q.id: q for q in questions}
    sample = sorted(known)[:2]
    hint = f" (ids in this index look like {', '.join(repr(s) for s in sample)})" if sample else ""
    lines = [
        f"line {by_id[qid].line} ({qid}): expected document(s) {', '.join(repr(d) for d in docs)} "
        f"not in the index {index}; left out of its retrieval metrics{hint}"
        for qid, docs in list(missing.items())[:shown]
    ]
    if len(missing) > shown:
        lines.append(f"... and {len(missing) - shown} more questions expect documents the index lacks")
    return lines
