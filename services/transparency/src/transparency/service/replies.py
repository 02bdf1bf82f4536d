"""The factory's public reply to a published finding: recorded as a fact, shown from the next release on, marked
unverified until an advisor verifies the fix (advisory's verified item)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from servicekit.audit import record_audit
from servicekit.auth.principal import Principal, Role
from servicekit.database import UnitOfWork
from servicekit.errors import NotFound
from transparency.adapters import facts
from transparency.domain import facts as kinds

SCHEMA = "transparency"


async def reply(
    uow: UnitOfWork, *, principal: Principal, factory_id: uuid.UUID, question_code: str, text: str
) -> datetime:
    """A user of the factory replies on one question; anyone else is told the factory does not exist."""
    known = await facts.factory(uow.session, factory_id)
    own = principal.organisation(Role.FACTORY)
    if known is None or own is None or (await facts.factory(uow.session, own)) != known:
        raise NotFound("No such factory.")
    at = datetime.now(UTC)
    payload = {"factory_id": str(known.factory_id), "question_code": question_code, "text": text}
    reply_id = uuid.uuid4()
    await facts.record(
        uow.session, source_id=f"reply:{reply_id}", kind=kinds.REPLY, country=known.country, at=at, payload=payload
    )
    await record_audit(
        uow.session,
        schema=SCHEMA,
        actor=principal,
        action="reply.recorded",
        entity_type="factory",
        entity_id=str(known.factory_id),
        country=known.country,
        details={"question_code": question_code, "reply_id": str(reply_id)},
    )
    await uow.commit()
    return at
