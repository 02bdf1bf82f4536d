"""Events the assessments service publishes: the assessment lifecycle, and zero-tolerance cases on their own topic."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from betterwork_contracts.base import EventPart, IntegrationEvent, Topic

ASSESSMENT_TOPIC = Topic(
    name="assessments.assessment",
    key="assessment id",
    publisher="assessments",
    summary="Assessments: scheduled, every status change, released, finalised (with a per-question summary), revised.",
)
ZERO_TOLERANCE_TOPIC = Topic(
    name="assessments.zero-tolerance",
    key="case id",
    publisher="assessments",
    summary="Zero-tolerance cases, opened the moment a finding or report is recorded, and their follow-up. Never "
    "workers' personal data or evidence text.",
)

AssessmentType = Literal["initial", "regular", "follow_up"]
AssessmentMode = Literal["unannounced", "announced", "virtual"]
AssessmentStatus = Literal[
    "scheduled", "in_progress", "draft_submitted", "quality_checked", "released", "comment_period", "finalised"
]
Result = Literal["compliant", "non_compliant", "not_applicable"]
ZeroToleranceCategory = Literal[
    "child_labour",
    "forced_labour",
    "corporal_punishment_violence",
    "imminent_danger",
    "freedom_of_association",
    "bribery",
    "retaliation",
]
CaseStatus = Literal["opened", "referred", "acknowledged", "remediation", "closed"]


class AssessmentScheduled(IntegrationEvent):
    """An assessment was planned for a factory, pinned to a tool version."""

    type: ClassVar[str] = "org.betterwork.assessments.assessment.scheduled.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "assessment_id"
    consumers: ClassVar[tuple[str, ...]] = ("invoicing",)

    assessment_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1, description="The factory's assessment cycle this belongs to.")
    assessment_type: AssessmentType
    mode: AssessmentMode
    joint: bool = Field(description="Joint with labour inspectors.")
    tool_version_id: UUID
    start_date: date = Field(description="First visit day.")
    end_date: date = Field(description="Last visit day.")
    scheduled_at: datetime


class AssessmentStatusChanged(IntegrationEvent):
    """Any move through the lifecycle (returned to the team included); released and finalised also have their own."""

    type: ClassVar[str] = "org.betterwork.assessments.assessment.status_changed.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "assessment_id"

    assessment_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    status: AssessmentStatus
    previous_status: AssessmentStatus
    changed_at: datetime


class NonCompliance(EventPart):
    """One non-compliant question of a released or finalised assessment: what the improvement plan is built from.

    Tags and counts only; never evidence text or anything that names a worker."""

    question_code: str
    compliance_point: str
    cluster: str
    publicly_reported: bool = False
    gender_sensitive: bool = False
    zero_tolerance: bool = False
    workers_affected: int | None = Field(default=None, ge=0, description="How many workers the finding concerns.")


class AssessmentReleased(IntegrationEvent):
    """The report went to the factory (partnerships decides which buyers may read it)."""

    type: ClassVar[str] = "org.betterwork.assessments.assessment.released.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "assessment_id"
    consumers: ClassVar[tuple[str, ...]] = ("advisory", "partnerships")

    assessment_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    released_at: datetime
    due_date: date = Field(description="28 days after the last visit day.")
    on_time: bool
    last_visit_day: date | None = Field(default=None, description="The last day of fieldwork (added in v1).")
    tool_version_id: UUID | None = Field(default=None, description="The tool version answered (added in v1).")
    non_compliances: list[NonCompliance] = Field(
        default=[], description="Every non-compliant question of the released report (added in v1)."
    )


class QuestionResult(EventPart):
    question_code: str
    compliance_point: str
    cluster: str
    result: Result
    publicly_reported: bool
    gender_sensitive: bool = False
    zero_tolerance: bool = False


class AssessmentFinalised(IntegrationEvent):
    """Final findings, one line per question (no evidence text); the non-compliances again with their tags and
    counts of workers affected."""

    type: ClassVar[str] = "org.betterwork.assessments.assessment.finalised.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "assessment_id"
    consumers: ClassVar[tuple[str, ...]] = ("advisory", "transparency")

    assessment_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    tool_version_id: UUID
    finalised_at: datetime
    results: list[QuestionResult]
    last_visit_day: date | None = Field(default=None, description="The last day of fieldwork (added in v1).")
    non_compliances: list[NonCompliance] = Field(
        default=[], description="Every non-compliant question of the final report (added in v1)."
    )


class AssessmentRevised(IntegrationEvent):
    """A finalised finding was corrected by a new, audited revision."""

    type: ClassVar[str] = "org.betterwork.assessments.assessment.revised.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "assessment_id"
    consumers: ClassVar[tuple[str, ...]] = ("transparency",)

    assessment_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    question_code: str
    revision: int = Field(ge=2, description="1 is the finalised finding; each correction adds one.")
    result: Result
    previous_result: Result
    revised_at: datetime


class ZeroToleranceCaseOpened(IntegrationEvent):
    """A zero-tolerance issue was found: published at once, before any report. Who is told is per country."""

    type: ClassVar[str] = "org.betterwork.assessments.zero_tolerance.case_opened.v1"
    topic: ClassVar[Topic] = ZERO_TOLERANCE_TOPIC
    aggregate_id_field: ClassVar[str] = "case_id"
    consumers: ClassVar[tuple[str, ...]] = ("partnerships", "advisory")

    case_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    category: ZeroToleranceCategory
    source: Literal["assessment", "advisory_visit", "hotline", "brand", "other"]
    opened_at: datetime
    notify: list[str] = Field(
        default=[], description="Party codes the country protocol says are told (e.g. ministry_of_labour)."
    )


class ZeroToleranceCaseUpdated(IntegrationEvent):
    """The case moved: referred, acknowledged, remediation, closed."""

    type: ClassVar[str] = "org.betterwork.assessments.zero_tolerance.case_updated.v1"
    topic: ClassVar[Topic] = ZERO_TOLERANCE_TOPIC
    aggregate_id_field: ClassVar[str] = "case_id"
    consumers: ClassVar[tuple[str, ...]] = ("partnerships",)

    case_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    category: ZeroToleranceCategory
    status: CaseStatus
    previous_status: CaseStatus
    updated_at: datetime


class AssessmentCancelled(IntegrationEvent):
    """An assessment was called off before its fieldwork ended; it counts for no cycle."""

    type: ClassVar[str] = "org.betterwork.assessments.assessment.cancelled.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "assessment_id"
    consumers: ClassVar[tuple[str, ...]] = ("invoicing",)

    assessment_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    previous_status: Literal["scheduled", "in_progress"]
    reason: str = Field(description="Why it was cancelled, as staff gave it.")
    cancelled_at: datetime


class AssessmentRescheduled(IntegrationEvent):
    """The visit moved before fieldwork ended; the report's due date follows the new last visit day."""

    type: ClassVar[str] = "org.betterwork.assessments.assessment.rescheduled.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "assessment_id"

    assessment_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    start_date: date = Field(description="New first visit day.")
    end_date: date = Field(description="New last visit day.")
    due_date: date = Field(description="28 days after the new last visit day.")
    previous_start_date: date
    previous_end_date: date
    reason: str
    rescheduled_at: datetime


class AssessmentCommentReceived(IntegrationEvent):
    """The factory commented on a finding during its comment period (the comment's text stays in the service)."""

    type: ClassVar[str] = "org.betterwork.assessments.assessment.comment_received.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "assessment_id"

    assessment_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    question_code: str
    commented_at: datetime
    comment_period_ends: datetime | None = None


class ZeroToleranceCaseNotConfirmed(IntegrationEvent):
    """Checked and not confirmed (an unfounded report, say), closed before remediation with its reason."""

    type: ClassVar[str] = "org.betterwork.assessments.zero_tolerance.case_not_confirmed.v1"
    topic: ClassVar[Topic] = ZERO_TOLERANCE_TOPIC
    aggregate_id_field: ClassVar[str] = "case_id"
    consumers: ClassVar[tuple[str, ...]] = ("partnerships",)

    case_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    category: ZeroToleranceCategory
    previous_status: Literal["opened", "referred", "acknowledged"]
    decided_at: datetime


class CycleMove(EventPart):
    """One of a factory's cycles under its number after a merge."""

    factory_id: UUID = Field(description="The factory the cycle was counted for before the merge.")
    from_cycle: int = Field(ge=1)
    to_cycle: int = Field(ge=1, description="Its number in the survivor's history.")


class AssessmentCyclesRenumbered(IntegrationEvent):
    """A factory merge moved the retired factory's assessments to the survivor and renumbered the cycles of both
    by date: whoever keys data by (factory, cycle) re-keys it with `moves` (entitlements, report access, plans).
    Cycles not named keep their factory's number; `moves` is empty when the retired factory had no assessments."""

    type: ClassVar[str] = "org.betterwork.assessments.cycles.renumbered.v1"
    topic: ClassVar[Topic] = ASSESSMENT_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("partnerships", "advisory", "transparency", "invoicing")

    factory_id: UUID = Field(description="The survivor.")
    retired_id: UUID = Field(description="The merged (retired) factory id.")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    moves: list[CycleMove] = Field(default=[])
    renumbered_at: datetime
