"""Country packs: what one country programme's instance is configured with, one YAML file per country.

Operators deploy one instance per country (`deploy/countries/<iso>.yaml`; on Kubernetes the overlay mounts it).
Every service loads its pack at start (`load_country_pack_from_env(settings.country)` in servicekit's
`create_service_app`, as `app.state.country_pack`); the service's own `create_app` then applies its part (e.g.
`pack.invoicing`, in `<service>/service/country_pack.py`) or refuses one it cannot honour. The pack is:
- `COUNTRY_PACK` set: that file;
- else `COUNTRY` set: the pack shipped for that country, `<iso>.yaml` in `COUNTRY_PACKS_DIR` (the image sets
  it to /opt/betterwork/countries), else in the repository's `deploy/countries` (a checkout, an editable install);
- neither: no pack (None), and the service keeps its built-in defaults (development and tests).
A pack that is missing, malformed, or made for another country stops the start-up with a message naming the
file and the field, never half-configures.

The model below is the schema: `deploy/countries/country-pack.schema.json` is generated from it
(`CountryPack.model_json_schema()`) and CI checks every pack against both.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ENV_VAR = "COUNTRY_PACK"
PACKS_DIR_ENV_VAR = "COUNTRY_PACKS_DIR"
SCHEMA_FILE = "country-pack.schema.json"
SCHEMA_VERSION = 1

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")]
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47")]
Amount = Annotated[str, Field(pattern=r"^\d+(\.\d{1,3})?$", description="decimal amount in the major unit")]


class CountryPackError(ValueError):
    """The pack named by COUNTRY_PACK cannot be used: missing, malformed, or for another country."""


class PackPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolVersions(PackPart):
    """What assessments run: the Compliance Assessment Tool and the zero-tolerance protocol in force."""

    tool: str = Field(pattern=r"^[a-z0-9_]+$", description="tool code, e.g. kh_garment")
    tool_version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    zero_tolerance_protocol: str = Field(pattern=r"^[a-z0-9_]+$")
    zero_tolerance_protocol_version: str = Field(pattern=r"^\d+(\.\d+){0,2}$")
    referral_list: tuple[str, ...] = Field(
        min_length=1, description="who is told of a confirmed zero-tolerance finding, besides linked buyers"
    )
    cycle_months: int = Field(ge=6, le=24, description="months between assessments of one factory")


class PublicationRules(PackPart):
    """What the transparency portal may publish in this country."""

    cycle: Literal["calendar_year", "rolling"]
    min_assessments: int = Field(ge=1, le=5, description="assessments a factory needs before it is named")
    latest_assessment_only: bool
    factory_may_reply: bool
    reported_issues: str = Field(description="the tool's list of publicly reported issues, e.g. bfc_critical_21")
    low_compliance_naming: bool = Field(description="name factories far below the mean (Cambodia)")
    low_compliance_min_assessments: int | None = Field(default=None, ge=1, le=10)
    repeat_cycles_required: int | None = Field(
        default=None, ge=1, le=5, description="publish only issues found in more consecutive cycles than this"
    )


class Tier(PackPart):
    min_quantity: int = Field(ge=1)
    max_quantity: int | None = Field(default=None, ge=1)
    unit_price: Amount


class PriceItem(PackPart):
    service: Literal[
        "service_package", "advisory_day", "training", "additional_service", "buyer_credit", "assessment"
    ]  # a country prices `assessment` when it charges per assessment rather than a package per cycle
    description: str = Field(min_length=1)
    unit_price: Amount | None = None
    tiers: tuple[Tier, ...] = ()

    @model_validator(mode="after")
    def _one_way_to_price(self) -> PriceItem:
        if (self.unit_price is None) == (not self.tiers):
            raise ValueError("give either unit_price or tiers")
        return self


class PriceList(PackPart):
    currency: CurrencyCode
    effective_from: date
    group_discount_bps: int = Field(ge=0, le=10000, description="five or more factories of one group")
    group_discount_min_factories: int = Field(default=5, ge=2)
    items: tuple[PriceItem, ...] = Field(min_length=1)

    @field_validator("items")
    @classmethod
    def _one_item_per_service(cls, items: tuple[PriceItem, ...]) -> tuple[PriceItem, ...]:
        services = [i.service for i in items]
        if len(services) != len(set(services)):
            raise ValueError("one price item per service")
        return items


class IssuingEntity(PackPart):
    """The legal entity on invoices (may differ from the body that delivers the service, as in Indonesia)."""

    code: str = Field(pattern=r"^[A-Z]{2,5}$", description="prefixes document numbers")
    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    country: CountryCode
    delivered_by: str = Field(min_length=1)


class OverdueAction(StrEnum):
    REMINDER = "reminder"
    HOLD_REPORTS = "hold_reports"
    SUSPEND_FACTORY = "suspend_factory"


class OverdueStep(PackPart):
    days_past_due: int = Field(ge=1, le=365)
    action: OverdueAction
    min_amount_due: dict[CurrencyCode, Amount] = Field(default_factory=dict)


class Invoicing(PackPart):
    issuing_entity: IssuingEntity
    payment_terms_days: int = Field(ge=0, le=365)
    price_list: PriceList
    overdue_policy: tuple[OverdueStep, ...] = Field(min_length=1)

    @field_validator("overdue_policy")
    @classmethod
    def _steps_in_order(cls, steps: tuple[OverdueStep, ...]) -> tuple[OverdueStep, ...]:
        days = [s.days_past_due for s in steps]
        if days != sorted(set(days)):
            raise ValueError("overdue steps must have strictly increasing days_past_due")
        return steps


class Advisory(PackPart):
    training_days_per_year: int = Field(ge=0, le=60, description="training-day entitlement per factory per year")
    progress_report_days: int = Field(ge=1, le=180, description="days from report release to the first progress report")


class CountryPack(PackPart):
    schema_version: Literal[1]
    country: CountryCode
    programme: str = Field(min_length=1, description="the country programme's name, e.g. Better Factories Cambodia")
    languages: tuple[LanguageTag, ...] = Field(min_length=1, description="first one is the default")
    currency: CurrencyCode
    time_zone: str = Field(description="IANA time zone, e.g. Asia/Phnom_Penh")
    assessments: ToolVersions
    transparency: PublicationRules
    invoicing: Invoicing
    advisory: Advisory

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CountryPack:
        if "en" not in self.languages:
            raise ValueError("languages must include en (reports to buyers are in English)")
        if self.invoicing.price_list.currency not in (self.currency, "USD"):
            raise ValueError("the price list is in the country's currency or USD")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def price(self, service: str) -> Decimal | None:
        """Unit price of a service without tiers (None when it is tiered or not offered)."""
        item = next((i for i in self.invoicing.price_list.items if i.service == service), None)
        return Decimal(item.unit_price) if item and item.unit_price is not None else None


def parse_country_pack(data: Any, *, source: str = "<pack>") -> CountryPack:
    try:
        return CountryPack.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors())
        raise CountryPackError(f"country pack {source} is invalid: {problems}") from exc


def load_country_pack(path: str | Path, *, expected_country: str | None = None) -> CountryPack:
    """Read and check one pack; `expected_country` (the service's COUNTRY) must match the pack's."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CountryPackError(f"country pack {file} cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CountryPackError(f"country pack {file} is not valid YAML: {exc}") from exc
    pack = parse_country_pack(data, source=str(file))
    if expected_country and expected_country.upper() != pack.country:
        raise CountryPackError(
            f"country pack {file} is for {pack.country}, but this instance serves {expected_country}"
        )
    return pack


def shipped_packs_dir() -> Path | None:
    """Where the packs shipped with this release are: `COUNTRY_PACKS_DIR`, else the repository's
    `deploy/countries` above this file (a checkout or an editable install), else None."""
    explicit = os.environ.get(PACKS_DIR_ENV_VAR, "").strip()
    if explicit:
        return Path(explicit)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "deploy" / "countries"
        if (candidate / SCHEMA_FILE).is_file():
            return candidate
    return None


def shipped_pack_path(country: str) -> Path:
    """The shipped pack of `country` (CountryPackError when none is shipped)."""
    folder = shipped_packs_dir()
    if folder is None:
        raise CountryPackError(
            f"no country pack is shipped where this instance can find it for {country}: "
            f"set {ENV_VAR} to the pack's path, or {PACKS_DIR_ENV_VAR} to the folder of <iso>.yaml packs"
        )
    path = folder / f"{country.lower()}.yaml"
    if not path.is_file():
        raise CountryPackError(
            f"no country pack is shipped for {country.upper()} (looked for {path}): "
            f"write deploy/countries/{country.lower()}.yaml or set {ENV_VAR} to the pack's path"
        )
    return path


def load_country_pack_from_env(expected_country: str | None = None) -> CountryPack | None:
    """The pack of this instance: the file named by COUNTRY_PACK, else the pack shipped for `expected_country`
    (the service's COUNTRY), else None (neither is set)."""
    path = os.environ.get(ENV_VAR, "").strip()
    if path:
        return load_country_pack(path, expected_country=expected_country)
    if expected_country:
        return load_country_pack(shipped_pack_path(expected_country), expected_country=expected_country)
    return None


def country_pack_schema() -> dict[str, Any]:
    """The JSON schema committed as deploy/countries/country-pack.schema.json."""
    schema = CountryPack.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://betterwork.example/schemas/country-pack.v1.json"
    return schema
