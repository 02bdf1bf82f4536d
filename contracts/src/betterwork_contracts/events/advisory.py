"""Events the advisory service publishes: improvement plans and their items, progress reports, advisory visits,
training sessions delivered. Counts only: never a participant's or a worker's identity."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from betterwork_contracts.base import IntegrationEvent, Topic

PLAN_TOPIC = Topic(
    name="advisory.improvement-plan",
    key="plan id",
    publisher="advisory",
    summary="Improvement plans (one per factory and cycle) and every status change of their items.",
)
PROGRESS_REPORT_TOPIC = Topic(
    name="advisory.progress-report",
    key="factory id",
    publisher="advisory",
    summary="Progress reports (PR1, PR2) issued: immutable once issued.",
)
ADVISORY_VISIT_TOPIC = Topic(
    name="advisory.advisory-visit",
    key="factory id",
    publisher="advisory",
    summary="Advisory visits recorded at a factory.",
)
TRAINING_TOPIC = Topic(
    name="advisory.training",
    key="session id",
    publisher="advisory",
    summary="Training sessions delivered, with sex-disaggregated participant counts.",
)

ItemStatus = Literal["open", "in_progress", "reported_done", "verified", "disputed", "waived", "reopened"]
ItemSource = Literal["assessment", "self_diagnosis", "case"]


class ImprovementPlanCreated(IntegrationEvent):
    """A factory's improvement plan for a cycle exists (from a released assessment, or opened by hand)."""

    type: ClassVar[str] = "org.betterwork.advisory.improvement_plan.created.v1"
    topic: ClassVar[Topic] = PLAN_TOPIC
    aggregate_id_field: ClassVar[str] = "plan_id"

    plan_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    assessment_id: UUID | None = Field(default=None, description="The released assessment it was built from.")
    item_count: int = Field(ge=0)
    created_at: datetime


class ImprovementItemStatusChanged(IntegrationEvent):
    """An item of a plan moved (verified included); `recurring` says a later assessment found it again."""

    type: ClassVar[str] = "org.betterwork.advisory.improvement_item.status_changed.v1"
    topic: ClassVar[Topic] = PLAN_TOPIC
    aggregate_id_field: ClassVar[str] = "plan_id"
    consumers: ClassVar[tuple[str, ...]] = ("transparency",)

    plan_id: UUID
    item_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    source: ItemSource
    question_code: str | None = None
    publicly_reported: bool = False
    zero_tolerance: bool = False
    status: ItemStatus
    previous_status: ItemStatus
    recurring: bool = False
    changed_at: datetime


class ProgressReportIssued(IntegrationEvent):
    """A progress report was issued: buyers with access to the cycle may now read it."""

    type: ClassVar[str] = "org.betterwork.advisory.progress_report.issued.v1"
    topic: ClassVar[Topic] = PROGRESS_REPORT_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"

    report_id: UUID
    plan_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    cycle: int = Field(ge=1)
    kind: Literal["pr1", "pr2"]
    due_date: date
    on_time: bool
    reported_fixed_share: float = Field(ge=0, le=1, description="Weighted share of items reported fixed.")
    verified_fixed_share: float = Field(ge=0, le=1, description="Weighted share of items verified fixed.")
    issued_at: datetime


class AdvisoryVisitRecorded(IntegrationEvent):
    """Enterprise advisors visited (or met virtually) a factory."""

    type: ClassVar[str] = "org.betterwork.advisory.advisory_visit.recorded.v1"
    topic: ClassVar[Topic] = ADVISORY_VISIT_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"

    visit_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    visit_date: date
    mode: Literal["in_person", "virtual", "group", "joint_inspectors", "joint_union"]
    topics: list[str] = Field(default=[])
    items_discussed: int = Field(default=0, ge=0)
    recorded_at: datetime


class TrainingSessionDelivered(IntegrationEvent):
    """A training session took place; participant counts split by sex, never names."""

    type: ClassVar[str] = "org.betterwork.advisory.training.session_delivered.v1"
    topic: ClassVar[Topic] = TRAINING_TOPIC
    aggregate_id_field: ClassVar[str] = "session_id"

    session_id: UUID
    course_code: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    factory_id: UUID | None = Field(default=None, description="In-factory sessions; None for open sessions.")
    session_date: date
    mode: Literal["classroom", "in_factory", "e_learning"]
    participants_women: int = Field(ge=0)
    participants_men: int = Field(ge=0)
    participants_other: int = Field(default=0, ge=0, description="Another sex, or not stated.")
    delivered_at: datetime
