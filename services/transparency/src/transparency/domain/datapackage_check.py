"""A check of a Frictionless Data Package (tabular profile) and its CSV files, written against the published
specifications (Data Package, Data Resource, Table Schema v1): required properties, each file's bytes and
sha256, header against the schema's fields, every value of its declared type, primary keys unique, foreign keys
resolved. The `frictionless` package is not a dependency of the service (this covers what our packages use); the
tests also run the Frictionless project's own validator on a downloaded release (`tests/test_public_api.py`)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date
from typing import Any

_NAME = re.compile(r"^[a-z0-9._-]+$")


def _typed(value: str, kind: str) -> bool:
    if value == "":
        return True  # missing value ("" is the default missingValues)
    try:
        if kind == "integer":
            int(value)
        elif kind == "number":
            float(value)
        elif kind == "boolean":
            return value in ("true", "false")
        elif kind == "date":
            date.fromisoformat(value)
    except ValueError:
        return False
    return True


def problems_in_package(package: dict[str, Any], files: dict[str, bytes]) -> list[str]:
    """Everything wrong with `package` and the files it describes (`files` by path); empty when valid."""
    problems: list[str] = []
    if package.get("profile") != "tabular-data-package":
        problems.append("profile is not tabular-data-package")
    if not _NAME.match(str(package.get("name", ""))):
        problems.append("name must be lower-case letters, digits, '.', '_' or '-'")
    if not package.get("licenses"):
        problems.append("no licence")
    resources = package.get("resources")
    if not isinstance(resources, list) or not resources:
        return [*problems, "resources must be a non-empty list"]
    keys: dict[str, set[tuple[str, ...]]] = {}
    rows_of: dict[str, list[dict[str, str]]] = {}
    for resource in resources:
        name = resource.get("name", "?")
        content = files.get(resource.get("path", ""))
        if content is None:
            problems.append(f"{name}: file {resource.get('path')} missing")
            continue
        if resource.get("bytes") != len(content):
            problems.append(f"{name}: bytes {resource.get('bytes')} != {len(content)}")
        if resource.get("hash") != f"sha256:{hashlib.sha256(content).hexdigest()}":
            problems.append(f"{name}: hash does not match the file")
        fields = resource.get("schema", {}).get("fields", [])
        reader = csv.reader(io.StringIO(content.decode("utf-8")))
        header = next(reader, [])
        if header != [f["name"] for f in fields]:
            problems.append(f"{name}: header {header} does not match the schema")
            continue
        rows = [dict(zip(header, row, strict=False)) for row in reader]
        rows_of[name] = rows
        for n, row in enumerate(rows, start=2):
            if len(row) != len(fields):
                problems.append(f"{name} line {n}: {len(row)} values for {len(fields)} fields")
            for f in fields:
                if not _typed(row.get(f["name"], ""), f["type"]):
                    problems.append(f"{name} line {n}: {f['name']} is not a {f['type']}")
        primary = resource["schema"].get("primaryKey")
        if primary:
            seen = [tuple(row[k] for k in primary) for row in rows]
            if len(seen) != len(set(seen)):
                problems.append(f"{name}: primary key {primary} is not unique")
            keys[name] = set(seen)
    for resource in resources:
        for fk in resource.get("schema", {}).get("foreignKeys", []):
            target = keys.get(fk["reference"]["resource"], set())
            for row in rows_of.get(resource["name"], []):
                if tuple(row[k] for k in fk["fields"]) not in target:
                    problems.append(f"{resource['name']}: {fk['fields']} {row} has no match")
                    break
    return problems
