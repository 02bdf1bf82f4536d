"""The factory's public reply to a finding (its right of reply)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from servicekit.edge import FactoryPrincipal, StrictInput, UnitOfWorkDep
from servicekit.errors import PROBLEM_RESPONSES
from transparency.service import replies

router = APIRouter(tags=["replies"], responses=PROBLEM_RESPONSES)


class ReplyCreate(StrictInput):
    text: str = Field(min_length=1, max_length=2000)


class ReplyOut(BaseModel):
    factory_id: uuid.UUID
    question_code: str
    recorded_at: datetime
    shown_as: str = Field(description="unverified until an advisor verifies the fix.")


@router.put("/v1/factories/{factory_id}/replies/{question_code}", summary="Reply publicly to a finding")
async def reply_to_finding(
    factory_id: uuid.UUID,
    question_code: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    body: ReplyCreate,
    uow: UnitOfWorkDep,
    factory: FactoryPrincipal,
) -> ReplyOut:
    """A user of the factory. Shown from the next release on, marked unverified until an advisor verifies the fix;
    a later reply replaces it. Anyone else gets 404."""
    at = await replies.reply(uow, principal=factory, factory_id=factory_id, question_code=question_code, text=body.text)
    return ReplyOut(factory_id=factory_id, question_code=question_code, recorded_at=at, shown_as="unverified")
