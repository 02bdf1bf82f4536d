"""Events the partnerships service publishes: buyers, sourcing links, consent, report access, alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from betterwork_contracts.base import IntegrationEvent, Topic

REPORT_ACCESS_TOPIC = Topic(
    name="partnerships.report-access",
    key="factory id",
    publisher="partnerships",
    summary="Which buyer may read which factory's reporting cycle: consent and entitlement decided.",
)


class ReportAccessGranted(IntegrationEvent):
    """The buyer may now read the factory's assessment reports of this cycle (a current consent covering
    `assessment_reports` and an entitlement). Progress reports have their own decision (`progress_report_access`)."""

    type: ClassVar[str] = "org.betterwork.partnerships.report_access.granted.v1"
    topic: ClassVar[Topic] = REPORT_ACCESS_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("assessments",)

    factory_id: UUID
    buyer_id: UUID
    cycle: int = Field(ge=1)
    decided_at: datetime


class ReportAccessRevoked(IntegrationEvent):
    """The buyer may no longer read the factory's assessment reports of this cycle (consent revoked or expired)."""

    type: ClassVar[str] = "org.betterwork.partnerships.report_access.revoked.v1"
    topic: ClassVar[Topic] = REPORT_ACCESS_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("assessments",)

    factory_id: UUID
    buyer_id: UUID
    cycle: int = Field(ge=1)
    decided_at: datetime


class ProgressReportAccessGranted(IntegrationEvent):
    """The buyer may now read the factory's progress reports of this cycle: a current consent covering
    `progress_reports` and an entitlement to the cycle. Decided apart from assessment reports, so a consent to one
    never opens the other."""

    type: ClassVar[str] = "org.betterwork.partnerships.progress_report_access.granted.v1"
    topic: ClassVar[Topic] = REPORT_ACCESS_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("advisory",)

    factory_id: UUID
    buyer_id: UUID
    cycle: int = Field(ge=1)
    decided_at: datetime


class ProgressReportAccessRevoked(IntegrationEvent):
    """The buyer may no longer read the factory's progress reports of this cycle."""

    type: ClassVar[str] = "org.betterwork.partnerships.progress_report_access.revoked.v1"
    topic: ClassVar[Topic] = REPORT_ACCESS_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"
    consumers: ClassVar[tuple[str, ...]] = ("advisory",)

    factory_id: UUID
    buyer_id: UUID
    cycle: int = Field(ge=1)
    decided_at: datetime


BUYER_TOPIC = Topic(
    name="partnerships.buyer",
    key="buyer id",
    publisher="partnerships",
    summary="Buyers (brands, retailers) registered and their tier (participant or partner).",
)
RELATIONSHIP_TOPIC = Topic(
    name="partnerships.relationship",
    key="factory id",
    publisher="partnerships",
    summary="Sourcing links between buyers and factories, and the factory's consent to share its reports.",
)
ALERT_TOPIC = Topic(
    name="partnerships.alert",
    key="factory id (case alerts) or industry alert id (industry alerts)",
    publisher="partnerships",
    summary="Alerts raised to partners: zero-tolerance cases at factories they source from, and industry alerts "
    "staff of a country issue.",
)
Tier = Literal["participant", "partner"]
Scope = Literal["assessment_reports", "progress_reports", "zero_tolerance_alerts"]


class BuyerRegistered(IntegrationEvent):
    """A brand, retailer or manufacturer joined the programme."""

    type: ClassVar[str] = "org.betterwork.partnerships.buyer.registered.v1"
    topic: ClassVar[Topic] = BUYER_TOPIC
    aggregate_id_field: ClassVar[str] = "buyer_id"
    consumers: ClassVar[tuple[str, ...]] = ("invoicing",)

    buyer_id: UUID
    name: str = Field(min_length=1, max_length=300)
    headquarters_country: str = Field(pattern=r"^[A-Z]{2}$")
    tier: Tier
    registered_at: datetime


class BuyerTierChanged(IntegrationEvent):
    """A participant became a partner, or a partner was downgraded."""

    type: ClassVar[str] = "org.betterwork.partnerships.buyer.tier_changed.v1"
    topic: ClassVar[Topic] = BUYER_TOPIC
    aggregate_id_field: ClassVar[str] = "buyer_id"

    buyer_id: UUID
    tier: Tier
    previous_tier: Tier
    changed_at: datetime


class SourcingLinkChanged(IntegrationEvent):
    """A sourcing link was declared, confirmed or ended."""

    type: ClassVar[str] = "org.betterwork.partnerships.sourcing_link.changed.v1"
    topic: ClassVar[Topic] = RELATIONSHIP_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"

    link_id: UUID
    buyer_id: UUID
    factory_id: UUID
    status: Literal["declared", "confirmed", "ended"]
    start_date: date | None = None
    end_date: date | None = None
    changed_at: datetime


class ConsentGranted(IntegrationEvent):
    """The factory lets the buyer see its data within these scopes (until `expires_at`, if set)."""

    type: ClassVar[str] = "org.betterwork.partnerships.consent.granted.v1"
    topic: ClassVar[Topic] = RELATIONSHIP_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"

    consent_id: UUID
    buyer_id: UUID
    factory_id: UUID
    scopes: list[Scope]
    expires_at: datetime | None = None
    granted_at: datetime


class ConsentRevoked(IntegrationEvent):
    """The factory withdrew its consent (or it expired); it takes effect at once."""

    type: ClassVar[str] = "org.betterwork.partnerships.consent.revoked.v1"
    topic: ClassVar[Topic] = RELATIONSHIP_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"

    consent_id: UUID
    buyer_id: UUID
    factory_id: UUID
    reason: Literal["revoked", "expired"]
    revoked_at: datetime


class AlertRaised(IntegrationEvent):
    """A partner was alerted: one event per buyer alerted, carrying only what the zero-tolerance case event
    carries, so a bridge can hand each buyer its own alerts without telling it who else buys from the factory."""

    type: ClassVar[str] = "org.betterwork.partnerships.alert.raised.v1"
    topic: ClassVar[Topic] = ALERT_TOPIC
    aggregate_id_field: ClassVar[str] = "factory_id"

    alert_id: UUID
    kind: Literal["zero_tolerance.case_opened", "zero_tolerance.case_updated"]
    case_id: UUID
    factory_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    category: str
    status: str
    buyer_ids: list[UUID] = Field(
        description="The buyer this alert is for: the service publishes one event per buyer, so this holds one id."
    )
    raised_at: datetime


class IndustryAlertIssued(IntegrationEvent):
    """Staff of a country issued an industry alert (a strike, a building safety warning, a wage decision) to the
    partners sourcing from its factories, of one province, or among named factories. Which buyers were told stays
    private (buyers' identities are confidential between buyers): the event carries only how many were."""

    type: ClassVar[str] = "org.betterwork.partnerships.industry_alert.issued.v1"
    topic: ClassVar[Topic] = ALERT_TOPIC
    aggregate_id_field: ClassVar[str] = "alert_id"

    alert_id: UUID = Field(
        description="The industry alert: `GET /v1/industry-alerts/{alert_id}`, `industry_alert_id` in its webhooks."
    )
    country: str = Field(pattern=r"^[A-Z]{2}$")
    kind: str = Field(min_length=1, max_length=64, description="One of the subscription rules' industry alert kinds.")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)
    factory_ids: list[UUID] = Field(
        description="The factories it concerns; empty: every factory of the country, or of `province`."
    )
    province: str | None = Field(default=None, max_length=200, description="The province it concerns, if one.")
    recipient_buyer_count: int = Field(ge=0, description="How many buyers it was sent to (never which ones).")
    issued_at: datetime
