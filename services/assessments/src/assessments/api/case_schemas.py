"""Request and response models of the zero-tolerance case routes (`api/cases.py`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from assessments.domain import zero_tolerance
from assessments.domain.zero_tolerance import Case, CaseStatus, Channel, Source
from servicekit.edge import StrictInput

Category = Literal[
    "child_labour",
    "forced_labour",
    "corporal_punishment_violence",
    "imminent_danger",
    "freedom_of_association",
    "bribery",
    "retaliation",
]


class CaseReport(StrictInput):
    factory_id: uuid.UUID
    category: Category
    source: Literal["advisory_visit", "hotline", "brand", "other"]
    details: str | None = Field(default=None, max_length=8000, description="Confidential: never leaves this service.")


class CaseStep(BaseModel):
    from_status: CaseStatus | None
    to_status: CaseStatus
    at: datetime
    by_subject: str
    note: str | None


class CaseOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    category: Category
    source: Source
    assessment_id: uuid.UUID | None
    question_code: str | None
    status: CaseStatus
    details: str | None
    notify: list[str] = Field(description="Parties the country protocol says are told.")
    deadlines: dict[str, str] = Field(description="When each step is due (ISO 8601).")
    overdue: bool
    overdue_steps: list[str]
    opened_at: datetime
    opened_by: str
    updated_at: datetime
    steps: list[CaseStep] | None = None
    referrals: list[ReferralOut] | None = Field(default=None, description="Who was told, when, how; acknowledged.")

    @classmethod
    def of(
        cls,
        case: Case,
        steps: list[zero_tolerance.CaseStep] | None = None,
        referrals: list[zero_tolerance.Referral] | None = None,
    ) -> CaseOut:
        late = case.overdue_steps(datetime.now(UTC))
        fields = {
            name: getattr(case, name)
            for name in cls.model_fields
            if hasattr(case, name) and name not in ("steps", "referrals")
        }
        return cls.model_validate(
            {
                **fields,
                "overdue_steps": late,
                "overdue": bool(late),
                "steps": None if steps is None else [CaseStep(**vars(step)) for step in steps],
                "referrals": None if referrals is None else [ReferralOut.of(r) for r in referrals],
            }
        )


class CaseMove(StrictInput):
    to: Literal["referred", "acknowledged", "remediation", "closed", "not_confirmed"]
    note: str | None = Field(
        default=None, max_length=4000, description="Required to close, and for not_confirmed (the reason)."
    )


class ReferralIn(StrictInput):
    party: str = Field(min_length=1, max_length=100, description="A party the protocol tells of this case.")
    channel: Channel
    referred_at: datetime | None = Field(default=None, description="Default: now.")
    reference: str | None = Field(default=None, max_length=500, description="Letter number, ticket, and so on.")


class AcknowledgementIn(StrictInput):
    acknowledged_at: datetime | None = Field(default=None, description="Default: now.")
    note: str | None = Field(default=None, max_length=4000)


class ReferralOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    party: str
    channel: Channel
    referred_at: datetime
    recorded_by: str
    reference: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement_note: str | None

    @classmethod
    def of(cls, referral: zero_tolerance.Referral) -> ReferralOut:
        return cls(**{name: getattr(referral, name) for name in cls.model_fields})
