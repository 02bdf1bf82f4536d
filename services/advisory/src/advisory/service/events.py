"""What advisory does with other services' events: plans from released assessments, items from zero-tolerance
cases, its copy of the registry's factories, and partnerships' report-access decisions. Each handler is thin:
it translates the event into the use case an HTTP call would run."""

from __future__ import annotations

from typing import Any

from advisory.adapters import references
from advisory.service import plans
from betterwork_contracts.events.assessments import (
    AssessmentCyclesRenumbered,
    AssessmentFinalised,
    AssessmentReleased,
    ZeroToleranceCaseOpened,
)
from betterwork_contracts.events.partnerships import ProgressReportAccessGranted, ProgressReportAccessRevoked
from betterwork_contracts.events.registry import FactoryMerged, FactoryRegistered, FactoryStatusChanged, FactoryUpdated
from messaging.envelope import Envelope
from messaging.read_model import Apply
from servicekit.database import UnitOfWork

_WORKFORCE = ("workers_total", "workers_women", "workers_men")


async def assessment_released(uow: UnitOfWork, event: AssessmentReleased, envelope: Envelope) -> None:
    findings = plans.ReleasedFindings(
        assessment_id=event.assessment_id,
        factory_id=event.factory_id,
        country=event.country,
        cycle=event.cycle,
        released_on=event.released_at.date(),
        non_compliances=event.non_compliances,
    )
    await plans.plan_from_findings(uow, findings)


async def assessment_finalised(uow: UnitOfWork, event: AssessmentFinalised, envelope: Envelope) -> None:
    """Finalisation repeats the release's non-compliances: only what a revision added becomes a new item."""
    findings = plans.ReleasedFindings(
        assessment_id=event.assessment_id,
        factory_id=event.factory_id,
        country=event.country,
        cycle=event.cycle,
        released_on=event.finalised_at.date(),
        non_compliances=event.non_compliances,
    )
    await plans.plan_from_findings(uow, findings)


async def case_opened(uow: UnitOfWork, event: ZeroToleranceCaseOpened, envelope: Envelope) -> None:
    await plans.case_opened(
        uow,
        references.CaseRef(
            case_id=event.case_id,
            factory_id=event.factory_id,
            country=event.country,
            category=event.category,
            opened_at=event.opened_at,
        ),
    )


async def factory_registered(uow: UnitOfWork, event: FactoryRegistered, envelope: Envelope) -> None:
    profile = event.profile
    values: dict[str, Any] = {"name": event.name, "country": event.country, "status": "registered"}
    values.update({f: getattr(profile, f) if profile else None for f in _WORKFORCE})
    await references.FACTORIES.register(uow.session, event.factory_id, event.version, values)


async def factory_updated(uow: UnitOfWork, event: FactoryUpdated, envelope: Envelope) -> None:
    changes = event.changes
    values: dict[str, Any] = {f: getattr(changes, f) for f in ("name", *_WORKFORCE) if getattr(changes, f) is not None}
    values.update({f: None for f in changes.cleared if f in _WORKFORCE})
    await references.FACTORIES.apply(uow.session, event.factory_id, event.version, values)


async def factory_status_changed(uow: UnitOfWork, event: FactoryStatusChanged, envelope: Envelope) -> None:
    await references.FACTORIES.apply(uow.session, event.factory_id, event.version, {"status": event.status})


async def factory_merged(uow: UnitOfWork, event: FactoryMerged, envelope: Envelope) -> None:
    """The retired factory's committee, visits, sessions, participants and cases move to the survivor (plans and
    report access with `cycles_renumbered`; issued progress reports stay as issued)."""
    applied = await references.FACTORIES.apply(
        uow.session, event.factory_id, event.version, {"merged_into": event.survivor_id}
    )
    if applied is Apply.APPLY:
        await plans.factory_merged(uow, retired=event.factory_id, survivor=event.survivor_id, country=event.country)


async def cycles_renumbered(uow: UnitOfWork, event: AssessmentCyclesRenumbered, envelope: Envelope) -> None:
    """After a merge, the plans and report access of both factories follow the cycles assessments numbered."""
    moves = {(m.factory_id, m.from_cycle): m.to_cycle for m in event.moves}
    await plans.cycles_renumbered(
        uow, retired=event.retired_id, survivor=event.factory_id, country=event.country, moves=moves
    )


async def access_granted(uow: UnitOfWork, event: ProgressReportAccessGranted, envelope: Envelope) -> None:
    """partnerships decided the buyer may read the cycle's progress reports (scope `progress_reports`)."""
    await references.record_access(
        uow.session,
        buyer_id=event.buyer_id,
        factory_id=event.factory_id,
        cycle=event.cycle,
        granted=True,
        at=event.decided_at,
    )


async def access_revoked(uow: UnitOfWork, event: ProgressReportAccessRevoked, envelope: Envelope) -> None:
    await references.record_access(
        uow.session,
        buyer_id=event.buyer_id,
        factory_id=event.factory_id,
        cycle=event.cycle,
        granted=False,
        at=event.decided_at,
    )
