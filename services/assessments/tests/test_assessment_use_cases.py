"""Assessments use cases driven with a fake repository and unit of work: no database (cosmicpython's unit tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from assessments.domain import assessment as rules
from assessments.domain.assessment import Assessment, Plan, Transition
from assessments.domain.lifecycle import AssessmentType, Mode, Status
from assessments.service import scheduling
from servicekit.auth import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict

pytestmark = pytest.mark.asyncio

STAFF = Principal(subject="ea-dara", roles=frozenset({Role.STAFF}), country="KH")


class FakeAssessments:
    """`AssessmentRepository` over a dict: what was saved, moved and audited stays readable by the test."""

    def __init__(self, *assessments: Assessment) -> None:
        self.stored = {a.id: a for a in assessments}
        self.moves: list[Transition] = []
        self.audit_trail: list[tuple[str, uuid.UUID, str | None]] = []

    async def load(self, assessment_id: uuid.UUID, *, for_update: bool = False) -> Assessment | None:
        return self.stored.get(assessment_id)

    async def save(self, assessment: Assessment) -> None:
        self.stored[assessment.id] = assessment

    async def add_transition(self, transition: Transition) -> None:
        self.moves.append(transition)

    async def worked_on(self, assessment_id: uuid.UUID) -> frozenset[str]:
        return frozenset(t.by_subject for t in self.moves if t.to_status is Status.DRAFT_SUBMITTED)

    async def audit(
        self,
        actor: Principal,
        *,
        action: str,
        assessment_id: uuid.UUID,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.audit_trail.append((action, assessment_id, reason))


class FakeUnitOfWork(UnitOfWork):
    """No database behind it: emitted events wait in `emitted` and count as sent once `commit` ran."""

    def __init__(self) -> None:
        self.emitted: list[Any] = []
        self.sent: list[Any] = []
        self.committed = 0

    @property
    def session(self) -> AsyncSession:
        raise AssertionError("the use case reached past its repository to the database")

    def emit(self, event: Any, **attributes: Any) -> None:
        self.emitted.append(event)

    async def commit(self) -> None:
        self.sent, self.emitted = [*self.sent, *self.emitted], []
        self.committed += 1


def scheduled() -> Assessment:
    plan = Plan(
        factory_id=uuid.uuid4(),
        assessment_type=AssessmentType.INITIAL,
        mode=Mode.UNANNOUNCED,
        joint=False,
        inspectors=(),
        team=("ea-dara",),
        start_date=date(2026, 11, 2),
        end_date=date(2026, 11, 3),
    )
    return rules.schedule(
        plan, country="KH", cycle=1, tool_version_id=uuid.uuid4(), by="ea-dara", now=datetime.now(UTC)
    )


async def test_starting_the_visit_saves_the_next_version_records_the_move_and_publishes_it() -> None:
    assessment = scheduled()
    repository, uow = FakeAssessments(assessment), FakeUnitOfWork()

    moved = await scheduling.transition(
        uow,
        principal=STAFF,
        assessment_id=assessment.id,
        to=Status.IN_PROGRESS,
        comment=None,
        repository=repository,
    )

    assert (moved.status, moved.version) == (Status.IN_PROGRESS, 2)
    assert repository.stored[assessment.id] == moved
    assert [(t.from_status, t.to_status, t.by_subject) for t in repository.moves] == [
        (Status.SCHEDULED, Status.IN_PROGRESS, "ea-dara")
    ]
    assert repository.audit_trail == [("assessment.in_progress", assessment.id, None)]
    assert uow.committed == 1
    [event] = uow.sent
    assert (event.assessment_id, event.status, event.previous_status) == (assessment.id, "in_progress", "scheduled")


async def test_a_move_the_lifecycle_refuses_changes_and_publishes_nothing() -> None:
    assessment = scheduled()
    repository, uow = FakeAssessments(assessment), FakeUnitOfWork()

    with pytest.raises(Conflict):
        await scheduling.transition(
            uow, principal=STAFF, assessment_id=assessment.id, to=Status.RELEASED, comment=None, repository=repository
        )

    assert repository.stored[assessment.id] == assessment
    assert (repository.moves, repository.audit_trail, uow.emitted, uow.sent, uow.committed) == ([], [], [], [], 0)
