"""Request and response bodies of the registry API, and their mapping to the flat domain record."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from registry.domain.enrolment import EnrolmentPeriod, JoinedVia, Status, SuspensionReason
from registry.domain.factory import (
    Contact,
    Factory,
    FactoryRuleError,
    FactoryType,
    Ownership,
    ProductionStage,
    Sector,
    check_nationalities,
    check_workforce,
    nationalities_of,
    normalise_country,
    normalise_os_id,
)
from registry.domain.groups import GroupMembership
from servicekit.edge import StrictInput

Name = Annotated[str, Field(min_length=1, max_length=300)]
HeadCount = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]


class Workforce(StrictInput):
    """Always sex-disaggregated: women plus men equal the total when all three are given."""

    # strict: `false` is not a head count (lax parsing would read it as 0)
    total: int | None = Field(default=None, ge=0, le=1_000_000, strict=True)
    women: int | None = Field(default=None, ge=0, le=1_000_000, strict=True)
    men: int | None = Field(default=None, ge=0, le=1_000_000, strict=True)
    migrants: int | None = Field(default=None, ge=0, le=1_000_000, strict=True)
    nationalities: dict[str, HeadCount] | None = Field(
        default=None,
        max_length=250,
        description='Head count per nationality, keyed by ISO 3166-1 alpha-2 code, e.g. {"KH": 1180, "VN": 20}.',
    )

    @model_validator(mode="after")
    def _adds_up(self) -> Workforce:
        try:
            check_workforce(self.total, self.women, self.men, self.migrants)
            if self.nationalities is not None:
                self.nationalities = dict(nationalities_of(self.nationalities))
                check_nationalities(self.total, self.nationalities)
        except FactoryRuleError as exc:
            raise ValueError(str(exc)) from exc
        return self


class Location(StrictInput):
    latitude: float = Field(ge=-90, le=90, strict=True)
    longitude: float = Field(ge=-180, le=180, strict=True)


class ExternalIds(StrictInput):
    os_id: str | None = Field(
        default=None, max_length=30, description="Open Supply Hub id; its check character is verified."
    )
    slcp_facility_id: str | None = Field(default=None, min_length=1, max_length=100)
    national_registration: str | None = Field(default=None, min_length=1, max_length=100)
    customs_list_entry: str | None = Field(
        default=None, min_length=1, max_length=100, description="Entry on a customs list (e.g. Jordan's QIZ list)."
    )

    @field_validator("os_id")
    @classmethod
    def _valid_os_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalise_os_id(value)
        except FactoryRuleError as exc:
            raise ValueError(str(exc)) from exc


class ContactIn(StrictInput):
    name: Name
    role: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=50, pattern=r"^[0-9 +().-]{4,50}$")


def _country(value: str) -> str:
    try:
        return normalise_country(value)
    except FactoryRuleError as exc:
        raise ValueError(str(exc)) from exc


class _ProfileFields(StrictInput):
    local_name: str | None = Field(default=None, max_length=300, description="Name in the local language and script.")
    aliases: list[Name] | None = Field(default=None, max_length=30, description="Other names it trades under.")
    province: str | None = Field(default=None, max_length=200, description="Province or industrial zone.")
    location: Location | None = None
    sector: Sector | None = None
    factory_type: FactoryType | None = None
    group_name: str | None = Field(
        default=None,
        max_length=300,
        description="Manufacturing group by name: the group of that name (case and punctuation aside), or a new one.",
    )
    group_id: uuid.UUID | None = Field(
        default=None, description="Manufacturing group by id (GET /v1/manufacturing-groups); null leaves the group."
    )
    production_stages: list[ProductionStage] | None = Field(
        default=None, max_length=len(ProductionStage), description="What the factory does (one or more stages)."
    )
    ownership: Ownership | None = None
    investor_country: str | None = Field(default=None, description="Investor nationality, ISO 3166-1 alpha-2.")
    workforce: Workforce | None = None
    union_present: bool | None = Field(default=None, strict=True)
    committee_present: bool | None = Field(
        default=None, description="A bipartite committee (PICC) exists.", strict=True
    )
    external_ids: ExternalIds | None = None
    contacts: list[ContactIn] | None = Field(default=None, max_length=20, description="Private: staff and the factory.")
    joined_via: JoinedVia | None = Field(default=None, description="How it came to the programme (default self).")

    @field_validator("investor_country")
    @classmethod
    def _investor(cls, value: str | None) -> str | None:
        return _country(value) if value is not None else None


class FactoryCreate(_ProfileFields):
    """A factory to register. It is matched against the registry first (see the `outcome` of the answer)."""

    name: Name = Field(description="Legal name.")
    country: str = Field(description="ISO 3166-1 alpha-2, e.g. KH.", examples=["KH"])
    address: str = Field(min_length=1, max_length=1000)

    @field_validator("country")
    @classmethod
    def _valid_country(cls, value: str) -> str:
        return _country(value)


class FactoryPatch(_ProfileFields):
    """Fields to change (JSON merge patch: absent is unchanged, null clears)."""

    name: Name | None = None
    address: str | None = Field(default=None, min_length=1, max_length=1000)
    reason: str | None = Field(default=None, max_length=1000, description="Why, for the audit history.")


def flat_values(body: BaseModel) -> dict[str, Any]:
    """The domain's flat field values for the fields a request set (nested objects spread out)."""
    values: dict[str, Any] = {}
    for key in body.model_fields_set:
        value = getattr(body, key)
        if key in {"country", "reason"}:
            continue
        if key == "workforce":
            parts = value.model_fields_set if value is not None else set(Workforce.model_fields)
            for part in parts:
                values[f"workers_{part}"] = getattr(value, part) if value is not None else None
        elif key == "location":
            values["latitude"] = value.latitude if value is not None else None
            values["longitude"] = value.longitude if value is not None else None
        elif key == "external_ids":
            names = value.model_fields_set if value is not None else set(ExternalIds.model_fields)
            for name in names:
                values[name] = getattr(value, name) if value is not None else None
        elif key == "contacts":
            values["contacts"] = tuple(Contact(**c.model_dump()) for c in value or ())
        elif key == "aliases":
            values["aliases"] = tuple(value or ())
        elif key == "production_stages":
            values["production_stages"] = tuple(value or ())
        else:
            values[key] = value
    return values


class ExternalIdsOut(BaseModel):
    os_id: str | None
    slcp_facility_id: str | None
    national_registration: str | None
    customs_list_entry: str | None
    former: list[dict[str, str]] = Field(description="Ids gained from factories merged into this one.")


class FactoryBasic(BaseModel):
    """What buyers and service clients see: names, country, sector, status, external ids."""

    id: uuid.UUID
    name: str
    local_name: str | None
    aliases: list[str]
    country: str
    sector: Sector | None
    status: Status
    external_ids: ExternalIdsOut
    version: int


class WorkforceOut(BaseModel):
    total: int | None
    women: int | None
    men: int | None
    migrants: int | None
    nationalities: dict[str, int] = Field(description="Head count per nationality (ISO 3166-1 alpha-2).")


class EnrolmentPeriodOut(BaseModel):
    """One stay in the programme: from an enrolment or re-enrolment to the exit that ended it (open: no end)."""

    number: int = Field(description="1 for the first enrolment, 2 after the first re-enrolment, ...")
    service_package: str
    start_date: date
    enrolled_at: datetime
    enrolled_by: str
    ended_at: datetime | None
    ended_by: str | None
    end_reason: str | None = Field(description="Why the factory left (the exit's reason).")


def period_out(period: EnrolmentPeriod) -> dict[str, Any]:
    return {
        "number": period.number,
        "service_package": period.service_package,
        "start_date": period.start_date,
        "enrolled_at": period.enrolled_at,
        "enrolled_by": period.enrolled_by,
        "ended_at": period.ended_at,
        "ended_by": period.ended_by,
        "end_reason": period.end_reason,
    }


class ContactOut(BaseModel):
    name: str
    role: str | None
    email: str | None
    phone: str | None


class FactoryFull(FactoryBasic):
    """The whole record: staff of the factory's country, and the factory's own users."""

    address: str
    province: str | None
    location: Location | None
    factory_type: FactoryType | None
    group_name: str | None
    group_id: uuid.UUID | None = Field(description="The manufacturing group (GET /v1/manufacturing-groups/{id}).")
    production_stages: list[ProductionStage]
    ownership: Ownership | None
    investor_country: str | None
    workforce: WorkforceOut
    union_present: bool | None
    committee_present: bool | None
    contacts: list[ContactOut]
    joined_via: JoinedVia
    service_package: str | None
    start_date: date | None
    enrolment_periods: list[EnrolmentPeriodOut] = Field(
        description="Every stay in the programme, oldest first; a re-enrolled factory has more than one."
    )
    registered_at: datetime
    updated_at: datetime


def basic_of(factory: Factory) -> dict[str, Any]:
    return {
        "id": factory.id,
        "name": factory.name,
        "local_name": factory.local_name,
        "aliases": list(factory.aliases),
        "country": factory.country,
        "sector": factory.sector,
        "status": factory.status,
        "external_ids": {
            "os_id": factory.os_id,
            "slcp_facility_id": factory.slcp_facility_id,
            "national_registration": factory.national_registration,
            "customs_list_entry": factory.customs_list_entry,
            "former": [{"field": k, "value": v} for k, v in factory.former_external_ids],
        },
        "version": factory.version,
    }


def full_of(factory: Factory) -> dict[str, Any]:
    return {
        **basic_of(factory),
        "address": factory.address,
        "province": factory.province,
        "location": (
            {"latitude": factory.latitude, "longitude": factory.longitude} if factory.latitude is not None else None
        ),
        "factory_type": factory.factory_type,
        "group_name": factory.group_name,
        "group_id": factory.group_id,
        "production_stages": list(factory.production_stages),
        "ownership": factory.ownership,
        "investor_country": factory.investor_country,
        "workforce": {
            "total": factory.workers_total,
            "women": factory.workers_women,
            "men": factory.workers_men,
            "migrants": factory.workers_migrants,
            "nationalities": dict(factory.workers_nationalities),
        },
        "union_present": factory.union_present,
        "committee_present": factory.committee_present,
        "contacts": [c.__dict__ for c in factory.contacts],
        "joined_via": factory.joined_via,
        "service_package": factory.service_package,
        "start_date": factory.start_date,
        "enrolment_periods": [period_out(p) for p in factory.enrolment_periods],
        "registered_at": factory.registered_at,
        "updated_at": factory.updated_at,
    }


class MatchNote(BaseModel):
    """The matched factory's standing: an exited one is not re-activated by registering it again."""

    status: Status = Field(description="The matched factory's enrolment status.")
    exited: bool = Field(description="The factory left the programme; registering it again does not bring it back.")
    hint: str | None = Field(default=None, description="What to do instead, when there is something to do.")
    re_enrol: str | None = Field(
        default=None, description='Where to re-enrol it: POST {"change": "re_enrolled", ...} to this path.'
    )


class RegistrationResult(BaseModel):
    """What became of a registration: a new factory, the one the registry already holds, or a review item."""

    outcome: Literal["created", "matched", "needs_review"]
    factory: FactoryFull | None = Field(description="The created or matched factory; null while under review.")
    score: float | None = Field(description="Similarity (0-100) of the nearest existing factory, when there is one.")
    matched_on: str | None = Field(description="`name_address`, or the external id that matched.")
    review_id: uuid.UUID | None = None
    candidate_id: uuid.UUID | None = Field(default=None, description="The factory a person must compare it with.")
    match: MatchNote | None = Field(
        default=None, description="What to know about the matched factory (set when the outcome is `matched`)."
    )


class Enrol(StrictInput):
    change: Literal["enrolled"]
    service_package: str = Field(min_length=1, max_length=100, examples=["core"])
    start_date: date


class ReEnrol(StrictInput):
    """An exited factory comes back: a new enrolment period (the earlier ones and the history stay)."""

    change: Literal["re_enrolled"]
    service_package: str = Field(min_length=1, max_length=100, examples=["core"])
    start_date: date
    reason: str | None = Field(default=None, max_length=1000, description="Why it comes back, for the history.")


class Activate(StrictInput):
    change: Literal["activated"]
    reason: str | None = Field(default=None, max_length=1000)


class Suspend(StrictInput):
    change: Literal["suspended"]
    suspension_reason: SuspensionReason
    reason: str | None = Field(default=None, max_length=1000, description="Required when the reason is `other`.")


class Reactivate(StrictInput):
    change: Literal["reactivated"]
    reason: str | None = Field(default=None, max_length=1000)


class Exit(StrictInput):
    change: Literal["exited"]
    reason: str = Field(min_length=1, max_length=1000)


StatusChangeIn = Annotated[Enrol | ReEnrol | Activate | Suspend | Reactivate | Exit, Field(discriminator="change")]


class StatusChangeOut(BaseModel):
    factory_id: uuid.UUID = Field(description="The factory it happened to (a merged one's history is included).")
    change: str
    from_status: Status
    to_status: Status
    at: datetime
    by: str
    reason: str | None
    suspension_reason: SuspensionReason | None
    service_package: str | None
    start_date: date | None


class MergeIn(StrictInput):
    merged_id: uuid.UUID = Field(description="The duplicate; it redirects to this factory from now on.")
    reason: str | None = Field(default=None, max_length=1000)


# ---- review items and change proposals ------------------------------------------------------------------------


class MatchExplanationOut(BaseModel):
    """Why a submission scored as it did against the candidate: what agreed and what differed."""

    score: float
    exact: bool
    name: float | None = Field(default=None, description="Similarity of the names, 0..100 (best of the candidate's).")
    address: float | None = Field(default=None, description="Similarity of the addresses, 0..100 (40: one missing).")
    name_compared: str | None = Field(default=None, description="The candidate's name that compared best, cleaned.")
    conflict: bool = Field(default=False, description="A unit number, product line or site contradicts.")
    agreed: list[str] = Field(
        default_factory=list,
        description="Fields on which the submission and the candidate agreed, of: name, unit_number, product_line,"
        " address, address_numbers, street, zone, province (empty on items made before 2026-12-07).",
    )
    differed: list[str] = Field(
        default_factory=list, description="Fields on which they differed (the same names); `notes` say how."
    )
    notes: list[str] = Field(description="What agreed or differed beyond the two similarities.")


class ReviewOut(BaseModel):
    id: uuid.UUID
    country: str
    status: Literal["open", "confirmed", "rejected"]
    submitted: dict[str, Any] = Field(description="The record as submitted (not yet a factory).")
    candidate_id: uuid.UUID = Field(description="The existing factory it may be.")
    score: float
    alternatives: list[dict[str, Any]] = Field(description="Other candidates above the review threshold.")
    explanation: MatchExplanationOut | None = Field(
        default=None, description="Why the score: similarity of name and address, what agreed and differed."
    )
    source: Literal["api", "import"]
    import_job_id: uuid.UUID | None
    import_line: int | None
    created_at: datetime
    created_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    factory_id: uuid.UUID | None = Field(description="After a decision: the factory the submission became.")


class Decision(StrictInput):
    note: str | None = Field(default=None, max_length=1000)


class ProposalIn(StrictInput):
    """New values a factory proposes for its own name and address; staff approve them."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    local_name: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, min_length=1, max_length=1000)
    province: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=1000, description="Why (shown to staff).")


class ProposalOut(BaseModel):
    id: uuid.UUID
    factory_id: uuid.UUID
    country: str
    status: Literal["open", "approved", "rejected"]
    proposed: dict[str, Any]
    based_on_version: int
    note: str | None
    proposed_at: datetime
    proposed_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None


# ---- factory lists --------------------------------------------------------------------------------------------


class ImportJob(BaseModel):
    id: uuid.UUID
    status: str = Field(description="queued, running or completed.")
    filename: str | None
    default_country: str | None
    total: int = Field(description="Rows in the list.")
    processed: int
    percent: float
    created: int
    matched: int
    needs_review: int
    rejected: int
    rows_per_second: float | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = Field(description="Runs it took (more than 1 after an interruption).")
    ignored_columns: list[str] | None = Field(default=None, description="Columns of the upload that are not used.")


# ---- manufacturing groups -------------------------------------------------------------------------------------


class GroupCreate(StrictInput):
    name: Name = Field(description="The group's name; one group per name, case, accents and punctuation aside.")


class GroupOut(BaseModel):
    """A manufacturing group and how many factories it counts (five or more earn a discount in invoicing)."""

    id: uuid.UUID = Field(description="The same in every country: derived from the group's folded name.")
    name: str
    member_count: int = Field(description="Factories of the group in the registry, merged and exited ones aside.")
    members_by_country: dict[str, int] = Field(description="The same count per country (ISO 3166-1 alpha-2).")
    exited_count: int = Field(description="Factories of the group that left the programme (not counted above).")
    created_at: datetime


def group_out(membership: GroupMembership) -> GroupOut:
    return GroupOut(
        id=membership.group.id,
        name=membership.group.name,
        member_count=membership.member_count,
        members_by_country=membership.members_by_country,
        exited_count=membership.exited_count,
        created_at=membership.group.created_at,
    )
