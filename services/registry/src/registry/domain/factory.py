"""A factory's record and the rules of changing it (DOMAIN.md section 1). Pure: no I/O.

The record is flat here (the API nests workforce, location and external ids for readers). Every
change raises the event other services hear: `factory.registered` with the basic profile,
`factory.updated` with the changed fields only. Contacts and workforce detail beyond counts never
leave the registry.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, cast

from betterwork_contracts.countries import is_country
from betterwork_contracts.events.registry import (
    FactoryChanges,
    FactoryMerged,
    FactoryProfile,
    FactoryRegistered,
    FactoryStatusChanged,
    FactoryUpdated,
)
from betterwork_contracts.events.registry import StatusChange as EventChange
from registry.domain.enrolment import Change, EnrolmentPeriod, JoinedVia, Status, StatusChange
from registry.domain.groups import GroupRuleError, group_id_of


class FactoryRuleError(ValueError):
    """A change the registry refuses; `field` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Sector(StrEnum):
    GARMENT = "garment"
    FOOTWEAR = "footwear"
    TRAVEL_GOODS = "travel_goods"
    HOME_DECOR = "home_decor"
    PLASTICS = "plastics"
    CHEMICALS = "chemicals"
    ENGINEERING = "engineering"


class FactoryType(StrEnum):
    DIRECT_EXPORTER = "direct_exporter"
    SUBCONTRACTOR = "subcontractor"
    SATELLITE_UNIT = "satellite_unit"


class Ownership(StrEnum):
    LOCAL = "local"
    FOREIGN = "foreign"
    JOINT_VENTURE = "joint_venture"


class ProductionStage(StrEnum):
    """What the factory does in the supply chain (a controlled list; a factory may do several)."""

    SPINNING = "spinning"
    FABRIC = "fabric"  # weaving or knitting
    DYEING = "dyeing"
    PRINTING = "printing"
    EMBROIDERY = "embroidery"
    WASHING = "washing"
    CUT_MAKE_TRIM = "cut_make_trim"
    FINISHING = "finishing"
    PACKING = "packing"
    COMPONENTS = "components"  # trims, accessories, soles, parts


@dataclass(frozen=True)
class Contact:
    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Factory:
    id: uuid.UUID
    country: str
    name: str
    address: str
    version: int
    registered_at: datetime
    updated_at: datetime
    local_name: str | None = None
    aliases: tuple[str, ...] = ()
    province: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    sector: Sector | None = None
    factory_type: FactoryType | None = None
    group_name: str | None = None
    group_id: uuid.UUID | None = None  # the manufacturing group (domain/groups.py); set and cleared with group_name
    production_stages: tuple[ProductionStage, ...] = ()
    ownership: Ownership | None = None
    investor_country: str | None = None
    workers_total: int | None = None
    workers_women: int | None = None
    workers_men: int | None = None
    workers_migrants: int | None = None
    workers_nationalities: tuple[tuple[str, int], ...] = ()  # (ISO 3166-1 alpha-2, head count), by code
    union_present: bool | None = None
    committee_present: bool | None = None
    os_id: str | None = None
    slcp_facility_id: str | None = None
    national_registration: str | None = None
    customs_list_entry: str | None = None
    contacts: tuple[Contact, ...] = ()
    status: Status = Status.REGISTERED
    joined_via: JoinedVia = JoinedVia.SELF
    service_package: str | None = None
    start_date: date | None = None
    merged_into: uuid.UUID | None = None
    former_external_ids: tuple[tuple[str, str], ...] = field(default=())  # (field, value) gained by merges
    enrolment_periods: tuple[EnrolmentPeriod, ...] = ()  # each stay in the programme (domain/enrolment.py)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the factory goes by: legal, local, aliases (what matching and search look at)."""
        return tuple(n for n in (self.name, self.local_name, *self.aliases) if n)


# Fields a staff update may change (status, country and ids of the record itself change otherwise).
EDITABLE_FIELDS: frozenset[str] = frozenset(
    f.name
    for f in fields(Factory)
    if f.name
    not in {
        "id",
        "country",
        "version",
        "registered_at",
        "updated_at",
        "status",
        "service_package",
        "start_date",
        "merged_into",
        "former_external_ids",
        "enrolment_periods",
    }
)
# What a factory's own users may propose (staff approve), as SLCP lets facilities correct their profile.
PROPOSABLE_FIELDS: frozenset[str] = frozenset({"name", "local_name", "address", "province"})
# Fields of FactoryChanges (what other services hear about an update).
_EVENT_FIELDS = frozenset(FactoryChanges.model_fields) - {"cleared"}
EXTERNAL_ID_FIELDS = ("os_id", "slcp_facility_id", "national_registration", "customs_list_entry")

# ---- validation -------------------------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_OS_ID = re.compile(r"^[A-Z]{2}[0-9]{7}[0-9A-Z]{6}$")


def clean_text(value: str) -> str:
    """Trim, collapse inner whitespace and normalise Unicode (NFC), so equal names compare equal."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def os_id_check_character(body: str) -> str:
    """The check character of an OS ID's first 14 characters (Open Supply Hub's `checksum`)."""
    total = ord(body[0]) + ord(body[1]) + sum(_CROCKFORD.index(ch) for ch in body[2:])
    return _CROCKFORD[total % 32]


def normalise_os_id(value: str) -> str:
    """The canonical OS ID (`CN2019303BQ3FZP`); raises FactoryRuleError when the form or check character is wrong.

    Spaces and hyphens are dropped first, so the printed form `CN-2019303-BQ3FZ-P` is accepted too.
    """
    text = re.sub(r"[\s-]", "", value).upper()
    if not _OS_ID.match(text) or any(ch not in _CROCKFORD for ch in text[2:]):
        raise FactoryRuleError(
            "an OS ID is 2 letters, 7 digits and 6 base-32 characters (e.g. CN2019303BQ3FZP)", "os_id"
        )
    if not is_country(text[:2]):
        raise FactoryRuleError(f"an OS ID starts with a country code; {text[:2]} is none", "os_id")
    expected = os_id_check_character(text[:14])
    if text[14] != expected:
        raise FactoryRuleError(f"the OS ID's check character is wrong (expected {expected}, got {text[14]})", "os_id")
    return text


def normalise_country(value: str, field_name: str = "country") -> str:
    code = value.strip().upper()
    if not is_country(code):
        raise FactoryRuleError(f"{value!r} is not an ISO 3166-1 alpha-2 country code", field_name)
    return code


def check_workforce(total: int | None, women: int | None, men: int | None, migrants: int | None) -> None:
    """Women plus men equal the total when all three are given; no part exceeds the total."""
    for name, value in (("total", total), ("women", women), ("men", men), ("migrants", migrants)):
        if value is not None and value < 0:
            raise FactoryRuleError(f"workers {name} cannot be negative", f"workforce.{name}")
    if total is not None and women is not None and men is not None and women + men != total:
        raise FactoryRuleError(f"women ({women}) plus men ({men}) must equal the total ({total})", "workforce")
    if total is not None:
        for name, value in (("women", women), ("men", men), ("migrants", migrants)):
            if value is not None and value > total:
                raise FactoryRuleError(f"workers {name} ({value}) exceed the total ({total})", f"workforce.{name}")


def check_nationalities(total: int | None, nationalities: Mapping[str, int] | tuple[tuple[str, int], ...]) -> None:
    """Head counts per nationality are not negative and add up to no more than the total, when it is given."""
    pairs = list(nationalities.items()) if isinstance(nationalities, Mapping) else list(nationalities)
    for code, count in pairs:
        if count < 0:
            raise FactoryRuleError(f"workers of nationality {code} cannot be negative", "workforce.nationalities")
    counted = sum(count for _, count in pairs)
    if total is not None and counted > total:
        raise FactoryRuleError(
            f"workers per nationality ({counted}) exceed the total ({total})", "workforce.nationalities"
        )


def nationalities_of(value: Mapping[str, int] | tuple[tuple[str, int], ...] | None) -> tuple[tuple[str, int], ...]:
    """Counts per nationality in canonical form: upper-case ISO codes, sorted, no zeros; a code given twice is
    refused."""
    pairs = list(value.items()) if isinstance(value, Mapping) else list(value or ())
    counts: dict[str, int] = {}
    for code, count in pairs:
        iso = normalise_country(code, "workforce.nationalities")
        if iso in counts:
            raise FactoryRuleError(f"nationality {iso} is given twice", "workforce.nationalities")
        if isinstance(count, bool) or not isinstance(count, int):
            raise FactoryRuleError(f"workers of nationality {iso} must be a whole number", "workforce.nationalities")
        counts[iso] = count
    return tuple(sorted((code, count) for code, count in counts.items() if count != 0))


def stages_of(value: Any) -> tuple[ProductionStage, ...]:
    """Production stages without repeats, in the order of the controlled list."""
    chosen = {ProductionStage(v) for v in value or ()}
    return tuple(stage for stage in ProductionStage if stage in chosen)


def check_location(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        raise FactoryRuleError("a location needs both latitude and longitude", "location")
    if latitude is not None and not -90 <= latitude <= 90:
        raise FactoryRuleError("latitude is between -90 and 90", "location.latitude")
    if longitude is not None and not -180 <= longitude <= 180:
        raise FactoryRuleError("longitude is between -180 and 180", "location.longitude")


def _clean_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Text trimmed, empty text as no value, aliases deduplicated, ids in canonical form."""
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key not in EDITABLE_FIELDS:
            raise FactoryRuleError(f"{key} cannot be set here", key)
        if isinstance(value, str):
            value = clean_text(value) or None
        if key == "aliases":
            seen: dict[str, None] = {}
            for alias in value or ():
                text = clean_text(alias)
                if text:
                    seen.setdefault(text, None)
            value = tuple(seen)
        elif key == "contacts":
            value = tuple(value or ())
        elif key == "os_id" and value is not None:
            value = normalise_os_id(value)
        elif key == "investor_country" and value is not None:
            value = normalise_country(value, "investor_country")
        elif key == "sector" and value is not None:
            value = Sector(value)
        elif key == "factory_type" and value is not None:
            value = FactoryType(value)
        elif key == "ownership" and value is not None:
            value = Ownership(value)
        elif key == "production_stages":
            value = stages_of(value)
        elif key == "workers_nationalities":
            value = nationalities_of(value)
        elif key == "group_id" and value is not None:
            value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        elif key == "joined_via":
            if value is None:  # every factory came some way; registration reads no value as "self"
                raise FactoryRuleError("joined_via cannot be empty", "joined_via")
            value = JoinedVia(value)
        cleaned[key] = value
    return _with_group(cleaned)


def _with_group(cleaned: dict[str, Any]) -> dict[str, Any]:
    """The group's id and name move together: a name alone gives the id of the group of that name (the service
    turns an id alone into its group's name); clearing either clears both."""
    if "group_name" in cleaned and "group_id" not in cleaned:
        name = cleaned["group_name"]
        try:
            cleaned["group_id"] = group_id_of(name) if name else None
        except GroupRuleError as exc:
            raise FactoryRuleError(str(exc), "group_name") from exc
    elif "group_id" in cleaned and "group_name" not in cleaned:
        if cleaned["group_id"] is not None:
            raise FactoryRuleError("a group id needs the group's name", "group_id")
        cleaned["group_name"] = None
    if (cleaned.get("group_id") is None) != (cleaned.get("group_name") is None):
        raise FactoryRuleError("a group needs both its id and its name", "group_id")
    return cleaned


def _check(factory: Factory) -> Factory:
    if not factory.name:
        raise FactoryRuleError("a factory needs a name", "name")
    if not any(ch.isalnum() for ch in factory.name):
        raise FactoryRuleError("a factory name needs a letter or a digit", "name")
    if not factory.address:
        raise FactoryRuleError("a factory needs an address", "address")
    check_workforce(factory.workers_total, factory.workers_women, factory.workers_men, factory.workers_migrants)
    check_nationalities(factory.workers_total, factory.workers_nationalities)
    check_location(factory.latitude, factory.longitude)
    if factory.name in factory.aliases:
        factory = replace(factory, aliases=tuple(a for a in factory.aliases if a != factory.name))
    return factory


# ---- changes ----------------------------------------------------------------------------------------------


def register(
    *, country: str, values: Mapping[str, Any], now: datetime, factory_id: uuid.UUID | None = None
) -> tuple[Factory, FactoryRegistered]:
    """A new factory, status registered, version 1 (a field sent as null takes its default)."""
    cleaned = _clean_values({k: v for k, v in values.items() if not (k == "joined_via" and v is None)})
    factory = _check(
        Factory(
            id=factory_id or uuid.uuid4(),
            country=normalise_country(country),
            version=1,
            registered_at=now,
            updated_at=now,
            **{"name": "", "address": "", **cleaned},
        )
    )
    return factory, FactoryRegistered(
        factory_id=factory.id,
        version=1,
        country=factory.country,
        name=factory.name,
        registered_at=now,
        profile=profile_of(factory),
    )


def profile_of(factory: Factory) -> FactoryProfile:
    return FactoryProfile(
        local_name=factory.local_name,
        aliases=list(factory.aliases),
        address=factory.address,
        province=factory.province,
        sector=factory.sector.value if factory.sector else None,
        factory_type=factory.factory_type.value if factory.factory_type else None,
        group_name=factory.group_name,
        group_id=factory.group_id,
        production_stages=[stage.value for stage in factory.production_stages],
        workers_nationalities=dict(factory.workers_nationalities),
        joined_via=factory.joined_via.value,
        workers_total=factory.workers_total,
        workers_women=factory.workers_women,
        workers_men=factory.workers_men,
        os_id=factory.os_id,
        slcp_facility_id=factory.slcp_facility_id,
        national_registration=factory.national_registration,
    )


def update(
    factory: Factory, *, values: Mapping[str, Any], now: datetime
) -> tuple[Factory, FactoryUpdated | None, dict[str, Any]]:
    """Apply new values of editable fields; returns the record, the event (None if nothing changed) and the diff."""
    _refuse_if_merged(factory)
    cleaned = _clean_values(values)
    changed = {key: value for key, value in cleaned.items() if getattr(factory, key) != value}
    if not changed:
        return factory, None, {}
    candidate = _check(replace(factory, **changed))
    changed = {key: getattr(candidate, key) for key in changed if getattr(candidate, key) != getattr(factory, key)}
    if not changed:
        return factory, None, {}
    moved = replace(candidate, version=factory.version + 1, updated_at=now)
    event = FactoryUpdated(
        factory_id=moved.id,
        version=moved.version,
        country=moved.country,
        changes=changes_of(changed),
        updated_at=now,
    )
    return moved, event, changed


def changes_of(changed: Mapping[str, Any]) -> FactoryChanges:
    """The part of a diff other services hear: shared fields only, clearings listed by name."""
    shown: dict[str, Any] = {}
    cleared: list[str] = []
    for key, value in changed.items():
        if key not in _EVENT_FIELDS:
            continue
        if value is None or value == ():
            if key == "aliases":
                shown[key] = []
            else:
                cleared.append(key)
        elif key == "workers_nationalities":
            shown[key] = dict(value)
        else:
            shown[key] = (
                [getattr(v, "value", v) for v in value] if isinstance(value, tuple) else getattr(value, "value", value)
            )
    return FactoryChanges(**shown, cleared=sorted(cleared))


def status_event(factory: Factory, record: StatusChange, *, version: int) -> FactoryStatusChanged:
    return FactoryStatusChanged(
        factory_id=factory.id,
        version=version,
        country=factory.country,
        change=cast(EventChange, record.change.event_change),
        status=record.to_status.value,
        previous_status=record.from_status.value,
        service_package=record.service_package,
        start_date=record.start_date,
        suspension_reason=record.suspension_reason.value if record.suspension_reason else None,
        changed_at=record.at,
        re_enrolment=record.change is Change.RE_ENROLLED,
        enrolment_period=period.number if (period := _period_of(factory, record)) else None,
    )


def _period_of(factory: Factory, record: StatusChange) -> EnrolmentPeriod | None:
    """The enrolment period `record` happened in: the open one, or the one an exit just closed."""
    if not factory.enrolment_periods:
        return None
    last = factory.enrolment_periods[-1]
    return last if last.open or last.ended_at == record.at else None


def _refuse_if_merged(factory: Factory) -> None:
    if factory.merged_into is not None:
        raise FactoryRuleError(f"factory {factory.id} was merged into {factory.merged_into}; change that one")


@dataclass(frozen=True)
class Merge:
    survivor: Factory
    merged: Factory
    survivor_event: FactoryUpdated | None
    merged_event: FactoryMerged
    survivor_changes: dict[str, Any]


def merge(survivor: Factory, merged: Factory, *, now: datetime) -> Merge:
    """`merged` becomes an alias of `survivor`, which takes its names and the external ids it lacks.

    Ids the survivor already has in the same field are kept as former external ids, so every id either
    record ever carried still finds the survivor.
    """
    if survivor.id == merged.id:
        raise FactoryRuleError("a factory cannot be merged into itself")
    _refuse_if_merged(survivor)
    _refuse_if_merged(merged)
    if survivor.country != merged.country:
        raise FactoryRuleError(
            f"factories in different countries ({survivor.country}, {merged.country}) are not the same factory"
        )
    values: dict[str, Any] = {}
    former = list(survivor.former_external_ids)
    for key in EXTERNAL_ID_FIELDS:
        theirs, ours = getattr(merged, key), getattr(survivor, key)
        if theirs and not ours:
            values[key] = theirs
        elif theirs and theirs != ours:
            former.append((key, theirs))
    former.extend(merged.former_external_ids)
    aliases = [*survivor.aliases]
    for name in merged.names:
        if name not in survivor.names and name not in aliases:
            aliases.append(name)
    values["aliases"] = tuple(aliases)
    for key in ("local_name", "province", "sector", "factory_type", "group_name", "latitude", "longitude"):
        if getattr(survivor, key) is None and getattr(merged, key) is not None:
            values[key] = getattr(merged, key)
    if not survivor.contacts and merged.contacts:
        values["contacts"] = merged.contacts
    updated, event, changes = update(survivor, values=values, now=now)
    if tuple(former) != survivor.former_external_ids:
        updated = replace(
            updated,
            former_external_ids=tuple(dict.fromkeys(former)),
            version=survivor.version + 1,
            updated_at=now,
        )
        if event is None:
            event = FactoryUpdated(
                factory_id=updated.id,
                version=updated.version,
                country=updated.country,
                changes=FactoryChanges(),
                updated_at=now,
            )
    cleared: dict[str, Any] = dict.fromkeys(EXTERNAL_ID_FIELDS)
    retired = replace(
        merged, merged_into=survivor.id, version=merged.version + 1, updated_at=now, former_external_ids=(), **cleared
    )
    merged_event = FactoryMerged(
        factory_id=merged.id, version=retired.version, survivor_id=survivor.id, country=merged.country, merged_at=now
    )
    return Merge(updated, retired, event, merged_event, changes)
