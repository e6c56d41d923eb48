"""The router: config validation, zero-shot and trained classifiers on real data, policy, tickets."""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from tandem.errors import ConfigError, InputError
from tandem.route import Router, RouterConfig, TrainOptions, artefact
from tandem.route.data import read_labelled, stratified_split

from .conftest import REPO
from .test_cli import tandem

BANKING77 = REPO.parent / "shared" / "data" / "banking77" / "train.csv"
SUBSET_LABELS = (
    "card_arrival",
    "lost_or_stolen_card",
    "exchange_rate",
    "top_up_failed",
    "age_limit",
    "pin_blocked",
)
needs_banking77 = pytest.mark.skipif(not BANKING77.is_file(), reason="needs ../shared/data/banking77")
EXAMPLE_ROUTER = REPO / "examples" / "router" / "router.toml"

CONFIG = """
[label_sets.risk]
labels = [
  { name = "fraud", description = "a stolen card or money taken without permission" },
  { name = "none", description = "an ordinary question" },
]

[[policy.rules]]
when = { risk = ["fraud"] }
action = "handoff:security"
"""


@pytest.fixture(scope="module")
def banking_subset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Six real Banking77 intents: 24 training and 8 test messages each."""
    if not BANKING77.is_file():
        pytest.skip("needs ../shared/data/banking77")
    rows: dict[str, list[str]] = {label: [] for label in SUBSET_LABELS}
    with BANKING77.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["category"] in rows:
                rows[row["category"]].append(row["text"])
    folder = tmp_path_factory.mktemp("banking")
    for name, part in (("train.csv", slice(0, 24)), ("test.csv", slice(24, 32))):
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "category"])
            for label, texts in rows.items():
                writer.writerows((text, label) for text in texts[part])
    return folder / "train.csv", folder / "test.csv"


# -- configuration ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('action = "handoff:security"', 'action = "escalate"'), "line 10: action must be one of"),
        (('risk = ["fraud"]', 'risk = ["frod"]'), "line 9: policy rule 1 uses unknown label 'frod'"),
        (("when = { risk", "when = { mood"), "line 9: policy rule 1 uses label set 'mood'"),
        (('name = "none"', 'name = "fraud"'), "label 'fraud' is listed twice"),
        (("[[policy.rules]]", "[[policy.rulez]]"), "Extra inputs are not permitted"),
        (("labels = [", "labels = ["), None),
    ],
)
def test_config_is_validated_with_the_line(change: tuple[str, str], message: str | None) -> None:
    text = CONFIG.replace(*change)
    if message is None:
        assert RouterConfig.parse_toml(text).label_sets["risk"].names == ["fraud", "none"]
        return
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        RouterConfig.parse_toml(text, "router.toml")


def test_config_syntax_error_names_the_file() -> None:
    with pytest.raises(ConfigError, match=r"router.toml: not valid TOML.*line 2"):
        RouterConfig.parse_toml("[policy]\nfallback = \n", "router.toml")


def test_example_router_config_loads() -> None:
    config = RouterConfig.load(EXAMPLE_ROUTER)
    patterned = {
        "incident", "legal_threat", "frustration", "account_takeover", "bereavement", "personal_safety",
        "hardship",
    }  # fmt: skip
    assert set(config.label_sets) == {"intent", "urgency", "risk"} | patterned
    assert config.policy.rules[0].action == "handoff:safety"
    assert config.label_sets["incident"].names == ["yes", "no"]


@pytest.mark.parametrize(
    ("message", "queue"),
    [
        ("there's an android in my device list I've never owned and my password no longer works", "security"),
        ("Someone got into my account and changed the email address", "security"),
        ("My husband passed away in March and his Care+ is still being charged", "support"),
        ("my ex keeps following me around, I'm scared to ride to work", "safety"),
        ("if this isn't sorted by Friday my bank reverses the payment", "legal"),
        ("my legal insurance is preparing a letter about the deduction", "legal"),
    ],
)
def test_the_demo_router_hands_off_what_a_person_must_handle(encoder, message: str, queue: str) -> None:
    router = Router(RouterConfig.load(EXAMPLE_ROUTER), encoder=encoder)
    decision = router.classify(message)
    assert decision.queue == queue, decision.to_dict()


@pytest.mark.parametrize(
    "message",
    [
        "the ride app keeps crashing on my old iphone, which iOS do I need?",
        "I don't recognise this error code on the display, what is E07?",
        "I'm afraid the battery won't last the winter, how should I store it?",
        "The delivery was late, my husband waited at home all day. When will it come?",
        "Can I reverse the order of the screens in the app?",
    ],
)
def test_the_demo_router_answers_look_alikes(encoder, message: str) -> None:
    decision = Router(RouterConfig.load(EXAMPLE_ROUTER), encoder=encoder).classify(message)
    assert decision.queue is None, decision.to_dict()


# -- zero-shot ---------------------------------------------------------------------------------------
def test_zero_shot_with_the_real_encoder(encoder) -> None:
    router = Router(RouterConfig.parse_toml(CONFIG), encoder=encoder)
    stolen = router.classify("Someone stole my card and took money out of my account")
    assert stolen.predictions["risk"].label == "fraud"
    assert stolen.action == "handoff:security" and stolen.queue == "security"
    assert stolen.predictions["risk"].method == "zero-shot"
    ordinary = router.classify("What are your opening hours on Saturday?")
    assert ordinary.predictions["risk"].label == "none" and ordinary.action == "answer"
    assert 0.5 <= ordinary.predictions["risk"].confidence <= 1.0
    assert ordinary.reasons == ["no rule matched: fallback"]


def test_long_message_is_classified_not_crashed(encoder) -> None:
    router = Router(RouterConfig.parse_toml(CONFIG), encoder=encoder)
    decision = router.classify("my card was stolen " * 6000)  # ~114,000 characters
    assert decision.predictions["risk"].label == "fraud"
    with pytest.raises(InputError, match="empty"):
        router.classify("   ")


# -- training ------------------------------------------------------------------------------------------
@pytest.mark.slow
@needs_banking77
def test_cli_trains_lora_and_evaluates(banking_subset: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = banking_subset
    router_dir = tmp_path / "router"
    trained = tandem(
        "route", "train", str(train), "--text-column", "text", "--label-column", "category",
        "--out", str(router_dir), "--epochs", "2", "--json",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["version"] == "v000001" and summary["labels"] == 6
    assert summary["options"]["method"] == "lora"
    folder = router_dir / "versions" / "v000001" / "label_sets" / "category"
    assert (folder / "adapter" / "adapter_model.safetensors").is_file()
    assert (folder / "lexical.npz").is_file()
    evaluated = tandem(
        "route", "eval", str(test), "--router", str(router_dir), "--text-column", "text",
        "--label-column", "category", "--json", "--confusion", str(tmp_path / "cm.png"),
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert report["accuracy"] >= 0.85 and report["macro_f1"] >= 0.85
    assert set(report["per_label"]) == set(SUBSET_LABELS)
    assert 0.0 <= report["ece"] <= 0.3 and report["latency_ms"]["p50"] > 0
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
@needs_banking77
def test_lora_training_fits_its_steps_to_the_time_budget(banking_subset: tuple[Path, Path]) -> None:
    """A budget too small for the epochs asked: training measures its speed, plans fewer steps
    (its learning-rate schedule ends with them) and still finishes the rest inside the budget."""
    from tandem.encode.model_files import resolve_encoder
    from tandem.route.lora import PROBE_STEPS
    from tandem.route.train import train_classifier

    data = read_labelled(banking_subset[0], "text", "category")
    options = TrainOptions(epochs=50, batch_size=4, time_budget_s=12.0, knn=True)
    started = time.perf_counter()
    trained = train_classifier(data, resolve_encoder("all-MiniLM-L6-v2"), options)
    elapsed = time.perf_counter() - started
    steps_asked = 50 * math.ceil(trained.train_count / 4)
    last = trained.history[-1]
    assert PROBE_STEPS <= last["steps"] < steps_asked
    assert last["stopped"].startswith("time budget")
    assert elapsed < 12.0 * 2  # a plan from measured speed, not a hard limit (CPU contention, export)


def test_cached_lower_layers_give_the_full_models_vectors() -> None:
    """Training from cached lower-layer outputs computes what the whole encoder computes, adapters
    included, and only the upper layers carry adapters."""
    import torch

    from tandem.encode.classifier_head import EncoderClassifier
    from tandem.encode.layer_cache import LowerLayerCache
    from tandem.encode.model_files import resolve_encoder

    model = EncoderClassifier(resolve_encoder("all-MiniLM-L6-v2"), 3)
    model.add_lora(4, 8.0, dropout=0.0, first_layer=2)
    trained = [name for name, p in model.encoder.named_parameters() if p.requires_grad]
    assert trained and all(".layer.0." not in n and ".layer.1." not in n for n in trained)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # non-zero adapters, so the comparison covers them
        for name, parameter in model.encoder.named_parameters():
            if "lora_B" in name:
                parameter.copy_(0.05 * torch.randn(parameter.shape, generator=generator))
    texts = ["my card has not arrived yet", "hi", "What is the exchange rate for a transfer to Japan?"]
    model.encoder.eval()
    cache = LowerLayerCache(model, 2, texts)
    with torch.no_grad():
        whole, cached = model.embed(texts), cache.embed([0, 1, 2])
        in_other_batches = cache.embed([2, 1]).flip(0)
    torch.testing.assert_close(cached, whole, atol=1e-5, rtol=0)
    torch.testing.assert_close(in_other_batches, whole[1:], atol=1e-5, rtol=0)  # padding-independent
    with pytest.raises(ValueError, match="split"):
        LowerLayerCache(model, 6, texts)


@pytest.mark.slow
@needs_banking77
def test_knn_memory_holds_the_served_models_vectors(
    banking_subset: tuple[Path, Path], tmp_path: Path
) -> None:
    """The memory and the calibration come from the model as served (adapter merged, int8 ONNX, one
    message per call), so a stored message's vector is what serving computes for that message."""
    from tandem.encode.model_files import resolve_encoder
    from tandem.route.train import train_classifier

    data = read_labelled(banking_subset[0], "text", "category")
    files = resolve_encoder("all-MiniLM-L6-v2")
    trained = train_classifier(data, files, TrainOptions(epochs=1, knn=True, time_budget_s=None))
    artefact.save_classifier(tmp_path / "r", "category", trained, files)
    served = Router.from_config(tmp_path / "r").classifiers()["category"]
    for row in (0, 50, 100):
        vector = served.sentence_vectors([data.texts[row]])[0]
        np.testing.assert_allclose(vector, trained.memory[row].astype(np.float32), atol=1e-3)  # float16


@pytest.mark.slow
@needs_banking77
def test_trained_router_survives_save_and_load(banking_subset: tuple[Path, Path], tmp_path: Path) -> None:
    train, test = banking_subset
    router = Router(RouterConfig.parse_toml(CONFIG))
    options = TrainOptions(method="frozen", validation_share=0.2)
    trained = router.train(read_labelled(train, "text", "category"), "intent", tmp_path / "r", options)
    assert trained.validation["accuracy"] >= 0.8
    texts = read_labelled(test, "text", "category").texts[:10]
    _, before = router.predict(texts, "intent")
    reloaded = Router.from_config(tmp_path / "r")
    assert set(reloaded.label_sets) == {"risk", "intent"}  # the config's set is kept beside the new one
    _, after = reloaded.predict(texts, "intent")
    np.testing.assert_allclose(before, after, atol=1e-5)
    assert reloaded.classifiers()["intent"].method == "frozen"
    assert reloaded.classify("I was robbed and my card is gone").action == "handoff:security"


@pytest.mark.slow
@needs_banking77
def test_interrupted_training_keeps_the_previous_router(
    banking_subset: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, _ = banking_subset
    data = read_labelled(train, "text", "category")
    options = TrainOptions(method="frozen", lexical=False)
    router = Router(RouterConfig())
    router.train(data, "intent", tmp_path / "r", options)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    from tandem.route.lexical import LexicalClassifier

    monkeypatch.setattr(LexicalClassifier, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        router.train(data, "intent", tmp_path / "r", TrainOptions(method="frozen"))
    assert artefact.current_folder(tmp_path / "r").name == "v000001"
    assert Router.from_config(tmp_path / "r").predict(["where is my card"], "intent")[0]
    monkeypatch.undo()
    router.train(data, "intent", tmp_path / "r", options)
    versions = sorted(p.name for p in (tmp_path / "r" / "versions").iterdir())
    assert versions == ["v000001", "v000002"]  # the crashed build was cleaned up


# -- bad input -----------------------------------------------------------------------------------------
def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_missing_columns_are_named(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", "message,intent\nhello,greet\n")
    with pytest.raises(InputError, match=r"no column 'text' or 'label' \(columns: 'message', 'intent'\)"):
        read_labelled(data)
    result = tandem("route", "train", str(data), "--out", str(tmp_path / "r"))
    assert result.returncode == 1 and "--text-column" in result.stderr and "Traceback" not in result.stderr


def test_empty_texts_and_rare_labels_warn(tmp_path: Path) -> None:
    data = write(tmp_path / "d.csv", "text,label\nhi,a\n,a\nhello,a\nbye,b\n  ,b\n")
    labelled = read_labelled(data)
    assert labelled.texts == ["hi", "hello", "bye"] and labelled.dropped_empty == 2
    assert any("single example" in w and "b" in w for w in labelled.warnings)
    train, _ = stratified_split(labelled.labels, 0.5)
    assert labelled.labels[train[0]] in ("a", "b") and 2 in train  # the lone 'b' is trained on


def test_non_utf8_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not UTF-8"):
        read_labelled(write(tmp_path / "latin.csv", "text,label\ncaf\xe9,a\n", "latin-1"))
    with pytest.raises(InputError, match="no rows"):
        read_labelled(write(tmp_path / "empty.csv", "text,label\n"))
    with pytest.raises(InputError, match="every row has an empty"):
        read_labelled(write(tmp_path / "blank.csv", "text,label\n,\n"))
    with pytest.raises(InputError, match="line 2: not JSON"):
        read_labelled(write(tmp_path / "d.jsonl", '{"text": "a", "label": "b"}\n{oops\n'))


def test_frozen_layers_out_of_range_are_explained(tmp_path: Path) -> None:
    from tandem.encode.model_files import resolve_encoder
    from tandem.route.train import train_classifier

    with pytest.raises(InputError, match="frozen layers must be 0 or more"):
        TrainOptions(frozen_layers=-1)
    data = read_labelled(write(tmp_path / "d.csv", "text,label\n" + "hi,a\nbye,b\n" * 5))
    options = TrainOptions(frozen_layers=6, validation_share=0.0, time_budget_s=None)
    with pytest.raises(InputError, match="fewer than the encoder's 6 layers"):
        train_classifier(data, resolve_encoder("all-MiniLM-L6-v2"), options)


@pytest.mark.slow
def test_route_help_everywhere() -> None:
    for command in (
        ["route"],
        ["route", "train"],
        ["route", "eval"],
        ["route", "classify"],
        ["route", "tickets"],
    ):
        result = tandem(*command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout


# -- in the pipeline ---------------------------------------------------------------------------------
def test_handoff_stores_a_ticket_instead_of_answering(kb_tandem, tmp_path: Path) -> None:
    bot = kb_tandem(router=EXAMPLE_ROUTER, data_dir=tmp_path / "data")
    answer = bot.ask("My battery is swollen and smoking, and my email is jo@example.com")
    assert answer.mode == "handoff" and answer.ticket == "T-000001"
    assert "T-000001" in answer.text and answer.citations == []
    assert answer.route is not None and answer.route["action"] == "handoff:safety"
    assert answer.route["predictions"]["risk"]["label"] == "safety"
    assert not bot.components.loaded("generator")  # no answer was generated
    ticket = bot.tickets.recent()[0]
    assert ticket.queue == "safety" and ticket.labels["risk"] == "safety"
    assert "[EMAIL]" in ticket.message and "jo@example.com" not in ticket.message

    listed = tandem("route", "tickets", "--data-dir", str(tmp_path / "data"), "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["ticket"] == "T-000001"
