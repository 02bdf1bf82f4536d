"""Rebuild the JSON schemas in deploy/schemas/ from their published sources (run by hand, not in CI).

CI validates offline against what this wrote; the sources and versions are listed in deploy/schemas/SOURCES.md.
Inputs (paths on the machine that refreshes them):

  --kubernetes DIR   `kubernetes_validate/kubernetes-json-schema/v<ver>-local-strict` from the kubernetes-validate wheel
  --crds FILE...     CustomResourceDefinition YAML files (Strimzi, CloudNativePG, Barman Cloud, Prometheus operator)

compose-spec's `schema/compose-spec.json` is copied unchanged.

    .venv/bin/python -m deploy.tooling.vendor_schemas --kubernetes ... --crds ... --out deploy/schemas/<name>.json

Kubernetes schemas: only the kinds the manifests use, each bundled with the definitions it reaches, descriptions
dropped. CRD schemas: `openAPIV3Schema` of every served version, made strict (an object that lists its properties
rejects others unless it preserves unknown fields), since the API server would silently prune a misspelt field;
patterns with Go-only inline flags (`(?i)`) are dropped.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

KUBERNETES_KINDS = [
    "configmap-v1",
    "namespace-v1",
    "service-v1",
    "serviceaccount-v1",
    "deployment-apps-v1",
    "job-batch-v1",
    "networkpolicy-networking-v1",
    "ingress-networking-v1",
    "poddisruptionbudget-policy-v1",
]
DEFINITION_REF = re.compile(r"^(?:/api/_definitions\.json)?#/\$defs/(.+)$")


def without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    return node


def kubernetes_bundle(folder: Path, version: str) -> dict[str, Any]:
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    reached: dict[str, Any] = {}
    schemas: dict[str, Any] = {}

    def relink(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and (match := DEFINITION_REF.match(value)):
                    name = match.group(1)
                    if name not in reached:
                        reached[name] = None
                        reached[name] = relink(without_descriptions(definitions[name]))
                    out[key] = f"#/$defs/{name}"
                else:
                    out[key] = relink(value)
            return out
        if isinstance(node, list):
            return [relink(v) for v in node]
        return node

    for stem in KUBERNETES_KINDS:
        schema = json.loads((folder / f"{stem}.json").read_text())
        gvk = schema["x-kubernetes-group-version-kind"][0]
        api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
        body = {k: v for k, v in without_descriptions(schema).items() if k not in ("$schema", "$id")}
        schemas[f"{api_version}/{gvk['kind']}"] = relink(body)
    return {
        "source": f"kubernetes-validate wheel, kubernetes-json-schema/v{version}-local-strict",
        "version": version,
        "dialect": "https://json-schema.org/draft/2020-12/schema",
        "$defs": reached,
        "schemas": schemas,
    }


def strict(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: strict(v) for k, v in node.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        # Go (RE2) inline flags such as `(?i)` are not ECMA-262 regexes: such a pattern is dropped, not guessed.
        if isinstance(out.get("pattern"), str) and "(?" in out["pattern"]:
            del out["pattern"]
        if out.get("nullable") is True and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(node, list):
        return [strict(v) for v in node]
    return node


def crd_bundle(files: list[Path], source: str, version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for file in files:
        for crd in yaml.safe_load_all(file.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for served in crd["spec"]["versions"]:
                if not served.get("served", True):
                    continue
                schema = without_descriptions(served["schema"]["openAPIV3Schema"])
                schema.setdefault("properties", {}).setdefault("metadata", {"type": "object"})
                schema["properties"].setdefault("apiVersion", {"type": "string"})
                schema["properties"].setdefault("kind", {"type": "string"})
                schemas[f"{group}/{served['name']}/{kind}"] = strict(schema)
    return {
        "source": source,
        "version": version,
        "dialect": "http://json-schema.org/draft-07/schema#",
        "schemas": schemas,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubernetes", type=Path)
    parser.add_argument("--crds", type=Path, nargs="*")
    parser.add_argument("--source", help="where the CRDs came from (repository and tag)")
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.kubernetes:
        bundle = kubernetes_bundle(args.kubernetes, args.version)
    else:
        bundle = crd_bundle(args.crds, args.source, args.version)
    args.out.write_text(json.dumps(bundle, sort_keys=True, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
