"""Tables of the registry schema."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from registry.domain.factory import Factory

SCHEMA = "registry"


class FactoryRow(SQLModel, table=True):
    __tablename__ = "factory"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(primary_key=True)
    name: str = Field(max_length=300)
    country: str = Field(max_length=2, index=True)
    address: str | None = Field(default=None, max_length=1000)
    version: int
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))

    def to_domain(self) -> Factory:
        return Factory(
            id=self.id,
            name=self.name,
            country=self.country,
            address=self.address,
            version=self.version,
            registered_at=self.registered_at,
            updated_at=self.updated_at,
        )

    @classmethod
    def from_domain(cls, factory: Factory) -> FactoryRow:
        return cls(
            id=factory.id,
            name=factory.name,
            country=factory.country,
            address=factory.address,
            version=factory.version,
            registered_at=factory.registered_at,
            updated_at=factory.updated_at,
        )
