"""Events the registry service publishes about factories."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from betterwork_contracts.base import EventPart, IntegrationEvent, Topic

FACTORY_TOPIC = Topic(
    name="registry.factory",
    key="factory id",
    publisher="registry",
    summary="Lifecycle of factories: registered, updated, status changed, merged.",
)


Sector = Literal["garment", "footwear", "travel_goods", "home_decor", "plastics", "chemicals", "engineering"]
FactoryType = Literal["direct_exporter", "subcontractor", "satellite_unit"]
JoinedVia = Literal["self", "buyer", "mandatory_scheme"]
ProductionStage = Literal[
    "spinning",
    "fabric",
    "dyeing",
    "printing",
    "embroidery",
    "washing",
    "cut_make_trim",
    "finishing",
    "packing",
    "components",
]


class FactoryProfile(EventPart):
    """What every service may know of a factory: never contacts, never workers' data beyond counts."""

    local_name: str | None = Field(default=None, description="Name in the local language and script.")
    aliases: list[str] = Field(default=[])
    address: str | None = None
    province: str | None = Field(default=None, description="Province, or the industrial zone the factory is in.")
    sector: Sector | None = None
    factory_type: FactoryType | None = None
    group_name: str | None = Field(default=None, description="Manufacturing group (five or more earn a discount).")
    group_id: UUID | None = Field(
        default=None,
        description="Id of the manufacturing group, the same in every country (absent in events written before it).",
    )
    production_stages: list[ProductionStage] | None = Field(
        default=None, description="What the factory does (absent in events written before it was added)."
    )
    workers_nationalities: dict[str, int] | None = Field(
        default=None,
        description="Head count per nationality (ISO 3166-1 alpha-2); absent in events written before it was added.",
    )
    joined_via: JoinedVia | None = Field(default=None, description="self, via a buyer, or a mandatory scheme.")
    workers_total: int | None = Field(default=None, ge=0)
    workers_women: int | None = Field(default=None, ge=0)
    workers_men: int | None = Field(default=None, ge=0)
    os_id: str | None = Field(default=None, description="Open Supply Hub id, e.g. CN2019303BQ3FZP.")
    slcp_facility_id: str | None = None
    national_registration: str | None = None


class FactoryRegistered(IntegrationEvent):
    """A factory entered the registry."""

    type: ClassVar[str] = "org.betterwork.registry.factory.registered.v1"
    topic: ClassVar[Topic] = FACTORY_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("assessments", "partnerships", "advisory", "invoicing", "transparency")

    factory_id: UUID
    version: int = Field(ge=1, description="Version of the factory record after this change; 1 when registered.")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")
    name: str = Field(min_length=1, max_length=300, description="Legal name.")
    registered_at: datetime
    profile: FactoryProfile | None = Field(
        default=None, description="The rest of the basic profile (absent in events written before it was added)."
    )


class FactoryChanges(EventPart):
    """The new values of the fields that changed (absent: unchanged; set to nothing: listed in `cleared`)."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    local_name: str | None = None
    aliases: list[str] | None = None
    address: str | None = None
    province: str | None = None
    sector: Sector | None = None
    factory_type: FactoryType | None = None
    group_name: str | None = None
    workers_total: int | None = Field(default=None, ge=0)
    workers_women: int | None = Field(default=None, ge=0)
    workers_men: int | None = Field(default=None, ge=0)
    os_id: str | None = None
    slcp_facility_id: str | None = None
    national_registration: str | None = None
    group_id: UUID | None = Field(default=None, description="Changes with `group_name`.")
    production_stages: list[ProductionStage] | None = None
    workers_nationalities: dict[str, int] | None = Field(
        default=None, description="Head count per nationality (ISO 3166-1 alpha-2), the whole new set."
    )
    cleared: list[str] = Field(default=[], description="Fields that changed to no value.")


class FactoryUpdated(IntegrationEvent):
    """Fields of a factory changed; only the changed fields are present in `changes`."""

    type: ClassVar[str] = "org.betterwork.registry.factory.updated.v1"
    topic: ClassVar[Topic] = FACTORY_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("assessments", "partnerships", "advisory", "invoicing", "transparency")

    factory_id: UUID
    version: int = Field(ge=2, description="Version of the factory record after this change.")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    changes: FactoryChanges
    updated_at: datetime


StatusChange = Literal["enrolled", "activated", "suspended", "reactivated", "exited"]
Status = Literal["registered", "enrolled", "active", "suspended", "exited"]


class FactoryStatusChanged(IntegrationEvent):
    """The factory's enrolment moved: enrolled, activated, suspended, reactivated or exited.

    A factory that exited and comes back is re-enrolled: `change` is `enrolled` (from `exited`), with
    `re_enrolment: true` and a new `enrolment_period`, so a consumer that knows nothing of re-enrolment
    reads the enrolment it is (a new service package, from `start_date`).
    """

    type: ClassVar[str] = "org.betterwork.registry.factory.status_changed.v1"
    topic: ClassVar[Topic] = FACTORY_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("assessments", "partnerships", "advisory", "invoicing", "transparency")

    factory_id: UUID
    version: int = Field(ge=2, description="Version of the factory record after this change.")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    change: StatusChange
    status: Status = Field(description="The status after the change.")
    previous_status: Status
    service_package: str | None = Field(default=None, description="Set when enrolled.")
    start_date: date | None = Field(default=None, description="Set when enrolled.")
    suspension_reason: Literal["unpaid_fees", "programme_decision", "other"] | None = None
    changed_at: datetime
    re_enrolment: bool = Field(default=False, description="An exited factory came back (a new enrolment period).")
    enrolment_period: int | None = Field(
        default=None, ge=1, description="The enrolment period the change belongs to: 1 first, 2 after re-enrolment."
    )


class FactoryMerged(IntegrationEvent):
    """Two records were one factory: `factory_id` now lives on as `survivor_id`; re-point data to it.

    The merged id stays resolvable (the registry answers it with a redirect to the survivor) but
    changes no more.
    """

    type: ClassVar[str] = "org.betterwork.registry.factory.merged.v1"
    topic: ClassVar[Topic] = FACTORY_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("assessments", "partnerships", "advisory", "invoicing", "transparency")

    factory_id: UUID = Field(description="The merged (retired) factory id.")
    version: int = Field(ge=2, description="Version of the merged record after this change (its last).")
    survivor_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    merged_at: datetime
