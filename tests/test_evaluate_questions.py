"""Reading question sets: bad lines are reported with their line numbers and skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tandem.errors import InputError
from tandem.evaluate.questions import load_questions, unknown_document_warnings

LINES = [
    json.dumps(
        {"id": "q1", "question": "How long do refunds take?", "expected_docs": ["billing/refunds.md"]}
    ),
    '{"id": "q2", "question": "broken',
    json.dumps({"question": "Who won the Tour de France?", "answerable": False}),
    json.dumps([1, 2]),
    json.dumps({"id": "q5"}),
    json.dumps({"id": "q1", "question": "Same id again?"}),
    json.dumps({"id": "q7", "question": "Bad flag", "answerable": "yes"}),
    "",
    json.dumps(
        {
            "id": "q9",
            "question": " Is my bike covered? ",
            "references": ["Yes", "It is"],
            "reference_answer": "Yes",
            "expected_docs": "policies/warranty.md",
            "expected_route": "handoff:safety",
            "intent": "coverage",
        }
    ),
    json.dumps({"_id": "s1", "text": "Which NFL team won?", "answers": [{"text": "Denver Broncos"}]}),
]


@pytest.fixture
def question_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(LINES) + "\n")
    return path


def test_bad_lines_are_reported_with_line_numbers_and_skipped(question_file: Path) -> None:
    questions = load_questions(question_file)
    assert [q.id for q in questions.items] == ["q1", "line-3", "q1@line6", "q9", "s1"]
    problems = "\n".join(questions.problems)
    assert "line 2: not valid JSON" in problems
    assert "line 3: no id; using 'line-3'" in problems
    assert "line 4: expected a JSON object, found list; skipped" in problems
    assert 'line 5: no question: give a non-empty "question" string; skipped' in problems
    assert "line 6: id 'q1' is used twice" in problems
    assert 'line 7: "answerable" must be true or false' in problems
    assert len(questions.problems) == 6


def test_fields_and_defaults(question_file: Path) -> None:
    items = {q.id: q for q in load_questions(question_file).items}
    assert items["q1"].answerable and items["q1"].expected_docs == ("billing/refunds.md",)
    assert not items["line-3"].answerable and items["line-3"].line == 3
    q9 = items["q9"]
    assert q9.question == "Is my bike covered?" and q9.references == ("Yes", "It is")
    assert q9.expected_docs == ("policies/warranty.md",) and q9.expected_route == "handoff:safety"
    assert q9.extra == {"intent": "coverage"}
    assert items["s1"].question == "Which NFL team won?" and items["s1"].references == ("Denver Broncos",)
    assert [q.id for q in load_questions(question_file, limit=2).items] == ["q1", "line-3"]


def test_unknown_expected_documents_are_named(question_file: Path) -> None:
    questions = load_questions(question_file).items
    warnings = unknown_document_warnings(questions, {"billing/refunds.md"}, "kb-index")
    assert len(warnings) == 1
    assert "line 9 (q9): expected document(s) 'policies/warranty.md' not in the index kb-index" in warnings[0]
    assert "'billing/refunds.md'" in warnings[0]  # shows what ids look like


def test_unusable_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_questions(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n[]\n")
    with pytest.raises(InputError, match=r"no usable questions \(2 bad lines, first: line 1"):
        load_questions(bad)


def test_a_conversation_line_is_one_case_per_turn_with_the_turns_before_it(tmp_path: Path) -> None:
    conversation = {
        "id": "c1",
        "turns": [
            {
                "user": "How much does the Trail T5 cost?",
                "expected_docs": ["a.md"],
                "expected_action": "answer",
            },
            {"user": "And the Fold F1?", "expected_docs": ["b.md"]},
            {"user": "can I talk to a person", "expected_action": "handoff"},
        ],
    }
    path = tmp_path / "conversations.jsonl"
    path.write_text(json.dumps(conversation) + "\n" + json.dumps({"id": "c2", "turns": "nope"}) + "\n")
    loaded = load_questions(path)
    assert [q.id for q in loaded.items] == ["c1.t1", "c1.t2", "c1.t3"]
    assert loaded.items[1].history == ("How much does the Trail T5 cost?",)
    assert loaded.items[1].expected_docs == ("b.md",) and loaded.items[2].expected_route == "handoff"
    assert loaded.items[2].history == ("How much does the Trail T5 cost?", "And the Fold F1?")
    assert loaded.problems == [
        'line 2: "turns" must be a non-empty list of objects with a "user" message; skipped'
    ]


def test_the_demo_conversations_load_as_cases() -> None:
    from .conftest import REPO

    loaded = load_questions(REPO / "examples" / "demo-kb" / "conversations.jsonl")
    assert not loaded.problems and len(loaded.items) > 100
    assert sum(bool(q.history) for q in loaded.items) == len(loaded.items) - 52  # all but each first turn
