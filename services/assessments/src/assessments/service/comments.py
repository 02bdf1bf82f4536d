"""The factory's comment period: the factory comments on findings of its released report while the period runs,
or waives what is left of it (the assessment is then finalised at once; see `scheduling.waive_comment_period`
and the sweep `scheduling.finalise_ended_comment_periods`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from assessments.adapters.assessments import AssessmentRepository
from assessments.adapters.findings import FindingRepository
from assessments.domain.assessment import FactoryComment
from assessments.domain.lifecycle import VISIBLE_TO_FACTORY
from assessments.service.report_access import is_own_factory
from assessments.service.scheduling import load
from betterwork_contracts.events.assessments import AssessmentCommentReceived
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict, NotFound


async def comment(
    uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID, question_code: str, text: str
) -> FactoryComment:
    """The factory's comment on one finding, while its comment period runs (409 before or after)."""
    assessments = AssessmentRepository(uow.session)
    assessment = await load(assessments, assessment_id)
    if not is_own_factory(principal, assessment) or assessment.status not in VISIBLE_TO_FACTORY:
        raise NotFound(f"No assessment {assessment_id}.")
    now = datetime.now(UTC)
    if not assessment.comment_period_open(now):
        raise Conflict(
            "The factory comments while its comment period runs"
            + (f" (it ended {assessment.comment_period_ends.isoformat()})." if assessment.comment_period_ends else "."),
            current_status=assessment.status.value,
        )
    if await FindingRepository(uow.session).load(assessment_id, question_code) is None:
        raise NotFound(f"Assessment {assessment_id} has no finding on {question_code}.")
    made = FactoryComment(assessment_id, question_code, text, principal.subject, now)
    comment_id = await assessments.add_comment(made)
    await assessments.audit(
        principal,
        action="assessment.factory_commented",
        assessment_id=assessment_id,
        details={"question_code": question_code},
    )
    uow.emit(
        AssessmentCommentReceived(
            assessment_id=assessment_id,
            factory_id=assessment.factory_id,
            country=assessment.country,
            cycle=assessment.cycle,
            question_code=question_code,
            commented_at=now,
            comment_period_ends=assessment.comment_period_ends,
        ),
        country=assessment.country,
    )
    await uow.commit()
    return FactoryComment(assessment_id, question_code, text, principal.subject, now, comment_id)


async def comments(uow: UnitOfWork, *, principal: Principal, assessment_id: uuid.UUID) -> list[FactoryComment]:
    """The factory's comments, oldest first: staff of the country and the factory itself (404 for anyone else)."""
    assessment = await load(AssessmentRepository(uow.session), assessment_id)
    own = is_own_factory(principal, assessment) and assessment.status in VISIBLE_TO_FACTORY
    if not (own or principal.is_staff_of(assessment.country)):
        raise NotFound(f"No assessment {assessment_id}.")
    return await AssessmentRepository(uow.session).comments(assessment_id)
