"""A router folder on disk: immutable versions, each a complete router, behind an atomic CURRENT.

    ROUTER_DIR/CURRENT
    ROUTER_DIR/versions/v000002/manifest.json          label sets, how each was made, metrics
    ROUTER_DIR/versions/v000002/router.toml            the configuration (label sets, policy)
    ROUTER_DIR/versions/v000002/label_sets/intent/     classifier.json, head.safetensors,
                                                       adapter/ (LoRA), lexical.npz, memory.npz

Training one label set copies the others from the current version, so an interrupted training run
leaves the previous router in place and a finished one can be rolled back.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from tandem.encode.model_files import EncoderFiles
from tandem.errors import ConfigError
from tandem.index.layout import IndexLayout
from tandem.route.config import Label, LabelSet, RouterConfig
from tandem.route.train import TrainedClassifier
from tandem.version import __version__

FORMAT = 1
CONFIG_FILE = "router.toml"


def layout(router_dir: Path) -> IndexLayout:
    return IndexLayout(Path(router_dir), writer="router training")


def current_folder(router_dir: Path) -> Path:
    """The live version's folder, with a clear error when `router_dir` holds no router."""
    folder_layout = layout(router_dir)
    if not folder_layout.exists():
        raise ConfigError(
            f"no router at {router_dir}: train one with `tandem route train DATA.csv --out {router_dir}`"
        )
    return folder_layout.current_folder()


def read_manifest(version_folder: Path) -> dict:
    return json.loads((version_folder / "manifest.json").read_text())


def save_classifier(
    router_dir: Path,
    label_set: str,
    trained: TrainedClassifier,
    encoder_files: EncoderFiles,
    config_text: str | None = None,
    keep_versions: int = 5,
) -> Path:
    """Publish a new router version with `label_set` trained; returns the version folder."""
    folder_layout = layout(router_dir)
    with folder_layout.write_lock():
        folder_layout.remove_stale_builds()
        previous = folder_layout.current_folder() if folder_layout.exists() else None
        number = folder_layout.next_number()
        build = folder_layout.new_build_folder(number)
        manifest: dict[str, Any] = {"format": FORMAT, "tandem_version": __version__, "label_sets": {}}
        if previous is not None:
            manifest = read_manifest(previous)
            if (previous / "label_sets").is_dir():
                shutil.copytree(previous / "label_sets", build / "label_sets")
            if config_text is None and (previous / CONFIG_FILE).is_file():
                config_text = (previous / CONFIG_FILE).read_text(encoding="utf-8")
        config = RouterConfig.parse_toml(config_text, CONFIG_FILE) if config_text else RouterConfig()
        keep_text = config_text is not None and label_set in config.label_sets  # the user's own file
        config = _with_trained_labels(config, label_set, trained.labels)
        (build / CONFIG_FILE).write_text(
            config_text if keep_text and config_text else config_toml(config), encoding="utf-8"
        )

        target = build / "label_sets" / label_set
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        if trained.model.has_adapter:
            trained.model.save_adapter(target / "adapter")
        trained.model.save_head(target / "head.safetensors")
        if trained.lexical is not None:
            trained.lexical.save(target / "lexical.npz")
        if trained.memory is not None and trained.memory_labels is not None:
            np.savez(target / "memory.npz", vectors=trained.memory, labels=trained.memory_labels)
        description = {
            "labels": trained.labels,
            "method": trained.options.method,
            "head_weight": trained.head_weight,
            "knn_weight": trained.knn_weight,
            "lexical_weight": trained.lexical_weight,
            "temperature": trained.temperature,
            "encoder": {"model_id": encoder_files.model_id, "fingerprint": encoder_files.fingerprint()},
            "validation": trained.validation,
            "summary": trained.summary(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (target / "classifier.json").write_text(json.dumps(description, indent=2))
        manifest["label_sets"][label_set] = {
            "method": trained.options.method,
            "labels": len(trained.labels),
            "validation_accuracy": trained.validation.get("accuracy"),
            "trained": description["created"],
        }
        manifest["version"] = number
        (build / "manifest.json").write_text(json.dumps(manifest, indent=2))
        final = folder_layout.publish(build, number)
        folder_layout.prune(keep_versions)
        return final


def _with_trained_labels(config: RouterConfig, label_set: str, labels: list[str]) -> RouterConfig:
    """Check the data's labels against the configured ones; define the set when it is new."""
    if label_set in config.label_sets:
        if problem := config.untrainable(label_set):
            raise ConfigError(problem)
        known = set(config.label_sets[label_set].names)
        unknown = [label for label in labels if label not in known]
        if unknown:
            raise ConfigError(
                f"the training data has labels not in the router config's label set {label_set!r}: "
                f"{', '.join(unknown[:5])}; add them to the config or fix the data"
            )
        return config
    sets = dict(config.label_sets)
    sets[label_set] = LabelSet(labels=[Label(name=name) for name in labels])
    return config.model_copy(update={"label_sets": sets})


def config_toml(config: RouterConfig) -> str:
    """Render a config (e.g. one built in Python) as the TOML the router folder stores."""
    lines = ["# Written by Tandem; edit it and retrain or reload to change labels and policy.", ""]
    for name, label_set in config.label_sets.items():
        lines += [f"[label_sets.{_key(name)}]"]
        if label_set.patterns:
            lines += [f"patterns = {_value(label_set.patterns)}", ""]
            continue
        lines += [f"temperature = {label_set.temperature}", "labels = ["]
        for label in label_set.labels:
            lines.append(f"  {_inline(label.model_dump())},")
        lines += ["]", ""]
    for section, part in (("policy", config.policy), ("conversation", config.conversation)):
        values = part.model_dump(exclude={"rules"}, exclude_none=True)
        lines += [f"[{section}]", *(f"{key} = {_value(value)}" for key, value in values.items()), ""]
        for rule in part.rules:
            fields = rule.model_dump(exclude_none=True).items()
            lines += [f"[[{section}.rules]]", *(f"{key} = {_value(value)}" for key, value in fields), ""]
    return "\n".join(lines)


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return _inline(value)
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _inline(table: dict) -> str:
    return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in table.items()) + " }"
