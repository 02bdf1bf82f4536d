"""Rotating the key that seals webhook signing secrets: re-seal every stored secret under the newest key.

After `PARTNERSHIPS_WEBHOOK_SECRET_KEY` lists a new key first (`new,old`) and every process runs with it,
an admin re-seals; once a re-seal reports no unreadable endpoint, nothing stored needs the old key any more
and it can be dropped from the list. Secrets stored before any key was set stay as they are (they need no key).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from partnerships.adapters.endpoints import EndpointRepository
from partnerships.adapters.secret_box import secret_box
from partnerships.settings import PartnershipsSettings
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import Conflict


@dataclass(frozen=True)
class ResealReport:
    endpoints: int  # endpoints that store secrets
    secrets: int  # secrets stored
    resealed: int  # moved under the newest key by this call
    unsealed: int  # stored as they are (saved before any key was set); left so
    unreadable: tuple[uuid.UUID, ...]  # endpoints with a secret that no configured key opens; left so


async def reseal_webhook_secrets(
    uow: UnitOfWork, *, principal: Principal, settings: PartnershipsSettings
) -> ResealReport:
    """Every stored sealed signing secret moved under the newest key, in one transaction with the endpoints locked
    (409 when no key is set). A secret no configured key opens is left as it is and its endpoint reported: its
    key must go back into the list before any key is dropped."""
    box = secret_box(settings)
    if box is None:
        raise Conflict("No webhook secret key is set (PARTNERSHIPS_WEBHOOK_SECRET_KEY): there is nothing to seal with.")
    endpoints = EndpointRepository(uow.session)
    now = datetime.now(UTC)
    total = resealed = unsealed = 0
    unreadable: list[uuid.UUID] = []
    found = await endpoints.with_secrets_for_update()
    for endpoint in found:
        secrets, moved = [], 0
        for stored in endpoint.secrets:
            total += 1
            if "sealed" not in stored:
                unsealed += 1
            elif not box.sealed_with_newest(stored["sealed"]):
                try:
                    stored = {**stored, "sealed": box.reseal(stored["sealed"])}
                    moved += 1
                except ValueError:
                    if endpoint.id not in unreadable:
                        unreadable.append(endpoint.id)
            secrets.append(stored)
        if moved:
            resealed += moved
            await endpoints.save(replace(endpoint, secrets=secrets, updated_at=now))
            await endpoints.audit(
                principal, "webhook_endpoint.secrets_resealed", endpoint.id, {"secrets": moved}, endpoint.country
            )
    await uow.commit()
    return ResealReport(
        endpoints=len(found), secrets=total, resealed=resealed, unsealed=unsealed, unreadable=tuple(unreadable)
    )
