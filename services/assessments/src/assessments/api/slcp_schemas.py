"""Request and response models of the SLCP exchange routes (`api/slcp.py`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from assessments.domain.lifecycle import Result
from assessments.domain.slcp import SlcpExport, SlcpStatus
from servicekit.edge import StrictInput


class SlcpAnswerFields(BaseModel):
    question_id: str = Field(min_length=1, max_length=40, examples=["RH-CHL-01"])
    answer: str | None = Field(default=None, max_length=2000, description="The answer as given.")
    finding: Result = Field(description="The verified conclusion on the question.")


class SlcpAnswer(SlcpAnswerFields, StrictInput):
    pass


class SlcpAnswerOut(SlcpAnswerFields):
    pass


class SlcpDocumentFields(BaseModel):
    format: Literal["betterwork-slcp/1"] = "betterwork-slcp/1"
    assessment_id: str = Field(min_length=1, max_length=100)
    facility_id: str = Field(min_length=1, max_length=100, description="SLCP facility id.")
    status: SlcpStatus
    status_date: date
    verifier: str | None = Field(default=None, max_length=300)
    sector: str = Field(default="garment", max_length=32)


class SlcpExportAnswerOut(BaseModel):
    question_id: str
    answer: Literal["Yes", "No", "N/A"] = Field(description="Follows the question's polarity.")
    finding: Result
    id_confirmed: bool = Field(description="False: the SLCP id is assumed, not verified against SLCP's list.")


class SlcpExportOut(BaseModel):
    """A released Better Work assessment mapped onto SLCP question ids. Not an SLCP-verified assessment: it
    carries no SLCP status or verifier (see services/assessments/README.md)."""

    format: Literal["betterwork-assessment-for-slcp/1"]
    source: Literal["Better Work"]
    slcp_verified: Literal[False]
    statement: str
    assessment_id: str
    facility_id: str
    assessment_status: Literal["released", "finalised"]
    status_date: date
    sector: str
    answers: list[SlcpExportAnswerOut]
    unconfirmed_question_ids: list[str] = Field(description="SLCP ids in `answers` that are not verified.")

    @classmethod
    def of(cls, export: SlcpExport) -> SlcpExportOut:
        return cls.model_validate(vars(export))


class SlcpImportIn(SlcpDocumentFields, StrictInput):
    # no docstring: the OpenAPI document has always shown this body without a description
    answers: list[SlcpAnswer] = Field(min_length=1, max_length=5000)
    factory_id: uuid.UUID | None = Field(default=None, description="Default: the factory carrying `facility_id`.")


class SlcpImportOut(BaseModel):
    id: uuid.UUID
    slcp_assessment_id: str
    facility_id: str
    factory_id: uuid.UUID
    status: SlcpStatus
    verified: bool = Field(description="Only VRF data counts as verified.")
    tool_version_id: uuid.UUID
    findings: dict[str, Result] = Field(description="Tool question code -> result, through the SLCP mapping.")
    unmapped: list[str] = Field(description="SLCP question ids with no tool question.")
    conflicts: list[str] = Field(description="Tool questions two SLCP answers disagreed on (left out).")
    repeat: bool = Field(description="The same verified document was imported before; nothing changed.")
    imported_at: datetime
