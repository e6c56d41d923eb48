"""Labelled messages from CSV/JSONL files, checked, and split into train and validation sets."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tandem.errors import InputError

MAX_TEXT_CHARS = 2000


@dataclass
class LabelledData:
    """Texts with their labels, plus what was dropped or looks risky, for the user to read."""

    texts: list[str]
    labels: list[str]
    dropped_empty: int = 0
    truncated: int = 0
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def label_names(self) -> list[str]:
        return sorted(set(self.labels))

    def subset(self, rows: list[int]) -> LabelledData:
        return LabelledData([self.texts[i] for i in rows], [self.labels[i] for i in rows])


def read_labelled(path: Path, text_column: str = "text", label_column: str = "label") -> LabelledData:
    """Read a CSV (with a header) or JSONL file of messages and labels."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8, e.g. `iconv -t UTF-8`"
        ) from None
    rows = _jsonl_rows(path, raw) if path.suffix.lower() in (".jsonl", ".ndjson") else _csv_rows(path, raw)
    if not rows:
        raise InputError(f"{path}: no rows")
    missing = [c for c in (text_column, label_column) if c not in rows[0]]
    if missing:
        have = ", ".join(repr(c) for c in rows[0]) or "none"
        flags = {text_column: "--text-column", label_column: "--label-column"}
        hint = " and ".join(f"{flags[c]}" for c in missing)
        raise InputError(
            f"{path}: no column {' or '.join(repr(c) for c in missing)} (columns: {have}); choose with {hint}"
        )
    data = LabelledData([], [])
    for row in rows:
        text = str(row.get(text_column) or "").strip()
        label = str(row.get(label_column) or "").strip()
        if not text or not label:
            data.dropped_empty += 1
            continue
        if len(text) > MAX_TEXT_CHARS:
            text = text[:MAX_TEXT_CHARS]
            data.truncated += 1
        data.texts.append(text)
        data.labels.append(label)
    if not data.texts:
        raise InputError(f"{path}: every row has an empty {text_column!r} or {label_column!r}")
    if data.dropped_empty:
        data.warnings.append(f"skipped {data.dropped_empty} rows with an empty text or label")
    if data.truncated:
        data.warnings.append(f"cut {data.truncated} texts longer than {MAX_TEXT_CHARS} characters")
    rare = sorted(label for label, n in Counter(data.labels).items() if n < 2)
    if rare:
        shown = ", ".join(rare[:5]) + (" ..." if len(rare) > 5 else "")
        data.warnings.append(
            f"{len(rare)} labels have a single example ({shown}): they are trained on but not validated; "
            "add examples for reliable routing"
        )
    return data


def _csv_rows(path: Path, raw: str) -> list[dict[str, str]]:
    try:
        reader = csv.DictReader(raw.splitlines())
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    if reader.fieldnames is None:
        raise InputError(f"{path}: empty file; expected a header row such as 'text,label'")
    return rows


def _jsonl_rows(path: Path, raw: str) -> list[dict[str, str]]:
    rows = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}, line {number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}, line {number}: expected a JSON object")
        rows.append(row)
    return rows


def stratified_split(
    labels: list[str], validation_share: float, seed: int = 0
) -> tuple[list[int], list[int]]:
    """Row numbers for training and validation, keeping each label's share; singletons train only."""
    by_label: dict[str, list[int]] = {}
    for row, label in enumerate(labels):
        by_label.setdefault(label, []).append(row)
    rng = random.Random(seed)
    train: list[int] = []
    validation: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        take = round(len(rows) * validation_share) if len(rows) >= 2 else 0
        take = min(max(take, 1 if len(rows) >= 2 and validation_share > 0 else 0), len(rows) - 1)
        validation += rows[:take]
        train += rows[take:]
    rng.shuffle(train)
    return train, sorted(validation)
