"""Tables of the partnerships schema (migration 0002); statements are written against these."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

SCHEMA = "partnerships"
_metadata = sa.MetaData(schema=SCHEMA)
TZ = sa.DateTime(timezone=True)

FACTORY_REF = sa.Table(
    "factory_ref",
    _metadata,
    sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("country", sa.String(2)),
    sa.Column("status", sa.String(16)),
    sa.Column("merged_into", UUID(as_uuid=True)),
    sa.Column("version", sa.Integer),
    sa.Column("updated_at", TZ),
    sa.Column("province", sa.Text),  # migration 0006: province or industrial zone, from the registry's events
)

BUYER = sa.Table(
    "buyer",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.String(300)),
    sa.Column("headquarters_country", sa.String(2)),
    sa.Column("tier", sa.String(16)),
    sa.Column("agreement_signed_on", sa.Date),
    sa.Column("agreement_commitments", ARRAY(sa.Text)),
    sa.Column("agreement_review_date", sa.Date),
    sa.Column("contacts", JSONB),
    sa.Column("version", sa.Integer),
    sa.Column("created_at", TZ),
    sa.Column("created_by", sa.Text),
    sa.Column("updated_at", TZ),
    sa.Column("home_country", sa.String(2)),
)

BUYER_TIER_CHANGE = sa.Table(
    "buyer_tier_change",
    _metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("buyer_id", UUID(as_uuid=True)),
    sa.Column("from_tier", sa.String(16)),
    sa.Column("to_tier", sa.String(16)),
    sa.Column("at", TZ),
    sa.Column("by_subject", sa.Text),
    sa.Column("reason", sa.Text),
)

SOURCING_LINK = sa.Table(
    "sourcing_link",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("buyer_id", UUID(as_uuid=True)),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("status", sa.String(16)),
    sa.Column("declared_by", sa.String(16)),
    sa.Column("declared_by_subject", sa.Text),
    sa.Column("confirmed_by", sa.String(16)),
    sa.Column("confirmed_by_subject", sa.Text),
    sa.Column("confirmed_at", TZ),
    sa.Column("start_date", sa.Date),
    sa.Column("end_date", sa.Date),
    sa.Column("created_at", TZ),
    sa.Column("updated_at", TZ),
)

CONSENT = sa.Table(
    "consent",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("buyer_id", UUID(as_uuid=True)),
    sa.Column("scopes", ARRAY(sa.Text)),
    sa.Column("granted_at", TZ),
    sa.Column("granted_by", sa.Text),
    sa.Column("expires_at", TZ),
    sa.Column("revoked_at", TZ),
    sa.Column("revoked_by", sa.Text),
    sa.Column("revoke_reason", sa.String(16)),
)

ENTITLEMENT = sa.Table(
    "entitlement",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("buyer_id", UUID(as_uuid=True)),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("cycle", sa.Integer),
    sa.Column("source", sa.String(16)),
    sa.Column("external_id", UUID(as_uuid=True)),
    sa.Column("granted_at", TZ),
    sa.Column("granted_by", sa.Text),
)

REPORT_ACCESS = sa.Table(
    "report_access",
    _metadata,
    sa.Column("buyer_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("factory_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("cycle", sa.Integer, primary_key=True),
    sa.Column("granted", sa.Boolean),
    sa.Column("decided_at", TZ),
    sa.Column("progress_granted", sa.Boolean, nullable=False, server_default=sa.false()),  # scope progress_reports
)

WEBHOOK_ENDPOINT = sa.Table(
    "webhook_endpoint",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("owner_type", sa.String(16)),  # "buyer" (owner_id = buyer id) or "service" (owner_id = client subject)
    sa.Column("owner_id", sa.Text),
    sa.Column("country", sa.String(2)),  # service clients: the country whose alerts they take
    sa.Column("party", sa.Text),  # service clients: the protocol party they are (ministry_of_labour, ...)
    sa.Column("url", sa.Text),
    sa.Column("description", sa.Text),
    sa.Column("event_types", ARRAY(sa.Text)),
    sa.Column("secrets", JSONB),  # [{"secret": "whsec_...", "created_at": iso, "expires_at": iso | null}]
    sa.Column("status", sa.String(16)),  # enabled, disabled
    sa.Column("consecutive_failures", sa.Integer),
    sa.Column("disabled_at", TZ),
    sa.Column("disabled_reason", sa.Text),
    sa.Column("created_at", TZ),
    sa.Column("created_by", sa.Text),
    sa.Column("updated_at", TZ),
    sa.Column("party_granted_by", sa.Text),  # staff who granted a service client's endpoint its party
    sa.Column("party_granted_at", TZ),  # alerts by party go only to granted endpoints
)

WEBHOOK_MESSAGE = sa.Table(
    "webhook_message",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),  # the webhook-id header
    sa.Column("endpoint_id", UUID(as_uuid=True)),
    sa.Column("event_type", sa.Text),
    sa.Column("body", sa.Text),  # the exact JSON body signed and sent
    sa.Column("status", sa.String(16)),  # pending, delivered, failed, skipped
    sa.Column("attempts", sa.Integer),
    sa.Column("next_attempt_at", TZ),
    sa.Column("created_at", TZ),
    sa.Column("delivered_at", TZ),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
)

WEBHOOK_ATTEMPT = sa.Table(
    "webhook_attempt",
    _metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("message_id", UUID(as_uuid=True)),
    sa.Column("endpoint_id", UUID(as_uuid=True)),
    sa.Column("attempt", sa.Integer),
    sa.Column("at", TZ),
    sa.Column("status_code", sa.Integer),
    sa.Column("latency_ms", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("manual", sa.Boolean),
)

ALERT = sa.Table(
    "alert",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("kind", sa.Text),
    sa.Column("case_id", UUID(as_uuid=True)),
    sa.Column("factory_id", UUID(as_uuid=True)),
    sa.Column("country", sa.String(2)),
    sa.Column("category", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("buyer_ids", ARRAY(UUID(as_uuid=True))),
    sa.Column("parties", ARRAY(sa.Text)),
    sa.Column("endpoints", sa.Integer),
    sa.Column("raised_at", TZ),
    sa.Column("industry_alert_id", UUID(as_uuid=True)),  # migration 0006: set on an industry alert's row
)

INDUSTRY_ALERT = sa.Table(  # migration 0006
    "industry_alert",
    _metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("kind", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("country", sa.String(2)),
    sa.Column("factory_ids", ARRAY(UUID(as_uuid=True))),
    sa.Column("province", sa.Text),
    sa.Column("buyer_ids", ARRAY(UUID(as_uuid=True))),  # the partners it was sent to
    sa.Column("endpoints", sa.Integer),
    sa.Column("rules_version", sa.Integer),  # of data/subscriptions.yaml, which chose the audience
    sa.Column("issued_by", sa.Text),
    sa.Column("issued_at", TZ),
)
