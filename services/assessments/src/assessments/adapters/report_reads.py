"""SQL of the report's hot read: one read-only statement that answers who may read an assessment's report and
which version of the report there is to read, without a transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from assessments.adapters.assessments import assessment_of
from assessments.domain.assessment import Assessment
from servicekit.database import Database


@dataclass(frozen=True)
class ReportState:
    """An assessment with what its report is rendered from, reduced to what says whether that changed: the
    factory's name, its tool version's publication, and its findings' count, latest write and revisions (a
    finding recorded again gets a new `recorded_at`; a correction a higher `revision`). `buyer_granted` is
    the report-access projection's decision for the asking buyer, this factory and cycle (None: no buyer
    asked, or no decision)."""

    assessment: Assessment
    factory_name: str | None
    tool_published_at: datetime | None
    findings: int
    last_recorded: datetime | None
    revisions: int
    buyer_granted: bool | None

    @property
    def version(self) -> tuple[object, ...]:
        """Equal for two reads exactly when the report rendered from them is the same."""
        return (
            self.assessment,
            self.factory_name,
            self.tool_published_at,
            self.findings,
            self.last_recorded,
            self.revisions,
        )


# Prepared once per read connection (asyncpg's statement cache); the finding aggregate reads the primary key
# index of one assessment's findings only.
_REPORT_STATE = """
SELECT a.*,
       f.name AS factory_name,
       t.published_at AS tool_published_at,
       w.findings, w.last_recorded, w.revisions,
       (SELECT r.granted FROM report_access r
         WHERE r.buyer_id = $2 AND r.factory_id = a.factory_id AND r.cycle = a.cycle) AS buyer_granted
  FROM assessment a
  LEFT JOIN factory_ref f ON f.factory_id = a.factory_id
  LEFT JOIN tool_version t ON t.id = a.tool_version_id
 CROSS JOIN LATERAL (
       SELECT count(*) AS findings, max(recorded_at) AS last_recorded, coalesce(sum(revision), 0) AS revisions
         FROM finding WHERE assessment_id = a.id) w
 WHERE a.id = $1
"""


async def report_state(
    database: Database, assessment_id: uuid.UUID, *, buyer_id: uuid.UUID | None
) -> ReportState | None:
    """The assessment's report state, or None if there is no such assessment."""
    row = await database.read_one(_REPORT_STATE, assessment_id, buyer_id)
    if row is None:
        return None
    return ReportState(
        assessment=assessment_of(row),
        factory_name=row["factory_name"],
        tool_published_at=row["tool_published_at"],
        findings=row["findings"],
        last_recorded=row["last_recorded"],
        revisions=row["revisions"],
        buyer_granted=row["buyer_granted"],
    )
