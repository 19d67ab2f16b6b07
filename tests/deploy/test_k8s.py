"""deploy/k8s: every manifest validated against the Kubernetes JSON schemas (offline, from the
kubernetes-validate package), plus the checks that matter for running several replicas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
K8S_VERSION = "1.30.0"


def documents() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((path, doc))
    return found


def by_kind(kind: str) -> dict[str, Any]:
    matches = [doc for _, doc in documents() if doc["kind"] == kind]
    assert len(matches) == 1, kind
    return matches[0]


@pytest.mark.parametrize(("path", "doc"), documents(), ids=lambda v: getattr(v, "name", ""))
def test_manifest_is_valid_kubernetes(path: Path, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest_except_the_secret_example() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == present


def test_deployment_runs_http_mode_replicas_with_probes_and_resources() -> None:
    deployment = by_kind("Deployment")
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert refs == {"advisor-config", "advisor-secrets"}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/app/knowledge" in mounts
    config = by_kind("ConfigMap")["data"]
    assert "SLACK_APP_TOKEN" not in config  # Socket Mode would make every replica a receiver
    assert config["QDRANT_URL"].startswith("http")  # embedded Qdrant is single-process
    for key in config:
        assert not any(word in key for word in ("TOKEN", "SECRET", "API_KEY", "PASSWORD"))


def test_service_ingress_and_autoscaler_point_at_the_deployment() -> None:
    service = by_kind("Service")
    labels = by_kind("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    paths = by_kind("Ingress")["spec"]["rules"][0]["http"]["paths"]
    assert [p["path"] for p in paths] == ["/slack/events"]
    assert paths[0]["backend"]["service"]["name"] == service["metadata"]["name"]
    hpa = by_kind("HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "advisor" and hpa["minReplicas"] >= 2


def test_helm_values_exist_and_parse() -> None:
    qdrant = yaml.safe_load((K8S / "helm" / "qdrant-values.yaml").read_text())
    assert qdrant["config"]["cluster"]["enabled"] is True and qdrant["replicaCount"] >= 3
    redis = yaml.safe_load((K8S / "helm" / "redis-values.yaml").read_text())
    assert "appendonly yes" in redis["master"]["configuration"]
    readme = (K8S / "README.md").read_text()
    assert "qdrant-values.yaml" in readme and "redis-values.yaml" in readme
