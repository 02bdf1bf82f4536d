"""Tables of the assessments schema."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Identity
from sqlmodel import Field, SQLModel

SCHEMA = "assessments"


class FactoryRef(SQLModel, table=True):
    """The registry's factory as assessments needs it (built from `registry.factory` events)."""

    __tablename__ = "factory_ref"
    __table_args__ = {"schema": SCHEMA}

    factory_id: uuid.UUID = Field(primary_key=True)
    name: str
    country: str = Field(max_length=2)
    version: int
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class FactoryRefChange(SQLModel, table=True):
    """Each registry change applied to the read model, once: what the name was from which version on."""

    __tablename__ = "factory_ref_change"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True))
    factory_id: uuid.UUID = Field(index=True)
    version: int
    name: str
    event_id: str
    applied_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
