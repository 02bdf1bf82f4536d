"""Offline checks of what gets deployed: render every overlay, validate each object, lint the pod specs and compose.

    .venv/bin/python -m deploy.tooling.checks          # prints every problem; exit 1 if there is one

Rendering uses the real kustomize (`kustomize build`, else `kubectl kustomize`, which embeds it): the overlays
use generators with hash suffixes, name references, components and merges, and a home-made renderer for that
subset would be a second implementation to trust. No cluster is contacted.

Validation is against schemas vendored in deploy/schemas/ (versions and sources in SOURCES.md): Kubernetes core
kinds, Strimzi, CloudNativePG, the Barman Cloud plugin, the Prometheus operator, and the compose specification.
A kind without a schema is an error, never skipped. CEL rules (`x-kubernetes-validations`) are not evaluated.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "deploy" / "schemas"
OVERLAYS = ROOT / "k8s" / "overlays"
COMPOSE = ROOT / "docker-compose.yml"
WORKLOADS = {"Deployment", "Job", "StatefulSet", "DaemonSet"}


class RenderError(RuntimeError):
    pass


def kustomize_command() -> list[str]:
    if path := shutil.which("kustomize"):
        return [path, "build"]
    if path := shutil.which("kubectl"):
        return [path, "kustomize"]
    raise RenderError("neither `kustomize` nor `kubectl` is on PATH: install one (apt-get install kubectl)")


def kustomize_version() -> str:
    command = kustomize_command()
    args = [command[0], "version"] if command[1] == "build" else [command[0], "version", "--client"]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if "ustomize" in line or command[1] == "build"]
    return (lines[0] if lines else done.stdout.strip()).strip()


def render(overlay: Path) -> list[dict[str, Any]]:
    done = subprocess.run([*kustomize_command(), str(overlay)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RenderError(f"kustomize failed for {overlay}: {done.stderr.strip()}")
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def overlays() -> list[Path]:
    return sorted(p for p in OVERLAYS.iterdir() if (p / "kustomization.yaml").exists())


def as_json(document: Any) -> Any:
    """YAML scalars that JSON lacks (dates) become strings, as the API server would receive them."""
    return json.loads(json.dumps(document, default=str))


@dataclass(frozen=True)
class Bundle:
    name: str
    source: str
    version: str


class SchemaCatalogue:
    """Every vendored schema by `apiVersion/kind`."""

    def __init__(self, folder: Path = SCHEMAS) -> None:
        self.validators: dict[str, Any] = {}
        self.bundles: list[Bundle] = []
        for file in sorted(folder.glob("*.json")):
            if file.name == "compose-spec.json":
                continue
            bundle = json.loads(file.read_text())
            self.bundles.append(Bundle(file.name, bundle["source"], bundle["version"]))
            definitions = bundle.get("$defs")
            for key, schema in bundle["schemas"].items():
                full = {**schema, "$schema": bundle["dialect"]}
                if definitions:
                    full["$defs"] = definitions
                self.validators[key] = jsonschema_rs.validator_for(full)

    def validate(self, document: dict[str, Any]) -> list[str]:
        key = f"{document.get('apiVersion')}/{document.get('kind')}"
        name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        validator = self.validators.get(key)
        if validator is None:
            return [f"{name}: no schema for {key} in deploy/schemas (add one; kinds are never skipped)"]
        return [
            f"{name}: {'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(as_json(document))
        ]


# ------------------------------------------------------------------------------------------------ lint


def pod_template(document: dict[str, Any]) -> dict[str, Any] | None:
    if document.get("kind") not in WORKLOADS:
        return None
    spec: dict[str, Any] = document["spec"]["template"]["spec"]
    return spec


def lint(documents: list[dict[str, Any]]) -> list[str]:
    """Security context, resources, disruption budgets and spread: what a schema cannot say."""
    problems: list[str] = []
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    budgets = [d for d in documents if d["kind"] == "PodDisruptionBudget"]
    for document in documents:
        pod = pod_template(document)
        name = f"{document['kind']}/{document['metadata']['name']}"
        if pod is None:
            continue
        context = pod.get("securityContext", {})
        if context.get("runAsNonRoot") is not True:
            problems.append(f"{name}: pod securityContext.runAsNonRoot must be true")
        if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: pod securityContext.seccompProfile.type must be RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: automountServiceAccountToken must be false (no workload calls the API)")
        if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
            problems.append(f"{name}: must not share the host's network, PID or IPC namespace")
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            where = f"{name} container {container['name']}"
            resources = container.get("resources", {})
            for need in ("cpu", "memory"):
                if need not in resources.get("requests", {}):
                    problems.append(f"{where}: resources.requests.{need} missing")
            if "memory" not in resources.get("limits", {}):
                problems.append(f"{where}: resources.limits.memory missing")
            sc = container.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: securityContext.allowPrivilegeEscalation must be false")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: securityContext.readOnlyRootFilesystem must be true")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: securityContext.capabilities.drop must include ALL")
            if sc.get("privileged"):
                problems.append(f"{where}: must not be privileged")
            image = container.get("image", "")
            if image.endswith(":latest") or (":" not in image.rsplit("/", 1)[-1] and "@" not in image):
                problems.append(f"{where}: image {image!r} must name a tag or digest")
            for ref in container.get("envFrom", []):
                cm = ref.get("configMapRef", {}).get("name")
                if cm and ("ConfigMap", cm) not in kinds:
                    problems.append(f"{where}: envFrom names ConfigMap {cm}, which the overlay does not render")
        for volume in pod.get("volumes", []):
            cm = volume.get("configMap", {}).get("name")
            if cm and ("ConfigMap", cm) not in kinds:
                problems.append(f"{name}: volume {volume['name']} names ConfigMap {cm}, which is not rendered")
        if document["kind"] == "Deployment" and document["spec"].get("replicas", 1) > 1:
            labels = document["spec"]["template"]["metadata"]["labels"]
            if not any(b["spec"]["selector"].get("matchLabels", {}).items() <= labels.items() for b in budgets):
                problems.append(f"{name}: no PodDisruptionBudget selects it")
            if not pod.get("topologySpreadConstraints") and not pod.get("affinity", {}).get("podAntiAffinity"):
                problems.append(f"{name}: replicas are not spread (topologySpreadConstraints or anti-affinity)")
    for document in documents:
        kind, spec = document["kind"], document.get("spec", {})
        name = f"{kind}/{document['metadata']['name']}"
        if kind in ("KafkaNodePool", "Cluster") and "memory" not in spec.get("resources", {}).get("limits", {}):
            problems.append(f"{name}: resources.limits.memory missing")
        labels = document["metadata"].get("labels", {})
        if kind == "Namespace" and (
            labels.get("pod-security.kubernetes.io/enforce") not in ("baseline", "restricted")
            or labels.get("pod-security.kubernetes.io/warn") != "restricted"
        ):
            problems.append(f"{name}: Pod Security must enforce at least baseline and warn at restricted")
        if kind == "Kafka":
            for listener in spec["kafka"]["listeners"]:
                if not listener.get("tls") or listener.get("authentication", {}).get("type") != "tls":
                    problems.append(f"{name}: listener {listener['name']} must use TLS with client certificates")
        if kind == "Ingress":
            for rule in spec.get("rules", []):
                if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", rule["host"]):
                    problems.append(f"{name}: host {rule['host']!r} is not a lower-case DNS name")
                for path in rule["http"]["paths"]:
                    if path["path"].startswith(("/metrics", "/health", "/docs")):
                        problems.append(f"{name}: {rule['host']}{path['path']} exposes an internal route")
    policies = [d for d in documents if d["kind"] == "NetworkPolicy"]
    if not any(
        p["spec"].get("podSelector") == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in policies
    ):
        problems.append("no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)")
    return problems


# ------------------------------------------------------------------------------------------------ compose


def compose_validator() -> Any:
    return jsonschema_rs.validator_for(json.loads((SCHEMAS / "compose-spec.json").read_text()))


def check_compose(path: Path = COMPOSE) -> list[str]:
    document = yaml.safe_load(path.read_text())
    problems = [
        f"compose: {'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"
        for e in compose_validator().iter_errors(as_json(document))
    ]
    return problems + lint_compose(document)


def lint_compose(document: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    services: dict[str, Any] = document["services"]
    ours = {name: s for name, s in services.items() if "betterwork" in str(s.get("command", ""))}
    for name, service in ours.items():
        env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        login = urlsplit(env.get("DATABASE_URL", ""))
        if name != "migrate" and (login.username or login.password):
            problems.append(
                f"compose {name}: DATABASE_URL carries a login ({login.username}); services use their own role"
            )
        for volume in service.get("volumes", []):
            # The whole keys folder holds the private key too; only the public half may be mounted.
            text = str(volume)
            if "jwt-signing-key.pem" in text or re.search(r"/keys/?:", text):
                problems.append(f"compose {name}: mounts the private signing key ({volume})")
        if name != "migrate":
            wait = env.get("KAFKA_FETCH_MAX_WAIT_MS")
            if wait is None or int(wait) < 100:
                problems.append(f"compose {name}: KAFKA_FETCH_MAX_WAIT_MS {wait} is tuned for Tansu, not Apache Kafka")
        if service.get("read_only") is not True:
            problems.append(f"compose {name}: read_only must be true")
        if "no-new-privileges:true" not in service.get("security_opt", []):
            problems.append(f"compose {name}: security_opt must include no-new-privileges:true")
        if "ALL" not in service.get("cap_drop", []):
            problems.append(f"compose {name}: cap_drop must include ALL")
    if "PARTNERSHIPS_WEBHOOK_SECRET_KEY" not in (services.get("partnerships", {}).get("environment") or {}):
        problems.append("compose partnerships: PARTNERSHIPS_WEBHOOK_SECRET_KEY unset: webhook secrets stored unsealed")
    return problems


# ------------------------------------------------------------------------------------------------ main


def all_problems() -> Iterator[str]:
    catalogue = SchemaCatalogue()
    for overlay in overlays():
        documents = render(overlay)
        for document in documents:
            for problem in catalogue.validate(document):
                yield f"{overlay.name}: {problem}"
        for problem in lint(documents):
            yield f"{overlay.name}: {problem}"
    yield from check_compose()


def main() -> None:
    os.chdir(ROOT)
    problems = list(all_problems())
    for problem in problems:
        print(problem)
    catalogue = SchemaCatalogue()
    print(f"rendered with {kustomize_version()}; schemas: " + ", ".join(f"{b.name}" for b in catalogue.bundles))
    print(f"{len(problems)} problem(s) in {len(overlays())} overlays and docker-compose.yml")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
