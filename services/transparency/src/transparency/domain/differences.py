"""What changes for the public between the last release and a candidate, per factory: the review's subject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Change = Literal["listed", "delisted", "changed"]


@dataclass(frozen=True)
class FactoryDifference:
    factory_id: str
    name: str
    change: Change
    details: tuple[str, ...]


def _issues(doc: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {i["question_code"]: (i["result"], i["remediation"], i["reply_status"]) for i in doc["issues"]}


def differences(previous: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> list[FactoryDifference]:
    """Documents by factory id (as the release stores them) of the last release against the candidate."""
    found: list[FactoryDifference] = []
    for factory_id in sorted(set(previous) | set(current)):
        old, new = previous.get(factory_id), current.get(factory_id)
        if old is None and new is not None:
            found.append(FactoryDifference(factory_id, new["name"], "listed", ()))
        elif new is None and old is not None:
            found.append(FactoryDifference(factory_id, old["name"], "delisted", ()))
        elif old is not None and new is not None:
            details = []
            for field in ("name", "province", "assessment_id", "low_compliance"):
                if old[field] != new[field]:
                    details.append(f"{field}: {old[field]} -> {new[field]}")
            before, after = _issues(old), _issues(new)
            for code in sorted(set(before) | set(after)):
                if before.get(code) != after.get(code):
                    details.append(f"{code}: {before.get(code)} -> {after.get(code)}")
            if details:
                found.append(FactoryDifference(factory_id, new["name"], "changed", tuple(details)))
    return found
