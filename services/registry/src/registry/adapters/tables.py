"""Tables of the registry schema, and the mapping between a factory row and the domain record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, Column, Date, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from registry.domain.enrolment import EnrolmentPeriod, JoinedVia, Status
from registry.domain.factory import Contact, Factory, FactoryType, Ownership, ProductionStage, Sector
from registry.domain.matching import Profile, normalise_address, normalise_name, profile, search_keys

SCHEMA = "registry"


def _tz() -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=False))


def _tz_null() -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True)))


class FactoryRow(SQLModel, table=True):
    __tablename__ = "factory"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(primary_key=True)
    name: str
    country: str
    address: str
    version: int
    registered_at: datetime = _tz()
    updated_at: datetime = _tz()
    local_name: str | None = None
    aliases: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    province: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    sector: str | None = None
    factory_type: str | None = None
    group_name: str | None = None
    group_id: uuid.UUID | None = Field(default=None, foreign_key="registry.manufacturing_group.id")
    production_stages: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    ownership: str | None = None
    investor_country: str | None = None
    workers_total: int | None = None
    workers_women: int | None = None
    workers_men: int | None = None
    workers_migrants: int | None = None
    workers_nationalities: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    union_present: bool | None = None
    committee_present: bool | None = None
    os_id: str | None = None
    slcp_facility_id: str | None = None
    national_registration: str | None = None
    customs_list_entry: str | None = None
    contacts: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    status: str = "registered"
    joined_via: str = "self"
    service_package: str | None = None
    start_date: date | None = Field(default=None, sa_column=Column(Date))
    merged_into: uuid.UUID | None = None
    former_external_ids: list[list[str]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    enrolment_periods: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    search_text: str = ""
    address_key: str = ""
    # what matching compares of this factory (`matching.Profile`), worked out when it is written, not per submission
    match_profile: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))


FACTORY = FactoryRow.__table__  # type: ignore[attr-defined]

_DOMAIN_FIELDS = tuple(f.name for f in fields(Factory))


# How a factory is filed for search and matching, from its names (legal name first, then local name and aliases)
# and its address: what `factory_values` and `insert_factories` write, and what a migration that files every
# factory again (0008) writes for a row.


def search_text_for(names: Sequence[str]) -> str:
    """What text search looks through: every name, folded like matching folds them, one per line."""
    return "\n".join(dict.fromkeys(normalise_name(n) for n in names))


def name_keys_for(names: Sequence[str]) -> list[str]:
    """The normalised names matching compares (legal, local, aliases), without repeats."""
    return [key for key in dict.fromkeys(normalise_name(n) for n in names) if key]


def blocking_keys_for(names: Sequence[str], address: str | None) -> list[str]:
    """Every key a factory is filed under for candidate search: those of each of its names, and its address's."""
    return sorted({key for name in names for key in search_keys(name, address)})


def profile_for(names: Sequence[str], address: str | None) -> Profile:
    """The matching profile: the names (legal first) and the address, cleaned and split."""
    return profile(names[0], names[1:], address)


def search_text_of(factory: Factory) -> str:
    return search_text_for(factory.names)


def factory_values(factory: Factory) -> dict[str, Any]:
    """The row's column values for a record (insert or update)."""
    values: dict[str, Any] = {}
    for key in _DOMAIN_FIELDS:
        value = getattr(factory, key)
        if key == "contacts":
            value = [asdict(c) for c in value]
        elif key == "former_external_ids":
            value = [list(pair) for pair in value]
        elif key == "aliases":
            value = list(value)
        elif key == "production_stages":
            value = [stage.value for stage in value]
        elif key == "workers_nationalities":
            value = dict(value)
        elif key == "enrolment_periods":
            value = [period_value(p) for p in value]
        elif hasattr(value, "value") and not isinstance(value, uuid.UUID):
            value = value.value
        values[key] = value
    values["search_text"] = search_text_of(factory)
    values["address_key"] = normalise_address(factory.address)
    values["match_profile"] = profile_of(factory).as_json()
    return values


def profile_of(factory: Factory) -> Profile:
    return profile_for(factory.names, factory.address)


def factory_from_row(row: Any) -> Factory:
    """The record of a row (a mapping of column values, such as a SQLAlchemy Row's `_mapping`)."""
    data = dict(row)
    return Factory(
        **{key: data[key] for key in _DOMAIN_FIELDS if key not in _CONVERTED},
        aliases=tuple(data["aliases"] or ()),
        contacts=tuple(Contact(**c) for c in data["contacts"] or ()),
        former_external_ids=tuple((k, v) for k, v in data["former_external_ids"] or ()),
        sector=Sector(data["sector"]) if data["sector"] else None,
        factory_type=FactoryType(data["factory_type"]) if data["factory_type"] else None,
        ownership=Ownership(data["ownership"]) if data["ownership"] else None,
        status=Status(data["status"]),
        joined_via=JoinedVia(data["joined_via"]),
        production_stages=tuple(ProductionStage(s) for s in data["production_stages"] or ()),
        workers_nationalities=tuple(sorted((data["workers_nationalities"] or {}).items())),
        enrolment_periods=tuple(period_of_value(p) for p in data["enrolment_periods"] or ()),
    )


_CONVERTED = frozenset(
    {
        "aliases",
        "contacts",
        "former_external_ids",
        "sector",
        "factory_type",
        "ownership",
        "status",
        "joined_via",
        "production_stages",
        "workers_nationalities",
        "enrolment_periods",
    }
)


def period_value(period: EnrolmentPeriod) -> dict[str, Any]:
    """An enrolment period as JSON (dates and times in ISO 8601)."""
    return {
        "number": period.number,
        "service_package": period.service_package,
        "start_date": period.start_date.isoformat(),
        "enrolled_at": period.enrolled_at.isoformat(),
        "enrolled_by": period.enrolled_by,
        "ended_at": period.ended_at.isoformat() if period.ended_at else None,
        "ended_by": period.ended_by,
        "end_reason": period.end_reason,
    }


def period_of_value(value: dict[str, Any]) -> EnrolmentPeriod:
    return EnrolmentPeriod(
        number=value["number"],
        service_package=value["service_package"],
        start_date=date.fromisoformat(value["start_date"]),
        enrolled_at=datetime.fromisoformat(value["enrolled_at"]),
        enrolled_by=value["enrolled_by"],
        ended_at=datetime.fromisoformat(value["ended_at"]) if value.get("ended_at") else None,
        ended_by=value.get("ended_by"),
        end_reason=value.get("end_reason"),
    )


def name_keys(factory: Factory) -> list[str]:
    return name_keys_for(factory.names)


class FactoryNameRow(SQLModel, table=True):
    __tablename__ = "factory_name"
    __table_args__ = {"schema": SCHEMA}

    factory_id: uuid.UUID = Field(primary_key=True, foreign_key="registry.factory.id")
    name_key: str = Field(primary_key=True)
    country: str


class FactoryKeyRow(SQLModel, table=True):
    __tablename__ = "factory_key"
    __table_args__ = {"schema": SCHEMA}

    country: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    factory_id: uuid.UUID = Field(primary_key=True, foreign_key="registry.factory.id")


def blocking_keys_of(factory: Factory) -> list[str]:
    return blocking_keys_for(factory.names, factory.address)


class ManufacturingGroupRow(SQLModel, table=True):
    """A manufacturing group; its id is derived from `key`, its folded name (domain/groups.py)."""

    __tablename__ = "manufacturing_group"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(primary_key=True)
    name: str
    key: str = Field(unique=True)
    created_at: datetime = _tz()


class StatusChangeRow(SQLModel, table=True):
    __tablename__ = "factory_status_change"
    __table_args__ = {"schema": SCHEMA}

    id: int | None = Field(default=None, primary_key=True)
    factory_id: uuid.UUID
    change: str
    from_status: str
    to_status: str
    at: datetime = _tz()
    by_subject: str
    reason: str | None = None
    suspension_reason: str | None = None
    service_package: str | None = None
    start_date: date | None = Field(default=None, sa_column=Column(Date))


class MatchReviewRow(SQLModel, table=True):
    __tablename__ = "match_review"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(primary_key=True)
    country: str
    status: str
    submitted: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    candidate_id: uuid.UUID
    score: float
    alternatives: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    source: str
    import_job_id: uuid.UUID | None = None
    import_line: int | None = None
    created_at: datetime = _tz()
    created_by: str
    decided_at: datetime | None = _tz_null()
    decided_by: str | None = None
    decision_note: str | None = None
    factory_id: uuid.UUID | None = None
    explanation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))  # why the score (matching)


class ChangeProposalRow(SQLModel, table=True):
    __tablename__ = "change_proposal"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(primary_key=True)
    factory_id: uuid.UUID
    country: str
    status: str
    proposed: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    based_on_version: int
    note: str | None = None
    proposed_at: datetime = _tz()
    proposed_by: str
    decided_at: datetime | None = _tz_null()
    decided_by: str | None = None
    decision_note: str | None = None


class ImportJobRow(SQLModel, table=True):
    __tablename__ = "import_job"
    __table_args__ = {"schema": SCHEMA}

    id: uuid.UUID = Field(primary_key=True)
    status: str
    filename: str | None = None
    default_country: str | None = None
    total: int
    processed: int = 0
    created: int = 0
    matched: int = 0
    needs_review: int = 0
    rejected: int = 0
    principal: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_by: str
    created_at: datetime = _tz()
    started_at: datetime | None = _tz_null()
    finished_at: datetime | None = _tz_null()
    attempts: int = 0
    error: str | None = None


class ImportRowRow(SQLModel, table=True):
    __tablename__ = "import_row"
    __table_args__ = {"schema": SCHEMA}

    job_id: uuid.UUID = Field(primary_key=True)
    line: int = Field(primary_key=True)
    raw: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    outcome: str | None = None
    factory_id: uuid.UUID | None = None
    review_id: uuid.UUID | None = None
    score: float | None = None
    reason: str | None = None


GROUPS = ManufacturingGroupRow.__table__  # type: ignore[attr-defined]
REVIEWS = MatchReviewRow.__table__  # type: ignore[attr-defined]
PROPOSALS = ChangeProposalRow.__table__  # type: ignore[attr-defined]
IMPORT_JOBS = ImportJobRow.__table__  # type: ignore[attr-defined]
IMPORT_ROWS = ImportRowRow.__table__  # type: ignore[attr-defined]
