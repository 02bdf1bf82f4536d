"""Who may read an assessment's report, and the projection of the partnerships service's decisions that
lets a buyer read one."""

from __future__ import annotations

import uuid

from assessments.adapters import report_access
from assessments.domain.assessment import Assessment
from assessments.domain.lifecycle import VISIBLE_TO_FACTORY
from betterwork_contracts.events.partnerships import ReportAccessGranted, ReportAccessRevoked
from messaging.envelope import Envelope
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork


def is_own_factory(principal: Principal, assessment: Assessment) -> bool:
    return Role.FACTORY in principal.roles and principal.organisation_id == str(assessment.factory_id)


def shows_evidence(principal: Principal, assessment: Assessment) -> bool:
    """Evidence notes are for staff of the country only: they may name workers ("Worker Dara, 14, line 3"), and
    showing them to factory management risks retaliation. The factory reads each finding's explanation."""
    return principal.is_staff_of(assessment.country)


async def may_read_report(uow: UnitOfWork, principal: Principal, assessment: Assessment) -> bool:
    """Staff of the country always; the factory once released; a buyer once released and granted access."""
    if principal.is_staff_of(assessment.country):
        return True
    if assessment.status not in VISIBLE_TO_FACTORY:
        return False
    if is_own_factory(principal, assessment):
        return True
    if Role.BUYER in principal.roles and principal.organisation_id:
        try:
            buyer = uuid.UUID(principal.organisation_id)
        except ValueError:
            return False
        return await report_access.granted(
            uow.session, buyer_id=buyer, factory_id=assessment.factory_id, cycle=assessment.cycle
        )
    return False


async def record_access_granted(uow: UnitOfWork, event: ReportAccessGranted, envelope: Envelope) -> None:
    await _record(uow, event, granted=True)


async def record_access_revoked(uow: UnitOfWork, event: ReportAccessRevoked, envelope: Envelope) -> None:
    await _record(uow, event, granted=False)


async def _record(uow: UnitOfWork, event: ReportAccessGranted | ReportAccessRevoked, *, granted: bool) -> None:
    """The latest decision per buyer, factory and cycle wins (an older one never overrides a newer)."""
    await report_access.record(
        uow.session,
        buyer_id=event.buyer_id,
        factory_id=event.factory_id,
        cycle=event.cycle,
        granted=granted,
        at=event.decided_at,
    )
