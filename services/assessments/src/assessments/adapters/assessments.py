"""SQL of assessments: load and save the assessment record, its lifecycle history, and the lists and
selections the reports read. Core statements; every row comes back as a domain record."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from assessments.adapters.audit import audit
from assessments.adapters.tables import ASSESSMENT, FACTORY_COMMENT, FINDING, TRANSITION
from assessments.domain.assessment import Assessment, FactoryComment, Transition
from assessments.domain.lifecycle import VISIBLE_TO_FACTORY, AssessmentType, Mode, Status
from servicekit.auth import Principal
from servicekit.pagination import PageParams, paginate, resolve_sort

UNRELEASED = (Status.SCHEDULED, Status.IN_PROGRESS, Status.DRAFT_SUBMITTED, Status.QUALITY_CHECKED)


def assessment_of(row: Any) -> Assessment:
    return Assessment(
        id=row["id"],
        factory_id=row["factory_id"],
        country=row["country"],
        cycle=row["cycle"],
        assessment_type=AssessmentType(row["assessment_type"]),
        mode=Mode(row["mode"]),
        joint=row["joint"],
        inspectors=tuple(row["inspectors"] or ()),
        team=tuple(row["team"] or ()),
        start_date=row["start_date"],
        end_date=row["end_date"],
        report_due=row["report_due"],
        tool_version_id=row["tool_version_id"],
        status=Status(row["status"]),
        version=row["version"],
        released_at=row["released_at"],
        finalised_at=row["finalised_at"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
        comment_period_ends=row["comment_period_ends"],
        comment_period_waived=bool(row["comment_period_waived"]),
    )


def _values(assessment: Assessment) -> dict[str, Any]:
    values = asdict(assessment)
    for name in ("assessment_type", "mode", "status"):
        values[name] = values[name].value
    values["inspectors"] = list(assessment.inspectors)
    values["team"] = list(assessment.team)
    return values


@dataclass(frozen=True)
class AssessmentFilters:
    """What a list of assessments is narrowed to; `visible_to_factory` keeps only what a factory may read."""

    country: str | None = None
    factory_id: uuid.UUID | None = None
    status: Status | None = None
    overdue: bool | None = None
    visible_to_factory: bool = False


_SORTS = {
    "start_date": (ASSESSMENT.c.start_date, ASSESSMENT.c.id),
    "created_at": (ASSESSMENT.c.created_at, ASSESSMENT.c.id),
}


class AssessmentRepository:
    """The assessments of one unit of work: load one (locked for a change), save it, record its moves and the
    audit trail; list and select them for reports. A unit test hands the use cases a fake with these methods."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, assessment_id: uuid.UUID, *, for_update: bool = False) -> Assessment | None:
        stmt = select(ASSESSMENT).where(ASSESSMENT.c.id == assessment_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return assessment_of(row) if row is not None else None

    async def add(self, assessment: Assessment) -> None:
        await self.session.execute(ASSESSMENT.insert().values(**_values(assessment)))

    async def save(self, assessment: Assessment) -> None:
        """Write back what a move changes (status, version, times)."""
        await self.session.execute(
            ASSESSMENT.update()
            .where(ASSESSMENT.c.id == assessment.id)
            .values(
                status=assessment.status.value,
                version=assessment.version,
                updated_at=assessment.updated_at,
                released_at=assessment.released_at,
                finalised_at=assessment.finalised_at,
                start_date=assessment.start_date,
                end_date=assessment.end_date,
                report_due=assessment.report_due,
                comment_period_ends=assessment.comment_period_ends,
                comment_period_waived=assessment.comment_period_waived,
            )
        )

    async def last_cycle(self, factory_id: uuid.UUID) -> int | None:
        """The factory's last cycle; a cancelled assessment counts for none."""
        cycle: int | None = await self.session.scalar(
            select(func.max(ASSESSMENT.c.cycle)).where(
                ASSESSMENT.c.factory_id == factory_id, ASSESSMENT.c.status != Status.CANCELLED.value
            )
        )
        return cycle

    async def worked_on(self, assessment_id: uuid.UUID) -> frozenset[str]:
        """Who did the assessment's fieldwork as the records show it: recorded a finding or submitted the draft."""
        recorders = select(FINDING.c.recorded_by).where(FINDING.c.assessment_id == assessment_id)
        submitters = select(TRANSITION.c.by_subject).where(
            TRANSITION.c.assessment_id == assessment_id, TRANSITION.c.to_status == Status.DRAFT_SUBMITTED.value
        )
        rows = await self.session.execute(recorders.union(submitters))
        return frozenset(r[0] for r in rows)

    async def comment_periods_ended(self, now: datetime, *, limit: int) -> list[uuid.UUID]:
        """Assessments whose factory comment period ran out by `now` (oldest first)."""
        rows = await self.session.execute(
            select(ASSESSMENT.c.id)
            .where(ASSESSMENT.c.status == Status.COMMENT_PERIOD.value, ASSESSMENT.c.comment_period_ends <= now)
            .order_by(ASSESSMENT.c.comment_period_ends)
            .limit(limit)
        )
        return [r[0] for r in rows]

    async def add_comment(self, comment: FactoryComment) -> int:
        comment_id: int = await self.session.scalar(
            FACTORY_COMMENT.insert()
            .values(
                assessment_id=comment.assessment_id,
                question_code=comment.question_code,
                comment=comment.comment,
                by_subject=comment.by_subject,
                at=comment.at,
            )
            .returning(FACTORY_COMMENT.c.id)
        )
        return comment_id

    async def comments(self, assessment_id: uuid.UUID) -> list[FactoryComment]:
        rows = await self.session.execute(
            select(FACTORY_COMMENT)
            .where(FACTORY_COMMENT.c.assessment_id == assessment_id)
            .order_by(FACTORY_COMMENT.c.id)
        )
        return [
            FactoryComment(r["assessment_id"], r["question_code"], r["comment"], r["by_subject"], r["at"], r["id"])
            for r in rows.mappings()
        ]

    async def add_transition(self, transition: Transition) -> None:
        await self.session.execute(
            TRANSITION.insert().values(
                assessment_id=transition.assessment_id,
                from_status=transition.from_status.value,
                to_status=transition.to_status.value,
                at=transition.at,
                by_subject=transition.by_subject,
                comment=transition.comment,
            )
        )

    async def transitions(self, assessment_id: uuid.UUID) -> list[Transition]:
        rows = await self.session.execute(
            select(TRANSITION).where(TRANSITION.c.assessment_id == assessment_id).order_by(TRANSITION.c.id)
        )
        return [
            Transition(
                assessment_id=r["assessment_id"],
                from_status=Status(r["from_status"]),
                to_status=Status(r["to_status"]),
                at=r["at"],
                by_subject=r["by_subject"],
                comment=r["comment"],
                id=r["id"],
            )
            for r in rows.mappings()
        ]

    async def search(self, filters: AssessmentFilters, page: PageParams) -> tuple[list[Assessment], str | None]:
        """One page of assessments (newest first visit by default)."""
        order = resolve_sort(page.sort, _SORTS, "-start_date")
        conditions = []
        if filters.country:
            conditions.append(ASSESSMENT.c.country == filters.country)
        if filters.factory_id:
            conditions.append(ASSESSMENT.c.factory_id == filters.factory_id)
        if filters.visible_to_factory:
            conditions.append(ASSESSMENT.c.status.in_([s.value for s in VISIBLE_TO_FACTORY]))
        if filters.status:
            conditions.append(ASSESSMENT.c.status == filters.status.value)
        if filters.overdue is not None:
            late = and_(
                ASSESSMENT.c.report_due < datetime.now(UTC).date(),
                ASSESSMENT.c.status.in_([s.value for s in UNRELEASED]),
            )
            conditions.append(late if filters.overdue else ~late)
        rows, cursor = await paginate(self.session, select(ASSESSMENT).where(*conditions), order, page)
        return [assessment_of(r._mapping) for r in rows], cursor

    async def released_of_factory(self, factory_id: uuid.UUID) -> list[Assessment]:
        """The factory's released (and later) assessments, cycle by cycle."""
        rows = await self.session.execute(
            select(ASSESSMENT)
            .where(
                ASSESSMENT.c.factory_id == factory_id,
                ASSESSMENT.c.status.in_([s.value for s in VISIBLE_TO_FACTORY]),
            )
            .order_by(ASSESSMENT.c.cycle, ASSESSMENT.c.start_date)
        )
        return [assessment_of(r) for r in rows.mappings()]

    async def latest_finalised(self, country: str, start: date, end: date) -> list[Assessment]:
        """Each factory's latest finalised assessment whose last visit day falls in [start, end]."""
        latest = (
            select(ASSESSMENT)
            .where(
                ASSESSMENT.c.country == country,
                ASSESSMENT.c.status == Status.FINALISED.value,
                ASSESSMENT.c.end_date >= start,
                ASSESSMENT.c.end_date <= end,
            )
            .order_by(ASSESSMENT.c.factory_id, ASSESSMENT.c.end_date.desc(), ASSESSMENT.c.id)
            .ext(distinct_on(ASSESSMENT.c.factory_id))
        )
        return [assessment_of(r) for r in (await self.session.execute(latest)).mappings()]

    async def audit(
        self,
        actor: Principal,
        *,
        action: str,
        assessment_id: uuid.UUID,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """An audit row about the assessment, in the same transaction as the change."""
        await audit(
            self.session,
            actor,
            action=action,
            entity_type="assessment",
            entity_id=str(assessment_id),
            reason=reason,
            details=details,
        )
