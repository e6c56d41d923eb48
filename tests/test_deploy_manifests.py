"""The deployment examples parse, and every setting they (and docs/deploy.md) use is a real one."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tandem.config import Settings

from .conftest import REPO

DEPLOY = REPO / "deploy"
DOC = REPO / "docs" / "deploy.md"
# Read by Tandem but not Settings fields: the config file path and the ONNX export cache.
NOT_FIELDS = {"TANDEM_CONFIG", "TANDEM_CACHE_DIR"}
ENV_NAME = re.compile(r"\bTANDEM_[A-Z][A-Z0-9_]*\b")


def yaml_documents() -> dict[Path, list[dict]]:
    files = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert files, "no manifests under deploy/"
    return {path: [d for d in yaml.safe_load_all(path.read_text()) if d is not None] for path in files}


def kubernetes() -> list[dict]:
    return [d for path, docs in yaml_documents().items() if "k8s" in path.parts for d in docs]


def tomls() -> dict[str, str]:
    """Every tandem.toml: the files, the ConfigMap's, and the ```toml blocks of docs/deploy.md."""
    found = {str(p.relative_to(REPO)): p.read_text() for p in DEPLOY.rglob("*.toml")}
    for doc in kubernetes():
        for name, text in (doc.get("data") or {}).items() if doc["kind"] == "ConfigMap" else ():
            if name.endswith(".toml"):
                found[f"ConfigMap {doc['metadata']['name']}/{name}"] = text
    for i, block in enumerate(re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL)):
        found[f"docs/deploy.md toml block {i + 1}"] = block
    return found


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in [n for n in os.environ if n.startswith("TANDEM_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def test_every_manifest_parses_and_kubernetes_objects_are_complete() -> None:
    for path, docs in yaml_documents().items():
        assert docs, f"{path} is empty"
        if "k8s" not in path.parts:
            continue
        for doc in docs:
            assert {"apiVersion", "kind", "metadata"} <= doc.keys(), path
            assert doc["metadata"].get("name"), path


def test_every_tandem_toml_is_valid_settings(clean_env, tmp_path: Path) -> None:
    fields = set(Settings.model_fields)
    found = tomls()
    assert len(found) >= 3  # deploy/tandem.toml, the ConfigMap, the doc's blocks
    for where, text in found.items():
        values = tomllib.loads(text)
        values = values.get("tandem", values)
        assert set(values) <= fields, f"{where}: not settings: {sorted(set(values) - fields)}"
        path = tmp_path / "tandem.toml"
        path.write_text(text)
        Settings.load(path)  # types, ranges and patterns, as `tandem serve --config` checks them


def test_every_tandem_variable_is_a_setting(clean_env, tmp_path: Path) -> None:
    """Names anywhere under deploy/ and in docs/deploy.md; literal values in the manifests."""
    fields = set(Settings.model_fields)
    texts = {p: p.read_text() for p in DEPLOY.rglob("*") if p.is_file()} | {DOC: DOC.read_text()}
    names = {name for text in texts.values() for name in ENV_NAME.findall(text)}
    assert "TANDEM_STORE_URL" in names
    unknown = {n for n in names - NOT_FIELDS if n.removeprefix("TANDEM_").lower() not in fields}
    assert not unknown, f"not settings: {sorted(unknown)}"

    literal: dict[str, str] = {}
    for docs in yaml_documents().values():
        for doc in docs:
            for service in (doc.get("services") or {}).values():
                literal |= {k: str(v) for k, v in (service.get("environment") or {}).items()}
            for container in _containers(doc):
                literal |= {e["name"]: str(e["value"]) for e in container.get("env", []) if "value" in e}
    for name, value in literal.items():
        if name.startswith("TANDEM_") and name not in NOT_FIELDS:
            clean_env.setenv(name, value)
    (tmp_path / "tandem.toml").write_text((DEPLOY / "tandem.toml").read_text())
    Settings.load(tmp_path / "tandem.toml")


def _containers(doc: dict) -> list[dict]:
    """Containers anywhere in a Kubernetes object (Deployment, Job, RayCluster groups)."""
    found: list[dict] = []
    stack: list[object] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found += [c for c in node.get("containers", []) if isinstance(c, dict)]
            stack += [v for k, v in node.items() if k != "containers"]
        elif isinstance(node, list):
            stack += node
    return found


def test_api_deployment_probes_service_and_secret() -> None:
    objects = {(d["kind"], d["metadata"]["name"]): d for d in kubernetes()}
    deployment = objects[("Deployment", "tandem-api")]
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    [api] = pod["spec"]["containers"]
    assert api["args"] == ["tandem", "serve"]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    port = api["ports"][0]
    assert port["containerPort"] == tomllib.loads(_configmap_toml(objects))["port"]

    env = {e["name"]: e for e in api["env"]}
    secret = env["TANDEM_STORE_URL"]["valueFrom"]["secretKeyRef"]
    example = objects[("Secret", secret["name"])]
    assert secret["key"] in example["stringData"]
    mounted = {v["name"] for v in pod["spec"]["volumes"] if "configMap" in v}
    assert mounted and objects[("ConfigMap", "tandem-config")]

    service = objects[("Service", "tandem-api")]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]


def _configmap_toml(objects: dict) -> str:
    return objects[("ConfigMap", "tandem-config")]["data"]["tandem.toml"]


def test_compose_has_the_reference_topology() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"api-1", "api-2", "proxy", "generator", "milvus", "postgres", "ray-head", "ray-worker"} <= set(
        services
    )
    for name in ("api-1", "api-2"):
        assert services[name]["command"] == ["tandem", "serve"]
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
    settings = tomllib.loads((DEPLOY / "tandem.toml").read_text())
    assert settings["generator_url"].startswith("http://generator:")
    assert settings["milvus_uri"].startswith("http://milvus:") and settings["vector_store"] == "milvus"
    assert "postgres:5432" in services["api-1"]["environment"]["TANDEM_STORE_URL"]
