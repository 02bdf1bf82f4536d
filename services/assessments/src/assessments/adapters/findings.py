"""SQL of findings and their revisions: record a batch (all or none), lock one for a correction, keep every
revision, read results for the figures."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assessments.adapters.tables import FINDING, FINDING_REVISION, REVISION_PROPOSAL
from assessments.domain.assessment import Correction, Finding, FindingRevision, ProposalStatus, RevisionProposal
from assessments.domain.lifecycle import Result, Severity


def _severity(value: str | None) -> Severity | None:
    return Severity(value) if value else None


def _finding_of(row: Any) -> Finding:
    return Finding(
        assessment_id=row["assessment_id"],
        question_code=row["question_code"],
        result=Result(row["result"]),
        evidence=row["evidence"],
        workers_affected=row["workers_affected"],
        revision=row["revision"],
        recorded_at=row["recorded_at"],
        recorded_by=row["recorded_by"],
        explanation=row["explanation"],
        severity=_severity(row["severity"]),
    )


def _finding_values(finding: Finding) -> dict[str, Any]:
    return {
        "assessment_id": finding.assessment_id,
        "question_code": finding.question_code,
        "result": finding.result.value,
        "evidence": finding.evidence,
        "workers_affected": finding.workers_affected,
        "revision": finding.revision,
        "recorded_at": finding.recorded_at,
        "recorded_by": finding.recorded_by,
        "explanation": finding.explanation,
        "severity": finding.severity.value if finding.severity else None,
    }


def _one(assessment_id: uuid.UUID, question_code: str) -> Any:
    return (FINDING.c.assessment_id == assessment_id) & (FINDING.c.question_code == question_code)


class FindingRepository:
    """The findings of one unit of work (their assessment is locked by whoever changes them)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, assessment_id: uuid.UUID) -> dict[str, Finding]:
        """The assessment's findings by question code."""
        rows = await self.session.execute(select(FINDING).where(FINDING.c.assessment_id == assessment_id))
        return {r["question_code"]: _finding_of(r) for r in rows.mappings()}

    async def record(self, findings: Sequence[Finding]) -> None:
        """Insert or overwrite (before finalisation a finding is simply recorded again), in one statement."""
        stmt = insert(FINDING)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["assessment_id", "question_code"],
                set_={
                    "result": stmt.excluded.result,
                    "evidence": stmt.excluded.evidence,
                    "workers_affected": stmt.excluded.workers_affected,
                    "recorded_at": stmt.excluded.recorded_at,
                    "recorded_by": stmt.excluded.recorded_by,
                    "explanation": stmt.excluded.explanation,
                    "severity": stmt.excluded.severity,
                },
            ),
            [_finding_values(f) for f in findings],
        )

    async def load(self, assessment_id: uuid.UUID, question_code: str, *, for_update: bool = False) -> Finding | None:
        stmt = select(FINDING).where(_one(assessment_id, question_code))
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _finding_of(row) if row is not None else None

    async def save(self, finding: Finding) -> None:
        values = _finding_values(finding)
        del values["assessment_id"], values["question_code"]
        await self.session.execute(
            FINDING.update().where(_one(finding.assessment_id, finding.question_code)).values(**values)
        )

    async def has_revisions(self, assessment_id: uuid.UUID, question_code: str) -> bool:
        count = await self.session.scalar(
            select(func.count())
            .select_from(FINDING_REVISION)
            .where(FINDING_REVISION.c.assessment_id == assessment_id, FINDING_REVISION.c.question_code == question_code)
        )
        return bool(count)

    async def add_revision(self, revision: FindingRevision) -> None:
        await self.session.execute(
            FINDING_REVISION.insert().values(
                assessment_id=revision.assessment_id,
                question_code=revision.question_code,
                revision=revision.revision,
                result=revision.result.value,
                evidence=revision.evidence,
                workers_affected=revision.workers_affected,
                reason=revision.reason,
                author=revision.author,
                at=revision.at,
                explanation=revision.explanation,
                severity=revision.severity.value if revision.severity else None,
                approved_by=revision.approved_by,
            )
        )

    async def revisions(self, assessment_id: uuid.UUID, question_code: str) -> list[FindingRevision]:
        rows = await self.session.execute(
            select(FINDING_REVISION)
            .where(FINDING_REVISION.c.assessment_id == assessment_id, FINDING_REVISION.c.question_code == question_code)
            .order_by(FINDING_REVISION.c.revision)
        )
        return [
            FindingRevision(
                assessment_id=r["assessment_id"],
                question_code=r["question_code"],
                revision=r["revision"],
                result=Result(r["result"]),
                evidence=r["evidence"],
                workers_affected=r["workers_affected"],
                reason=r["reason"],
                author=r["author"],
                at=r["at"],
                id=r["id"],
                explanation=r["explanation"],
                severity=_severity(r["severity"]),
                approved_by=r["approved_by"],
            )
            for r in rows.mappings()
        ]

    async def add_proposal(self, proposal: RevisionProposal) -> None:
        await self.session.execute(REVISION_PROPOSAL.insert().values(**_proposal_values(proposal)))

    async def save_proposal(self, proposal: RevisionProposal) -> None:
        values = _proposal_values(proposal)
        await self.session.execute(
            REVISION_PROPOSAL.update().where(REVISION_PROPOSAL.c.id == proposal.id).values(**values)
        )

    async def proposal(self, proposal_id: uuid.UUID, *, for_update: bool = False) -> RevisionProposal | None:
        stmt = select(REVISION_PROPOSAL).where(REVISION_PROPOSAL.c.id == proposal_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self.session.execute(stmt)).mappings().first()
        return _proposal_of(row) if row is not None else None

    async def proposals(self, assessment_id: uuid.UUID, question_code: str) -> list[RevisionProposal]:
        rows = await self.session.execute(
            select(REVISION_PROPOSAL)
            .where(
                REVISION_PROPOSAL.c.assessment_id == assessment_id, REVISION_PROPOSAL.c.question_code == question_code
            )
            .order_by(REVISION_PROPOSAL.c.proposed_at, REVISION_PROPOSAL.c.id)
        )
        return [_proposal_of(r) for r in rows.mappings()]

    async def results_of(self, assessment_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Result]]:
        """The results of several assessments' findings in one query: {assessment id: {question: result}}."""
        rows = await self.session.execute(
            select(FINDING.c.assessment_id, FINDING.c.question_code, FINDING.c.result).where(
                FINDING.c.assessment_id.in_(assessment_ids)
            )
        )
        results: dict[uuid.UUID, dict[str, Result]] = {aid: {} for aid in assessment_ids}
        for aid, code, result in rows:
            results[aid][code] = Result(result)
        return results


def _proposal_values(proposal: RevisionProposal) -> dict[str, Any]:
    c = proposal.correction
    return {
        "id": proposal.id,
        "assessment_id": proposal.assessment_id,
        "question_code": proposal.question_code,
        "result": c.result.value,
        "evidence": c.evidence,
        "workers_affected": c.workers_affected,
        "explanation": c.explanation,
        "severity": c.severity.value if c.severity else None,
        "reason": c.reason,
        "proposed_by": proposal.proposed_by,
        "proposed_at": proposal.proposed_at,
        "status": proposal.status.value,
        "decided_by": proposal.decided_by,
        "decided_at": proposal.decided_at,
        "decision_note": proposal.decision_note,
        "revision": proposal.revision,
    }


def _proposal_of(row: Any) -> RevisionProposal:
    return RevisionProposal(
        id=row["id"],
        assessment_id=row["assessment_id"],
        question_code=row["question_code"],
        correction=Correction(
            result=Result(row["result"]),
            evidence=row["evidence"],
            workers_affected=row["workers_affected"],
            reason=row["reason"],
            explanation=row["explanation"],
            severity=_severity(row["severity"]),
        ),
        proposed_by=row["proposed_by"],
        proposed_at=row["proposed_at"],
        status=ProposalStatus(row["status"]),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        decision_note=row["decision_note"],
        revision=row["revision"],
    )
