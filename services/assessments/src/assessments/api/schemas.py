"""Request and response bodies of the assessments API, and their mapping from the domain records.

Inputs derive from `StrictInput` (an unknown field is refused); outputs are separate classes, so a client can
neither set a field it should not nor see one: evidence notes appear only in the models of those who may
read them (staff of the country and the factory itself).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from assessments.domain.aggregates import AssessmentAggregates, Rate
from assessments.domain.assessment import (
    Assessment,
    FactoryComment,
    Finding,
    FindingRevision,
    RevisionProposal,
    Transition,
)
from assessments.domain.lifecycle import AssessmentType, Mode, Result, Severity, Status
from assessments.domain.tool import Tool, ToolVersion, to_documents
from servicekit.edge import StrictInput

# ---- tools -------------------------------------------------------------------------------------------------------


class ToolVersionOut(BaseModel):
    id: uuid.UUID
    country: str
    sector: str
    label: str
    status: Literal["draft", "published", "retired"]
    effective_from: date | None
    question_count: int
    created_at: datetime
    created_by: str
    published_at: datetime | None
    published_by: str | None

    @classmethod
    def of(cls, version: ToolVersion) -> ToolVersionOut:
        return cls(**{name: getattr(version, name) for name in ToolVersionOut.model_fields})


class ToolCompliancePointOut(BaseModel):
    code: str
    name: dict[str, str]


class ToolClusterOut(BaseModel):
    code: str
    name: dict[str, str]
    category: str
    compliance_points: list[ToolCompliancePointOut]


class ToolQuestionOut(BaseModel):
    """A question as the tool document holds it (keys the document leaves out are left out here too)."""

    code: str
    compliance_point: str
    text: dict[str, str]
    legal_reference: str | None = None
    tags: list[str] | None = None
    zero_tolerance_category: str | None = None
    slcp: list[str] | None = None
    slcp_confirmed: bool | None = Field(default=None, description="Whether the SLCP ids were verified.")
    yes_means: Literal["non_compliant"] | None = Field(default=None, description="Set when 'Yes' is the violation.")


class ToolVersionDetailOut(ToolVersionOut):
    clusters: list[ToolClusterOut]
    questions: list[ToolQuestionOut]

    @classmethod
    def of_tool(cls, version: ToolVersion, tool: Tool) -> ToolVersionDetailOut:
        global_template, country_tool = to_documents(tool)
        return cls.model_validate(
            {
                **ToolVersionOut.of(version).model_dump(),
                "clusters": global_template["clusters"],
                "questions": country_tool["questions"],
            }
        )


class ProtocolOut(BaseModel):
    country: str
    issues: list[str] = Field(description="The zero-tolerance categories the protocol covers.")
    parties: list[str] = Field(description="The parties it may tell.")
    code: str | None = Field(default=None, description="What a country pack names it by, if the document says.")
    version: str | None = Field(default=None, description="Its version, as a country pack names it.")


class ProgrammeToolOut(BaseModel):
    code: str = Field(description="The tool the country pack names, e.g. jo_garment.")
    version: str
    source: Literal["shipped", "uploaded"] = Field(
        description="shipped: this release ships it (published on first start); uploaded: staff upload it."
    )
    published: bool = Field(description="A published tool version runs it: assessments can use it.")
    tool_version_id: uuid.UUID | None = None
    label: str | None = None


class ProgrammeProtocolOut(BaseModel):
    code: str = Field(description="The zero-tolerance protocol the country pack names, e.g. zt_protocol_jo.")
    version: str
    source: Literal["shipped", "uploaded"]
    loaded: bool


class ProgrammeOut(BaseModel):
    """What this instance's country pack asks of assessments and what of it is loaded."""

    country: str
    programme: str
    tool: ProgrammeToolOut
    zero_tolerance_protocol: ProgrammeProtocolOut
    ready: bool = Field(description="Assessments can be scheduled: the pack's tool is published, its protocol loaded.")
    next_steps: list[str] = Field(description="What staff still have to load, in order; empty when ready.")
    referral_list: list[str]
    cycle_months: int


# ---- assessments -------------------------------------------------------------------------------------------------


class ScheduleIn(StrictInput):
    factory_id: uuid.UUID
    assessment_type: AssessmentType = AssessmentType.REGULAR
    mode: Mode = Mode.UNANNOUNCED
    joint: bool = Field(default=False, description="Joint with labour inspectors (name them in `inspectors`).")
    inspectors: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default=[], max_length=10)
    team: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default=[], max_length=10)
    start_date: date = Field(description="First visit day.")
    end_date: date = Field(description="Last visit day; the report is due 28 days later.")
    sector: str = Field(default="garment", max_length=32)
    tool_version_id: uuid.UUID | None = Field(default=None, description="Default: the current published version.")


class AssessmentOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    cycle: int
    assessment_type: AssessmentType
    mode: Mode
    joint: bool
    inspectors: list[str]
    team: list[str]
    start_date: date
    end_date: date
    report_due: date
    overdue: bool = Field(description="Not released although the report is due.")
    tool_version_id: uuid.UUID
    status: Status
    version: int
    released_at: datetime | None
    finalised_at: datetime | None
    created_at: datetime
    created_by: str
    comment_period_ends: datetime | None = Field(
        default=None, description="When the factory's comment period ends (set when it opens); then it is finalised."
    )
    comment_period_waived: bool = Field(default=False, description="The factory waived the rest of its period.")

    @classmethod
    def of(cls, assessment: Assessment) -> AssessmentOut:
        return cls.model_validate(_assessment_fields(assessment, cls))


def _assessment_fields(assessment: Assessment, model: type[BaseModel]) -> dict[str, object]:
    fields = {name: getattr(assessment, name) for name in model.model_fields if name != "overdue"}
    return {**fields, "overdue": assessment.overdue(datetime.now(UTC).date())}


class TransitionIn(StrictInput):
    to: Literal["in_progress", "draft_submitted", "quality_checked", "released", "comment_period", "finalised"]
    comment: str | None = Field(default=None, max_length=4000, description="Required to return a draft to the team.")


class CancelIn(StrictInput):
    reason: str = Field(min_length=1, max_length=4000, description="Why the assessment is called off.")


class RescheduleIn(StrictInput):
    start_date: date = Field(description="New first visit day (unchanged once the visit started).")
    end_date: date = Field(description="New last visit day; the report is due 28 days later.")
    reason: str = Field(min_length=1, max_length=4000)


class TransitionOut(BaseModel):
    id: int | None
    assessment_id: uuid.UUID
    from_status: Status
    to_status: Status
    at: datetime
    by_subject: str
    comment: str | None

    @classmethod
    def of(cls, transition: Transition) -> TransitionOut:
        return cls(**{name: getattr(transition, name) for name in cls.model_fields})


# ---- findings ----------------------------------------------------------------------------------------------------


class FindingIn(StrictInput):
    result: Result
    evidence: str | None = Field(
        default=None, max_length=8000, description="Private to staff: may name workers, so never shown to the factory."
    )
    workers_affected: int | None = Field(default=None, ge=0, le=1_000_000)
    explanation: str | None = Field(
        default=None, max_length=8000, description="What the factory reads about the finding; names nobody."
    )
    severity: Severity | None = Field(default=None, description="Non-compliant findings only.")


class FindingBatchItem(FindingIn):
    question_code: str = Field(min_length=1, max_length=40)


class FindingBatch(StrictInput):
    findings: list[FindingBatchItem] = Field(min_length=1, max_length=2000)


class Recorded(BaseModel):
    recorded: int
    zero_tolerance_cases_opened: list[uuid.UUID]


class FindingOut(BaseModel):
    """A finding as recorded, evidence included: only staff of the assessment's country read these."""

    assessment_id: uuid.UUID
    question_code: str
    result: Result
    evidence: str | None
    workers_affected: int | None
    explanation: str | None
    severity: Severity | None
    revision: int
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, finding: Finding) -> FindingOut:
        return cls(**{name: getattr(finding, name) for name in cls.model_fields})


class RevisionIn(FindingIn):
    reason: str = Field(min_length=1, max_length=4000)


class RevisionProposalOut(BaseModel):
    """A proposed correction of a finalised finding; it takes effect once another staff member approves it."""

    id: uuid.UUID
    assessment_id: uuid.UUID
    question_code: str
    result: Result
    evidence: str | None
    workers_affected: int | None
    explanation: str | None
    severity: Severity | None
    reason: str
    proposed_by: str
    proposed_at: datetime
    status: Literal["proposed", "approved", "rejected"]
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    revision: int | None = Field(description="The revision it became, once approved.")

    @classmethod
    def of(cls, proposal: RevisionProposal) -> RevisionProposalOut:
        c = proposal.correction
        return cls(
            id=proposal.id,
            assessment_id=proposal.assessment_id,
            question_code=proposal.question_code,
            result=c.result,
            evidence=c.evidence,
            workers_affected=c.workers_affected,
            explanation=c.explanation,
            severity=c.severity,
            reason=c.reason,
            proposed_by=proposal.proposed_by,
            proposed_at=proposal.proposed_at,
            status=proposal.status.value,
            decided_by=proposal.decided_by,
            decided_at=proposal.decided_at,
            decision_note=proposal.decision_note,
            revision=proposal.revision,
        )


class DecisionIn(StrictInput):
    note: str | None = Field(default=None, max_length=4000, description="Required to reject.")


class RevisionDecisionOut(BaseModel):
    proposal: RevisionProposalOut
    revision: int | None = Field(description="The finding's new revision, when approved.")
    zero_tolerance_cases_opened: list[uuid.UUID]


class CommentIn(StrictInput):
    question_code: str = Field(min_length=1, max_length=40)
    comment: str = Field(min_length=1, max_length=8000)


class CommentOut(BaseModel):
    id: int | None
    assessment_id: uuid.UUID
    question_code: str
    comment: str
    by_subject: str
    at: datetime

    @classmethod
    def of(cls, comment: FactoryComment) -> CommentOut:
        return cls(**{name: getattr(comment, name) for name in cls.model_fields})


class FindingRevisionOut(BaseModel):
    """One revision of a finding, evidence included: only staff of the assessment's country read these."""

    id: int | None
    assessment_id: uuid.UUID
    question_code: str
    revision: int
    result: Result
    evidence: str | None
    workers_affected: int | None
    reason: str | None
    author: str
    at: datetime
    explanation: str | None
    severity: Severity | None
    approved_by: str | None = Field(description="Who approved the correction (none for the first revision).")

    @classmethod
    def of(cls, revision: FindingRevision) -> FindingRevisionOut:
        return cls(**{name: getattr(revision, name) for name in cls.model_fields})


# ---- reports and figures -----------------------------------------------------------------------------------------


class RateOut(BaseModel):
    non_compliant: int
    applicable: int
    rate: float | None = Field(description="Non-compliant over applicable (4 places); none when nothing applies.")

    @classmethod
    def of(cls, rate: Rate) -> RateOut:
        return cls(non_compliant=rate.non_compliant, applicable=rate.applicable, rate=rate.rate)


class ReportQuestionOut(BaseModel):
    code: str
    text: dict[str, str]
    legal_reference: str | None
    publicly_reported: bool
    zero_tolerance: bool
    result: Result | None
    workers_affected: int | None
    revision: int | None
    explanation: str | None = Field(default=None, description="The factory-facing explanation of the finding.")
    severity: Severity | None = None


class ReportQuestionWithEvidenceOut(ReportQuestionOut):
    evidence: str | None = Field(description="Private: shown to staff of the country only.")


Q = TypeVar("Q", bound=ReportQuestionOut)


class ReportCompliancePointOut(BaseModel, Generic[Q]):
    code: str
    name: dict[str, str]
    non_compliance: RateOut
    questions: list[Q]


class ReportClusterOut(BaseModel, Generic[Q]):
    code: str
    name: dict[str, str]
    category: str
    non_compliance: RateOut
    compliance_points: list[ReportCompliancePointOut[Q]]


class ReportAssessmentOut(AssessmentOut):
    updated_at: datetime


class ReportFactoryOut(BaseModel):
    id: uuid.UUID
    name: str | None


class ReportToolOut(BaseModel):
    id: uuid.UUID
    label: str
    country: str
    sector: str


class ReportBody(BaseModel, Generic[Q]):
    assessment: ReportAssessmentOut
    factory: ReportFactoryOut
    tool: ReportToolOut
    non_compliance: RateOut
    publicly_reported_non_compliance: RateOut
    clusters: list[ReportClusterOut[Q]]


class ReportOut(ReportBody[ReportQuestionOut]):
    """The report as the factory and buyers read it: explanations, no evidence notes."""


class ReportWithEvidenceOut(ReportBody[ReportQuestionWithEvidenceOut]):
    """The report as staff of the country read it: with the evidence notes."""


class CycleResultOut(BaseModel):
    assessment_id: uuid.UUID
    cycle: int
    assessment_type: AssessmentType
    status: Status
    end_date: date
    non_compliance: RateOut
    publicly_reported_non_compliance: RateOut
    by_cluster: dict[str, RateOut]

    @classmethod
    def of(cls, assessment: Assessment, figures: AssessmentAggregates) -> CycleResultOut:
        return cls(
            assessment_id=assessment.id,
            cycle=assessment.cycle,
            assessment_type=assessment.assessment_type,
            status=assessment.status,
            end_date=assessment.end_date,
            non_compliance=RateOut.of(figures.overall),
            publicly_reported_non_compliance=RateOut.of(figures.publicly_reported),
            by_cluster={code: RateOut.of(rate) for code, rate in figures.by_cluster.items()},
        )


class FactoryRateOut(RateOut):
    factory_id: uuid.UUID


class PublicNonComplianceOut(BaseModel):
    country: str
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    factories: int = Field(description="Factories counted (those with anything applicable).")
    average_rate: float | None
    method: str
    per_factory: list[FactoryRateOut]
