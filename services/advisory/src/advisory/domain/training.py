"""Training: completion by a stated rule (cmi5's moveOn, plus an administrative waiver with a reason), training
days entitled per factory and year as data per country, and xAPI statements. Pure: no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from importlib.resources import files
from typing import Any

import yaml


class TrainingRuleError(ValueError):
    """A course, session, participant or statement the rules refuse."""


class CompletionRule(StrEnum):
    """cmi5 moveOn: what a participant must do for the course to count as completed."""

    COMPLETED = "completed"
    PASSED = "passed"
    COMPLETED_AND_PASSED = "completed_and_passed"
    COMPLETED_OR_PASSED = "completed_or_passed"
    NOT_APPLICABLE = "not_applicable"  # attendance is enough


class SessionMode(StrEnum):
    CLASSROOM = "classroom"
    IN_FACTORY = "in_factory"
    E_LEARNING = "e_learning"


HOURS_PER_DAY = Decimal(8)


@dataclass(frozen=True)
class Outcome:
    attended: bool
    completed: bool
    passed: bool | None
    waived_reason: str | None = None


def satisfied(rule: CompletionRule, outcome: Outcome) -> bool:
    """Whether the participant completed the course under its rule; a waiver (with reason) always counts."""
    if outcome.waived_reason:
        return True
    passed = bool(outcome.passed)
    match rule:
        case CompletionRule.COMPLETED:
            return outcome.completed
        case CompletionRule.PASSED:
            return passed
        case CompletionRule.COMPLETED_AND_PASSED:
            return outcome.completed and passed
        case CompletionRule.COMPLETED_OR_PASSED:
            return outcome.completed or passed
        case CompletionRule.NOT_APPLICABLE:
            return outcome.attended


def passed_by_score(score: Decimal | None, pass_score: Decimal | None) -> bool | None:
    if score is None or pass_score is None:
        return None
    return score >= pass_score


def entitled_days(country: str) -> int | None:
    """Training days a factory is entitled to per year in the country's programme (None: not set for it)."""
    text = files("advisory").joinpath("data", "training_entitlements.yaml").read_text(encoding="utf-8")
    table: dict[str, Any] = yaml.safe_load(text)["days_per_factory_per_year"]
    value = table.get(country)
    return int(value) if value is not None else None


def days(hours: Decimal) -> Decimal:
    return (hours / HOURS_PER_DAY).quantize(Decimal("0.01"))


def check_account(account: str) -> None:
    """Participants are pseudonymous: an account name, never an e-mail address."""
    if "@" in account or account.lower().startswith("mailto:"):
        raise TrainingRuleError("participants are identified by an account, never an e-mail address")


# ---- xAPI ---------------------------------------------------------------------------------------------------------

VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"
VERB_FAILED = "http://adlnet.gov/expapi/verbs/failed"
VERB_ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
VERB_WAIVED = "https://w3id.org/xapi/adl/verbs/waived"
VERBS = frozenset({VERB_COMPLETED, VERB_PASSED, VERB_FAILED, VERB_ATTENDED, VERB_WAIVED})
SESSION_IRI = "https://platform.betterwork.org/xapi/training-sessions/"
ACCOUNT_HOME = "https://platform.betterwork.org/accounts"


@dataclass(frozen=True)
class Statement:
    """What advisory keeps of an xAPI statement: who (an account), which session, what verb, what result."""

    id: uuid.UUID
    account: str
    session_id: uuid.UUID
    verb: str
    completion: bool | None
    success: bool | None
    score: Decimal | None  # 0 to 100, from result.score.scaled


def read_statement(raw: dict[str, Any]) -> Statement:
    """Validate one xAPI statement (TrainingRuleError with the reason when it is not acceptable)."""
    try:
        statement_id = uuid.UUID(str(raw["id"]))
    except (KeyError, ValueError) as exc:
        raise TrainingRuleError("a statement needs an id (a UUID); imports are idempotent by it") from exc
    actor = raw.get("actor") or {}
    if "mbox" in actor or "mbox_sha1sum" in actor:
        raise TrainingRuleError("actors are identified by an account, never an e-mail address")
    account = (actor.get("account") or {}).get("name")
    if not isinstance(account, str) or not account:
        raise TrainingRuleError("the actor needs an account name")
    check_account(account)
    verb = (raw.get("verb") or {}).get("id")
    if verb not in VERBS:
        raise TrainingRuleError(f"verb {verb!r} is not one advisory records")
    object_id = str((raw.get("object") or {}).get("id") or "")
    if not object_id.startswith(SESSION_IRI):
        raise TrainingRuleError(f"the object is not a training session ({SESSION_IRI}<id>)")
    try:
        session_id = uuid.UUID(object_id.removeprefix(SESSION_IRI))
    except ValueError as exc:
        raise TrainingRuleError("the object's session id is not a UUID") from exc
    result = raw.get("result") or {}
    scaled = (result.get("score") or {}).get("scaled")
    if scaled is not None and not (isinstance(scaled, int | float) and -1 <= scaled <= 1):
        raise TrainingRuleError("result.score.scaled lies between -1 and 1")
    completion = result.get("completion")
    success = result.get("success")
    if verb == VERB_COMPLETED and completion is None:
        completion = True
    if verb in (VERB_PASSED, VERB_FAILED) and success is None:
        success = verb == VERB_PASSED
    return Statement(
        id=statement_id,
        account=account,
        session_id=session_id,
        verb=verb,
        completion=completion if isinstance(completion, bool) else None,
        success=success if isinstance(success, bool) else None,
        score=(Decimal(str(scaled)) * 100).quantize(Decimal("0.01")) if scaled is not None else None,
    )


def statement_for(
    statement_id: uuid.UUID,
    *,
    account: str,
    session_id: uuid.UUID,
    course_title: str,
    outcome: Outcome,
    score: Decimal | None,
    timestamp: str,
) -> dict[str, Any]:
    """An xAPI statement of a participant's outcome in a session (for export)."""
    verb = VERB_WAIVED if outcome.waived_reason else VERB_COMPLETED if outcome.completed else VERB_ATTENDED
    result: dict[str, Any] = {"completion": outcome.completed}
    if outcome.passed is not None:
        result["success"] = outcome.passed
    if score is not None:
        result["score"] = {"scaled": float(score / 100)}
    return {
        "id": str(statement_id),
        "actor": {"objectType": "Agent", "account": {"homePage": ACCOUNT_HOME, "name": account}},
        "verb": {"id": verb},
        "object": {
            "objectType": "Activity",
            "id": f"{SESSION_IRI}{session_id}",
            "definition": {"name": {"en": course_title}},
        },
        "result": result,
        "timestamp": timestamp,
    }
