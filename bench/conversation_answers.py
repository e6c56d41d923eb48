"""Answers to the turns of demo conversations, judged by what they say.

    python bench/conversation_answers.py [--conversations FILE] [--split dev|...|blind10|all] [--out FILE]

Every turn of every conversation is asked through the real answer flow over the demo knowledge base
(the selector, quotes, no router: routing is `bench/handoff.py`'s), three ways: alone (what Tandem
did before conversations); with the earlier user turns as history (as a stateless OpenAI client
sends them) and `follow_up_as_asked` off (the resolved question only, as before); and as shipped (a
follow-up whose resolved form finds no answer is read again as asked). Per follow-up and standalone
turn, prints the share of answerable turns answered right (every key fact stated and an expected
document cited; in sets without key facts, an expected document cited), the share abstained, the
precision of the answered ones, and the share of turns the documents do not answer that abstained.
Writes JSON (default bench/results/conversation_answers.json).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from conversations import add_set_arguments, demo_tandem, load_conversations
from tandem.answer import Answer
from tandem.evaluate.metrics import answer_correct
from tandem.pipeline import Tandem
from tandem.verify.support import strip_citation_marks

ROOT = Path(__file__).resolve().parents[1]


def judged(answer: Answer, turn: dict) -> dict:
    """One answer against the turn's expectations."""
    cited = sorted({c.doc_id for c in answer.citations})
    expected = turn.get("expected_docs") or []
    right = None
    if turn["expected_action"] == "answer" and expected:
        facts = turn.get("key_facts") or []
        text = strip_citation_marks(answer.text)[0]
        right = (
            answer_correct(text, answer.abstained, cited, expected, facts)
            if facts
            else not answer.abstained and bool(set(cited) & set(expected))
        )
    return {"mode": answer.mode, "abstained": answer.abstained, "right": right, "cited": cited,
            "text": answer.text[:300], "resolved": answer.diagnostics.get("resolved_question")}  # fmt: skip


def summary(rows: list[dict], key: str) -> dict:
    """Answered right, abstained and precision over answerable turns; abstained over unanswerable."""
    answerable = [r for r in rows if r[key]["right"] is not None]
    unanswerable = [r for r in rows if r["expected_action"] == "abstain"]
    answered = [r for r in answerable if not r[key]["abstained"]]

    def share(part: list[dict], total: list[dict]) -> float | None:
        return round(len(part) / len(total), 3) if total else None

    right = [r for r in answered if r[key]["right"]]
    return {
        "answerable": len(answerable),
        "right": share(right, answerable),
        "abstained": share([r for r in answerable if r[key]["abstained"]], answerable),
        "precision": share(right, answered),
        "unanswerable": len(unanswerable),
        "unanswerable_abstained": share([r for r in unanswerable if r[key]["abstained"]], unanswerable),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_set_arguments(parser)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "conversation_answers.json")
    args = parser.parse_args()

    conversations = load_conversations(args)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        bot = demo_tandem(args.kb, Path(scratch))
        no_second_look = bot.settings.model_copy(update={"follow_up_as_asked": False})
        plain = Tandem(bot.settings.index_dir, no_second_look, encoder=bot.encoder)
        for conversation in conversations:
            history: list[str] = []
            for turn in conversation["turns"]:
                if turn["expected_action"] in ("answer", "abstain"):
                    rows.append(
                        {
                            "conversation": conversation["id"],
                            "turn": turn["user"],
                            "follow_up": bool(turn.get("follow_up")),
                            "expected_action": turn["expected_action"],
                            "key_facts": bool(turn.get("key_facts")),
                            "conversation_flow": judged(bot.ask(turn["user"], history=list(history)), turn),
                            "resolved_only": judged(plain.ask(turn["user"], history=list(history)), turn),
                            "alone": judged(bot.ask(turn["user"]), turn),
                        }
                    )
                history.append(turn["user"])
    groups = {
        "follow_up": [r for r in rows if r["follow_up"]],
        "standalone": [r for r in rows if not r["follow_up"]],
    }
    figures = {
        group: {key: summary(part, key) for key in ("alone", "resolved_only", "conversation_flow")}
        for group, part in groups.items()
    }
    judged_by = (
        "key facts" if all(r["key_facts"] for r in rows if r["expected_action"] == "answer") else "documents"
    )
    result = {"date": time.strftime("%Y-%m-%d"), "split": args.split, "judged_by": judged_by,
              "figures": figures, "rows": rows}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{args.split}: answers judged by {judged_by}")
    print(f"{'turns':<11} {'asked':<18} {'answerable':>10} {'right':>6} {'abstained':>9} {'precision':>9} "
          f"{'unanswerable':>12} {'abstained':>9}")  # fmt: skip
    for group, by_key in figures.items():
        for key, f in by_key.items():
            print(
                f"{group:<11} {key:<18} {f['answerable']:>10} {f['right']!s:>6} {f['abstained']!s:>9} "
                f"{f['precision']!s:>9} {f['unanswerable']:>12} {f['unanswerable_abstained']!s:>9}"
            )


if __name__ == "__main__":
    main()
