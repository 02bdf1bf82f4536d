"""Webhook sealing-key rotation over HTTP: admins re-seal the stored signing secrets under the newest key."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from partnerships.service import sealing_keys
from partnerships.settings import PartnershipsSettings
from servicekit.edge import AdminPrincipal, UnitOfWorkDep, settings_of
from servicekit.errors import PROBLEM_RESPONSES

router = APIRouter(tags=["webhooks"], responses=PROBLEM_RESPONSES)


class ResealOut(BaseModel):
    endpoints: int = Field(description="Endpoints that store signing secrets (deleted ones included).")
    secrets: int = Field(description="Signing secrets stored.")
    resealed: int = Field(description="Secrets this call moved under the newest key.")
    unsealed: int = Field(description="Secrets stored as they are (saved before any key was set); left so.")
    unreadable_endpoints: list[uuid.UUID] = Field(
        description="Endpoints with a secret that none of the keys opens (left as it is): put its key back in the "
        "list. An older key may be dropped once a call answers `resealed` 0 and this list empty."
    )


@router.post("/v1/webhook-secrets/reseal", summary="Re-seal every stored webhook secret under the newest key")
async def reseal_webhook_secrets(request: Request, uow: UnitOfWorkDep, admin: AdminPrincipal) -> ResealOut:
    """Run after every partnerships process has the new key first in `PARTNERSHIPS_WEBHOOK_SECRET_KEY`; safe to
    repeat. 409 when no key is set."""
    report = await sealing_keys.reseal_webhook_secrets(
        uow, principal=admin, settings=settings_of(request, PartnershipsSettings)
    )
    return ResealOut(
        endpoints=report.endpoints,
        secrets=report.secrets,
        resealed=report.resealed,
        unsealed=report.unsealed,
        unreadable_endpoints=list(report.unreadable),
    )
