"""A factory's identity record as the rest of the platform learns it; the rules of changing it."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from betterwork_contracts.events.registry import FactoryChanges, FactoryRegistered, FactoryUpdated


class FactoryRuleError(ValueError):
    """A change the registry refuses."""


@dataclass(frozen=True)
class Factory:
    id: uuid.UUID
    name: str
    country: str
    address: str | None
    version: int
    registered_at: datetime
    updated_at: datetime


def clean_text(value: str) -> str:
    """Trim, collapse inner whitespace and normalise Unicode (NFC), so equal names compare equal."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def register(*, name: str, country: str, address: str | None, now: datetime) -> tuple[Factory, FactoryRegistered]:
    name = clean_text(name)
    if not name:
        raise FactoryRuleError("a factory needs a name")
    factory = Factory(
        id=uuid.uuid4(),
        name=name,
        country=country.upper(),
        address=clean_text(address) if address else None,
        version=1,
        registered_at=now,
        updated_at=now,
    )
    event = FactoryRegistered(
        factory_id=factory.id, version=1, country=factory.country, name=factory.name, registered_at=now
    )
    return factory, event


def rename(factory: Factory, *, name: str, now: datetime) -> tuple[Factory, FactoryUpdated | None]:
    """A new legal name; no event when nothing changes."""
    name = clean_text(name)
    if not name:
        raise FactoryRuleError("a factory needs a name")
    if name == factory.name:
        return factory, None
    changed = replace(factory, name=name, version=factory.version + 1, updated_at=now)
    event = FactoryUpdated(
        factory_id=changed.id,
        version=changed.version,
        country=changed.country,
        changes=FactoryChanges(name=name),
        updated_at=now,
    )
    return changed, event
