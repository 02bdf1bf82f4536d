"""What transparency does with other services' events: each becomes a fact in the log (the input of releases),
and the registry's factories are also kept as a versioned read model (who may reply for which factory).

Handlers are thin; the fact is recorded once (a redelivery finds its source id already there)."""

from __future__ import annotations

from typing import Any

from betterwork_contracts.events.advisory import ImprovementItemStatusChanged
from betterwork_contracts.events.assessments import AssessmentCyclesRenumbered, AssessmentFinalised, AssessmentRevised
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.envelope import Envelope
from messaging.read_model import Apply
from servicekit.database import UnitOfWork
from transparency.adapters import facts
from transparency.domain import facts as kinds

_PROFILE = ("province", "sector", "workers_total")


async def factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    values = {"name": event.name, "country": event.country, "status": "registered"}
    if await facts.FACTORIES.register(uow.session, event.factory_id, event.version, values) is Apply.APPLY:
        profile = event.profile
        payload: dict[str, Any] = {"factory_id": str(event.factory_id), "name": event.name, "country": event.country}
        payload.update({f: getattr(profile, f) if profile else None for f in _PROFILE})
        await _record(
            uow,
            f"registry:{event.factory_id}:{event.version}",
            kinds.FACTORY_REGISTERED,
            event.country,
            event.registered_at,
            payload,
        )


async def factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    changes = event.changes
    values = {"name": changes.name} if changes.name else {}
    if await facts.FACTORIES.apply(uow.session, event.factory_id, event.version, values) is Apply.APPLY:
        payload: dict[str, Any] = {"factory_id": str(event.factory_id), "cleared": list(changes.cleared)}
        payload.update({f: getattr(changes, f) for f in ("name", *_PROFILE) if getattr(changes, f) is not None})
        await _record(
            uow,
            f"registry:{event.factory_id}:{event.version}",
            kinds.FACTORY_UPDATED,
            event.country,
            event.updated_at,
            payload,
        )


async def factory_status_changed(uow: UnitOfWork, event: FactoryStatusChanged, envelope: Envelope) -> None:
    if (
        await facts.FACTORIES.apply(uow.session, event.factory_id, event.version, {"status": event.status})
        is Apply.APPLY
    ):
        await _record(
            uow,
            f"registry:{event.factory_id}:{event.version}",
            kinds.FACTORY_STATUS,
            event.country,
            event.changed_at,
            {"factory_id": str(event.factory_id), "status": event.status},
        )


async def factory_merged(uow: UnitOfWork, event: FactoryMerged, envelope: Envelope) -> None:
    values = {"merged_into": event.survivor_id}
    if await facts.FACTORIES.apply(uow.session, event.factory_id, event.version, values) is Apply.APPLY:
        await _record(
            uow,
            f"registry:{event.factory_id}:{event.version}",
            kinds.FACTORY_MERGED,
            event.country,
            event.merged_at,
            {"factory_id": str(event.factory_id), "survivor_id": str(event.survivor_id)},
        )


async def assessment_finalised(uow: UnitOfWork, event: AssessmentFinalised, envelope: Envelope) -> None:
    """Only finalised findings are ever published (a released report may still change in its comment period)."""
    payload = {
        "assessment_id": str(event.assessment_id),
        "factory_id": str(event.factory_id),
        "country": event.country,
        "cycle": event.cycle,
        "assessed_on": (event.last_visit_day or event.finalised_at.date()).isoformat(),
        "results": [
            {
                "question_code": r.question_code,
                "compliance_point": r.compliance_point,
                "cluster": r.cluster,
                "result": r.result,
                "publicly_reported": r.publicly_reported,
            }
            for r in event.results
        ],
    }
    await _record(
        uow, f"finalised:{event.assessment_id}", kinds.ASSESSMENT_FINALISED, event.country, event.finalised_at, payload
    )


async def cycles_renumbered(uow: UnitOfWork, event: AssessmentCyclesRenumbered, envelope: Envelope) -> None:
    """After a merge: the survivor's history under the cycle numbers assessments gave it (a fact, so releases
    computed from the log stay reproducible)."""
    payload = {
        "factory_id": str(event.factory_id),
        "retired_id": str(event.retired_id),
        "moves": [m.model_dump(mode="json") for m in event.moves],
    }
    await _record(
        uow, f"renumbered:{event.retired_id}", kinds.CYCLES_RENUMBERED, event.country, event.renumbered_at, payload
    )


async def assessment_revised(uow: UnitOfWork, event: AssessmentRevised, envelope: Envelope) -> None:
    payload = {"assessment_id": str(event.assessment_id), "question_code": event.question_code, "result": event.result}
    await _record(
        uow,
        f"revised:{event.assessment_id}:{event.question_code}:{event.revision}",
        kinds.ASSESSMENT_REVISED,
        event.country,
        event.revised_at,
        payload,
    )


async def improvement_item_changed(uow: UnitOfWork, event: ImprovementItemStatusChanged, envelope: Envelope) -> None:
    """Only items on a question matter here: a verified fix of a published issue shows on the portal."""
    if event.question_code is None:
        return
    payload = {"factory_id": str(event.factory_id), "question_code": event.question_code, "status": event.status}
    await _record(
        uow,
        f"item:{event.item_id}:{event.status}:{event.changed_at.isoformat()}",
        kinds.ITEM_STATUS,
        event.country,
        event.changed_at,
        payload,
    )


async def _record(uow: UnitOfWork, source_id: str, kind: str, country: str, at: Any, payload: dict[str, Any]) -> None:
    await facts.record(uow.session, source_id=source_id, kind=kind, country=country, at=at, payload=payload)
