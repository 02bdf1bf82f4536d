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


def asking_buyer(principal: Principal) -> uuid.UUID | None:
    """The buyer the caller acts for, if it is one (its grant may decide what it reads)."""
    if Role.BUYER not in principal.roles or not principal.organisation_id:
        return None
    try:
        return uuid.UUID(principal.organisation_id)
    except ValueError:
        return None


def may_read_given(principal: Principal, assessment: Assessment, *, buyer_granted: bool) -> bool:
    """Staff of the country always; the factory once released; a buyer once released and granted access
    (`buyer_granted`: the projection's decision for this buyer, factory and cycle)."""
    if principal.is_staff_of(assessment.country):
        return True
    if assessment.status not in VISIBLE_TO_FACTORY:
        return False
    if is_own_factory(principal, assessment):
        return True
    return asking_buyer(principal) is not None and buyer_granted


async def may_read_report(uow: UnitOfWork, principal: Principal, assessment: Assessment) -> bool:
    """As `may_read_given`, reading the buyer's grant from the projection."""
    buyer = asking_buyer(principal)
    granted = buyer is not None and await report_access.granted(
        uow.session, buyer_id=buyer, factory_id=assessment.factory_id, cycle=assessment.cycle
    )
    return may_read_given(principal, assessment, buyer_granted=granted)


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
