"""Use cases of training: the catalogue per country, sessions, pseudonymous participants (factory or brand
staff), attendance and completion by the course's rule, evaluation, training days used against the country's
entitlement, and xAPI import (idempotent by statement id) and export of e-learning completions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from advisory.adapters import references
from advisory.adapters import training as store
from advisory.adapters.plans import PlanRepository
from advisory.domain import training as rules
from advisory.domain.committee import Sex, count_by_sex
from advisory.domain.training import CompletionRule, Outcome, SessionMode, TrainingRuleError
from advisory.service import country_pack
from advisory.service.access import is_own_factory
from advisory.service.plans import now
from advisory.settings import AdvisorySettings
from betterwork_contracts.events.advisory import TrainingSessionDelivered
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound, Unprocessable

MAX_STATEMENTS = 2000


def _staff_country(principal: Principal, country: str | None = None) -> str:
    """The country the staff caller acts for (404 when it is not `country`)."""
    acting = principal.staff_country or (country if principal.is_admin else None)
    if acting is None or (country is not None and acting != country):
        raise NotFound("No such object.")
    return acting


async def create_course(uow: UnitOfWork, *, principal: Principal, row: dict[str, Any]) -> dict[str, Any]:
    country = _staff_country(principal, row["country"])
    if row["completion_rule"] in (CompletionRule.PASSED, CompletionRule.COMPLETED_AND_PASSED) and (
        row.get("pass_score") is None
    ):
        raise Unprocessable("A course completed by passing needs a pass score.")
    course = {**row, "id": uuid.uuid4(), "country": country, "created_at": now()}
    if not await store.add_course(uow.session, course):
        raise Conflict(f"Course {row['code']} exists in {country}.")
    await PlanRepository(uow.session).audit(
        principal, action="course.created", entity_type="course", entity_id=course["id"]
    )
    await uow.commit()
    return (await store.course(uow.session, course["id"])) or course


async def courses(uow: UnitOfWork, *, country: str) -> list[dict[str, Any]]:
    """The catalogue is no secret: any authenticated caller reads it."""
    return await store.courses(uow.session, country)


async def create_session(
    uow: UnitOfWork,
    *,
    principal: Principal,
    course_id: uuid.UUID,
    factory_id: uuid.UUID | None,
    session_date: date,
    language: str,
    trainer_organisation: str,
    mode: SessionMode,
) -> dict[str, Any]:
    course = await store.course(uow.session, course_id)
    if course is None:
        raise NotFound(f"No course {course_id}.")
    country = _staff_country(principal, course["country"])
    if language not in course["languages"]:
        raise Unprocessable(f"The course is given in {', '.join(course['languages'])}, not {language}.")
    if factory_id is not None:
        factory = await references.factory(uow.session, factory_id)
        if factory is None or factory.country != country:
            raise Unprocessable(f"Factory {factory_id} is not known in {country}.")
        references.check_live(factory, factory_id)
    if mode is SessionMode.IN_FACTORY and factory_id is None:
        raise Unprocessable("An in-factory session names its factory.")
    new_id = uuid.uuid4()
    row: dict[str, Any] = {
        "id": new_id,
        "course_id": course_id,
        "country": country,
        "factory_id": factory_id,
        "session_date": session_date,
        "language": language,
        "trainer_organisation": trainer_organisation,
        "mode": mode.value,
        "created_at": now(),
        "created_by": principal.subject,
    }
    await store.add_session(uow.session, row)
    await PlanRepository(uow.session).audit(
        principal, action="training_session.created", entity_type="training_session", entity_id=new_id
    )
    await uow.commit()
    return (await store.training_session(uow.session, new_id)) or row


async def _readable_session(
    uow: UnitOfWork, principal: Principal, session_id: uuid.UUID, *, for_update: bool = False
) -> dict[str, Any]:
    found = await store.training_session(uow.session, session_id, for_update=for_update)
    if found is None:
        raise NotFound(f"No training session {session_id}.")
    own = found["factory_id"] is not None and is_own_factory(principal, found["factory_id"])
    if not (principal.is_staff_of(found["country"]) or own):
        raise NotFound(f"No training session {session_id}.")
    return found


async def _staff_session(uow: UnitOfWork, principal: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    found = await _readable_session(uow, principal, session_id, for_update=True)
    if not principal.is_staff_of(found["country"]):
        raise NotFound(f"No training session {session_id}.")
    return found


@dataclass(frozen=True)
class ParticipantIn:
    account: str
    role: str
    sex: Sex
    nationality: str | None
    migrant: bool
    factory_id: uuid.UUID | None
    buyer_id: uuid.UUID | None


async def register_participant(
    uow: UnitOfWork, *, principal: Principal, country: str, new: ParticipantIn
) -> dict[str, Any]:
    """Staff of the country register anyone; a factory registers its own workers and managers."""
    try:
        rules.check_account(new.account)
    except TrainingRuleError as exc:
        raise Unprocessable(str(exc)) from exc
    if (new.factory_id is None) == (new.buyer_id is None):
        raise Unprocessable("A participant belongs to a factory or to a brand.")
    own = new.factory_id is not None and is_own_factory(principal, new.factory_id)
    if not (principal.is_staff_of(country) or own):
        raise NotFound("No such factory.")
    if new.factory_id is not None:
        factory = await references.factory(uow.session, new.factory_id)
        if factory is None or factory.country != country:
            raise Unprocessable(f"Factory {new.factory_id} is not known in {country}.")
        references.check_live(factory, new.factory_id)
    row = {**new.__dict__, "sex": new.sex.value, "id": uuid.uuid4(), "country": country, "created_at": now()}
    if not await store.add_participant(uow.session, row):
        raise Conflict(f"Account {new.account} is registered in {country} already.")
    await PlanRepository(uow.session).audit(
        principal, action="participant.registered", entity_type="participant", entity_id=row["id"]
    )
    await uow.commit()
    return row


async def enrol(
    uow: UnitOfWork, *, principal: Principal, session_id: uuid.UUID, participant_ids: list[uuid.UUID]
) -> int:
    found = await _staff_session(uow, principal, session_id)
    known = await store.participants(uow.session, participant_ids)
    strangers = [p for p in participant_ids if p not in known or known[p]["country"] != found["country"]]
    if strangers:
        raise Unprocessable(f"{len(strangers)} participant(s) are not registered in {found['country']}.")
    added = await store.enrol(uow.session, session_id, participant_ids, now())
    await uow.commit()
    return added


async def record_outcomes(
    uow: UnitOfWork, *, principal: Principal, session_id: uuid.UUID, outcomes: list[dict[str, Any]]
) -> None:
    """Attendance, completion, scores, evaluations of enrolled participants (a pass follows the pass score)."""
    found = await _staff_session(uow, principal, session_id)
    enrolled = await store.enrolled_ids(uow.session, session_id)
    if any(o["participant_id"] not in enrolled for o in outcomes):
        raise Unprocessable("Outcomes are recorded for enrolled participants only.")
    at = now()
    rows = []
    for o in outcomes:
        passed = o.get("passed")
        if passed is None:
            passed = rules.passed_by_score(o.get("score"), found["pass_score"])
        rows.append({**o, "session_id": session_id, "passed": passed, "updated_at": at})
    await store.record_outcomes(uow.session, rows)
    await PlanRepository(uow.session).audit(
        principal,
        action="training_session.outcomes_recorded",
        entity_type="training_session",
        entity_id=session_id,
        details={"participants": len(rows)},
    )
    await uow.commit()


async def deliver(uow: UnitOfWork, *, principal: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    """The session took place: publish it with its attendance split by sex (409 if it was delivered already)."""
    found = await _staff_session(uow, principal, session_id)
    if found["delivered_at"] is not None:
        raise Conflict("The session was delivered already.")
    at = now()
    await store.mark_delivered(uow.session, session_id, at)
    attended = count_by_sex([Sex(e["sex"]) for e in await store.enrolments(uow.session, session_id) if e["attended"]])
    await PlanRepository(uow.session).audit(
        principal, action="training_session.delivered", entity_type="training_session", entity_id=session_id
    )
    uow.emit(
        TrainingSessionDelivered(
            session_id=session_id,
            course_code=found["course_code"],
            country=found["country"],
            factory_id=found["factory_id"],
            session_date=found["session_date"],
            mode=found["mode"],
            participants_women=attended.women,
            participants_men=attended.men,
            participants_other=attended.other,
            delivered_at=at,
        ),
        country=found["country"],
    )
    await uow.commit()
    return await summary(uow, principal=principal, session_id=session_id)


async def summary(uow: UnitOfWork, *, principal: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    """The session with enrolled, attended and completed (by the course's rule) participants, each split by sex,
    and the average evaluation. Participants appear by account only."""
    found = await _readable_session(uow, principal, session_id)
    rule = CompletionRule(found["completion_rule"])
    people = await store.enrolments(uow.session, session_id)

    def split(rows: list[dict[str, Any]]) -> dict[str, int]:
        by = count_by_sex([Sex(r["sex"]) for r in rows])
        return {"women": by.women, "men": by.men, "other": by.other, "total": by.total}

    completed = [p for p in people if rules.satisfied(rule, _outcome(p))]
    evaluations = [p["evaluation"] for p in people if p["evaluation"] is not None]
    return {
        **{k: found[k] for k in ("id", "course_id", "course_code", "course_title", "country", "factory_id")},
        **{k: found[k] for k in ("session_date", "language", "trainer_organisation", "mode", "delivered_at")},
        "completion_rule": rule.value,
        "hours": found["hours"],
        "enrolled": split(people),
        "attended": split([p for p in people if p["attended"]]),
        "completed": split(completed),
        "attendance_rate": round(sum(1 for p in people if p["attended"]) / len(people), 4) if people else None,
        "average_evaluation": round(sum(evaluations) / len(evaluations), 2) if evaluations else None,
        "participants": [
            {
                "participant_id": p["participant_id"],
                "account": p["account"],
                "role": p["role"],
                "sex": p["sex"],
                "migrant": p["migrant"],
                "attended": p["attended"],
                "completed": p["completed"],
                "passed": p["passed"],
                "score": p["score"],
                "evaluation": p["evaluation"],
                "waived_reason": p["waived_reason"],
                "counts_as_completed": rules.satisfied(rule, _outcome(p)),
            }
            for p in people
        ],
    }


def _outcome(row: dict[str, Any]) -> Outcome:
    return Outcome(row["attended"], row["completed"], row["passed"], row["waived_reason"])


async def factory_training(
    uow: UnitOfWork, *, principal: Principal, settings: AdvisorySettings, factory_id: uuid.UUID, year: int
) -> dict[str, Any]:
    """Training days entitled (the country's figure) and used in `year`, and attendance split by sex."""
    factory = await references.factory(uow.session, factory_id)
    if factory is None or not (principal.is_staff_of(factory.country) or is_own_factory(principal, factory_id)):
        raise NotFound(f"No factory {factory_id}.")
    figures = await store.factory_year(uow.session, factory.factory_id, year)
    return {
        "factory_id": factory.factory_id,
        "year": year,
        "entitled_days": country_pack.entitled_days(settings, factory.country),
        "used_days": rules.days(figures["hours"]),
        "attended": {
            "women": figures["attended_women"],
            "men": figures["attended_men"],
            "other": figures["attended_other"],
            "total": figures["attended_women"] + figures["attended_men"] + figures["attended_other"],
        },
    }


async def country_figures(uow: UnitOfWork, *, principal: Principal, country: str, year: int) -> dict[str, Any]:
    """The country's training in `year` per topic: sessions delivered, people attended and completed (by each
    course's rule), all split by sex. Aggregates only: staff of the country and its constituents."""
    constituent = Role.CONSTITUENT in principal.roles and principal.country == country
    if not (principal.is_staff_of(country) or constituent):
        raise NotFound(f"No figures for {country}.")
    rows = await store.country_outcomes(uow.session, country, year)
    topics: dict[str, dict[str, Any]] = {}
    for topic in sorted({r["topic"] for r in rows}):
        of_topic = [r for r in rows if r["topic"] == topic]
        attended = [r for r in of_topic if r["attended"]]
        completed = [r for r in of_topic if rules.satisfied(CompletionRule(r["completion_rule"]), _outcome(r))]
        topics[topic] = {
            "sessions": len({r["session_id"] for r in of_topic}),
            "attended": _split(attended),
            "completed": _split(completed),
        }
    return {"country": country, "year": year, "topics": topics}


def _split(rows: list[dict[str, Any]]) -> dict[str, int]:
    by = count_by_sex([Sex(r["sex"]) for r in rows])
    return {"women": by.women, "men": by.men, "other": by.other, "total": by.total}


# ---- xAPI ----------------------------------------------------------------------------------------------------------


async def import_statements(
    uow: UnitOfWork, *, principal: Principal, statements: list[dict[str, Any]]
) -> dict[str, Any]:
    """Store each statement once (by its id) and apply what it says to the participant's enrolment; a repeat
    changes nothing. Statements that cannot be read, or name an unknown account or session, are rejected one by
    one with a reason; the rest are accepted."""
    if Role.SERVICE in principal.roles and not principal.is_admin:
        country = principal.country or ""
    else:
        country = _staff_country(principal)
    if len(statements) > MAX_STATEMENTS:
        raise Unprocessable(f"At most {MAX_STATEMENTS} statements per request.")
    read: list[tuple[rules.Statement, dict[str, Any]]] = []
    rejected: list[dict[str, Any]] = []
    for raw in statements:
        try:
            read.append((rules.read_statement(raw), raw))
        except TrainingRuleError as exc:
            rejected.append({"id": raw.get("id") if isinstance(raw, dict) else None, "reason": str(exc)})
    accounts = await store.participants_by_account(uow.session, country, [s.account for s, _ in read])
    sessions = await store.sessions_by_ids(uow.session, list({s.session_id for s, _ in read}))
    at = now()
    rows: list[dict[str, Any]] = []
    usable: dict[uuid.UUID, rules.Statement] = {}
    for statement, raw in read:
        if statement.account not in accounts:
            rejected.append({"id": str(statement.id), "reason": f"no participant with account {statement.account}"})
            continue
        found = sessions.get(statement.session_id)
        if found is None or found["country"] != country:
            rejected.append({"id": str(statement.id), "reason": f"no training session {statement.session_id}"})
            continue
        if statement.id in usable:
            continue
        usable[statement.id] = statement
        rows.append(
            {
                "id": statement.id,
                "session_id": statement.session_id,
                "participant_id": accounts[statement.account],
                "verb": statement.verb,
                "completion": statement.completion,
                "success": statement.success,
                "score": statement.score,
                "at": _timestamp(raw.get("timestamp"), at),
                "stored_at": at,
                "statement": raw,
            }
        )
    new = await store.add_statements(uow.session, rows)
    outcomes = _outcomes([r for r in rows if r["id"] in new], sessions, at)
    await store.record_outcomes(uow.session, outcomes)
    if new:
        await PlanRepository(uow.session).audit(
            principal,
            action="xapi.imported",
            entity_type="xapi_import",
            entity_id=uuid.uuid4(),
            details={"accepted": len(new), "repeats": len(rows) - len(new), "rejected": len(rejected)},
        )
    await uow.commit()
    return {"accepted": len(new), "repeats": len(rows) - len(new), "rejected": rejected}


def _timestamp(value: Any, default: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return default
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _outcomes(
    rows: list[dict[str, Any]], sessions: dict[uuid.UUID, dict[str, Any]], at: datetime
) -> list[dict[str, Any]]:
    """One enrolment row per (session, participant), folding the statements in the order they happened: an
    e-learning completion also counts as attendance."""
    folded: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: r["at"]):
        key = (r["session_id"], r["participant_id"])
        o = folded.setdefault(
            key,
            {
                "session_id": key[0],
                "participant_id": key[1],
                "attended": True,
                "completed": False,
                "passed": None,
                "score": None,
                "evaluation": None,
                "waived_reason": None,
                "updated_at": at,
            },
        )
        if r["completion"]:
            o["completed"] = True
        if r["score"] is not None:
            o["score"] = r["score"]
        if r["success"] is not None:
            o["passed"] = r["success"]
        elif r["score"] is not None:
            o["passed"] = rules.passed_by_score(r["score"], sessions[key[0]]["pass_score"])
        if r["verb"] == rules.VERB_WAIVED:
            o["waived_reason"] = "waived by the learning record store"
    return list(folded.values())


async def export_statements(uow: UnitOfWork, *, principal: Principal, session_id: uuid.UUID) -> list[dict[str, Any]]:
    """Each participant's outcome in the session as an xAPI statement; one that came in as a statement keeps
    that statement's id, one recorded by hand gets a stable id (a UUID5 of session and participant)."""
    found = await _readable_session(uow, principal, session_id)
    received = await store.statements_of(uow.session, session_id)
    out = []
    for p in await store.enrolments(uow.session, session_id):
        statement_id = received.get(p["participant_id"]) or uuid.uuid5(session_id, str(p["participant_id"]))
        out.append(
            rules.statement_for(
                statement_id,
                account=p["account"],
                session_id=session_id,
                course_title=found["course_title"],
                outcome=_outcome(p),
                score=Decimal(p["score"]) if p["score"] is not None else None,
                timestamp=p["updated_at"].isoformat(),
            )
        )
    return out
