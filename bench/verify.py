"""Output verification: how many planted unsupported sentences the verifier catches.

    python bench/verify.py [--out bench/results/verify.json]

For each answerable demo question, the top retrieved passage stands in for what the generator was
shown. Drafts are then checked sentence by sentence with Tandem's DraftVerifier (default settings):
- supported: sentences copied from that passage (should be kept),
- off-topic: a sentence from another document of the knowledge base (should be dropped),
- wrong number: a passage sentence with one number changed (should be dropped).
Prints the share caught (dropped) per kind and writes JSON. Not a test.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from pathlib import Path

from tandem.config import Settings
from tandem.documents.text_utils import split_sentences
from tandem.pipeline import Tandem
from tandem.verify.draft import DraftVerifier
from tandem.verify.support import SupportJudge

ROOT = Path(__file__).resolve().parents[1]
KB = ROOT / "examples" / "demo-kb"
NUMBER = re.compile(r"\d+")


def usable(sentences: list[str]) -> list[str]:
    return [s for s in sentences if 30 <= len(s) <= 300 and not s.startswith(("Q:", "#"))]


def change_a_number(sentence: str, rng: random.Random) -> str | None:
    numbers = list(NUMBER.finditer(sentence))
    if not numbers:
        return None
    picked = rng.choice(numbers)
    value = int(picked.group())
    return sentence[: picked.start()] + str(value * 3 + 7) + sentence[picked.end() :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "verify.json")
    args = parser.parse_args()
    rng = random.Random(0)
    lines = (KB / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    answerable = [q for q in questions if q.get("expected_docs")]
    with tempfile.TemporaryDirectory() as scratch:
        bot = Tandem(Path(scratch) / "index", Settings.load(None))
        bot.ingest([KB / "docs"])
        chunks = [p.chunk for p in bot.search("bike battery app order refund warranty", k=100)]
        counts = {kind: {"checked": 0, "dropped": 0} for kind in ("supported", "off_topic", "wrong_number")}
        started = time.perf_counter()
        for item in answerable:
            result = bot.retriever().search(item["question"], 5)
            top = result.passages[0]
            prepared = SupportJudge(bot.encoder).prepare([top.chunk.text])
            verifier = DraftVerifier(
                item["question"], result.query_vector, prepared, result.passages, bot.encoder, bot.settings
            )
            own = usable(split_sentences(top.chunk.text))
            others = [c for c in chunks if c.doc_id != top.chunk.doc_id]
            foreign = usable(split_sentences(rng.choice(others).text)) if others else []
            cases = [("supported", s) for s in own[:2]]
            cases += [("off_topic", s) for s in foreign[:1]]
            changed = next((c for s in own if (c := change_a_number(s, rng))), None)
            if changed:
                cases.append(("wrong_number", changed))
            for kind, sentence in cases:
                counts[kind]["checked"] += 1
                counts[kind]["dropped"] += verifier.check(sentence) is None
        seconds = time.perf_counter() - started
    results = {
        kind: {**c, "share_dropped": round(c["dropped"] / c["checked"], 4) if c["checked"] else None}
        for kind, c in counts.items()
    }
    planted = [counts["off_topic"], counts["wrong_number"]]
    caught = sum(c["dropped"] for c in planted) / max(sum(c["checked"] for c in planted), 1)
    summary = {
        "questions": len(answerable),
        "kinds": results,
        "planted_caught": round(caught, 4),
        "supported_kept": round(1 - results["supported"]["share_dropped"], 4),
        "ms_per_sentence": round(1000 * seconds / max(sum(c["checked"] for c in counts.values()), 1), 2),
        "date": time.strftime("%Y-%m-%d"),
    }
    for kind, r in results.items():
        print(f"{kind:<13} checked {r['checked']:>4}  dropped {r['dropped']:>4}  share {r['share_dropped']}")
    print(f"planted unsupported caught: {summary['planted_caught']:.3f}; "
          f"supported kept: {summary['supported_kept']:.3f}")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
