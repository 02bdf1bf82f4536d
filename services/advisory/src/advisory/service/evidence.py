"""Evidence attached to improvement items: the file kept in the database (capped), with its metadata and SHA-256."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from pydantic import BaseModel

from advisory.adapters.plans import PlanRepository
from advisory.service.access import may_manage
from advisory.service.plans import now
from servicekit.auth import Principal
from servicekit.database import UnitOfWork
from servicekit.errors import NotFound, Unprocessable

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ITEM_BYTES = 10 * 1024 * 1024
CONTENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "text/plain", "text/csv"})


class EvidenceOut(BaseModel):
    id: uuid.UUID
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


async def _item_of(uow: UnitOfWork, principal: Principal, item_id: uuid.UUID) -> None:
    item = await PlanRepository(uow.session).load_item(item_id, for_update=True)
    if item is None or not may_manage(principal, factory_id=item.factory_id, country=item.country):
        raise NotFound(f"No improvement item {item_id}.")


async def attach(
    uow: UnitOfWork, *, principal: Principal, item_id: uuid.UUID, file_name: str, content_type: str, content: bytes
) -> EvidenceOut:
    """Keep a file of evidence; 422 when it is empty, too large, of a type not kept, or the item is full."""
    await _item_of(uow, principal, item_id)
    if content_type not in CONTENT_TYPES:
        raise Unprocessable(f"Evidence is one of: {', '.join(sorted(CONTENT_TYPES))}.")
    if not content or len(content) > MAX_FILE_BYTES:
        raise Unprocessable(f"A file of evidence has 1 to {MAX_FILE_BYTES} bytes.")
    repo = PlanRepository(uow.session)
    if await repo.evidence_bytes(item_id) + len(content) > MAX_ITEM_BYTES:
        raise Unprocessable(f"An item keeps at most {MAX_ITEM_BYTES} bytes of evidence.")
    row = {
        "id": uuid.uuid4(),
        "item_id": item_id,
        "file_name": file_name,
        "content_type": content_type,
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content": content,
        "uploaded_at": now(),
        "uploaded_by": principal.subject,
    }
    await repo.add_evidence(row)
    await repo.audit(
        principal,
        action="improvement_item.evidence_added",
        entity_type="improvement_item",
        entity_id=item_id,
        details={"file_name": file_name, "sha256": row["sha256"]},
    )
    await uow.commit()
    return EvidenceOut.model_validate({k: v for k, v in row.items() if k in EvidenceOut.model_fields})


async def list_evidence(uow: UnitOfWork, *, principal: Principal, item_id: uuid.UUID) -> list[EvidenceOut]:
    item = await PlanRepository(uow.session).load_item(item_id)
    if item is None or not may_manage(principal, factory_id=item.factory_id, country=item.country):
        raise NotFound(f"No improvement item {item_id}.")
    return [EvidenceOut.model_validate(r) for r in await PlanRepository(uow.session).evidence_of(item_id)]


async def evidence_file(
    uow: UnitOfWork, *, principal: Principal, item_id: uuid.UUID, evidence_id: uuid.UUID
) -> tuple[EvidenceOut, bytes]:
    """One file of evidence with its content, for whoever may see the item."""
    repo = PlanRepository(uow.session)
    item = await repo.load_item(item_id)
    found = await repo.evidence_file(item_id, evidence_id) if item is not None else None
    if item is None or found is None or not may_manage(principal, factory_id=item.factory_id, country=item.country):
        raise NotFound(f"No evidence {evidence_id} on item {item_id}.")
    return EvidenceOut.model_validate(found), bytes(found["content"])
