"""Settings shared by every service.

Each service subclasses `ServiceSettings` and sets its own environment prefix
(`REGISTRY_`, `ASSESSMENTS_`, ...). Deployment-wide values (`DATABASE_URL`,
`KAFKA_BOOTSTRAP_SERVERS`, auth, telemetry, country) are also read without a
prefix, so one variable configures all six services; the prefixed variable wins
when both are set (a deployment may give one service its own database).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import URL, make_url

SHARED_FIELDS: frozenset[str] = frozenset(
    {
        "database_url",
        "kafka_bootstrap_servers",
        "country",
        "auth_issuer",
        "auth_audience",
        "auth_jwks_url",
        "auth_public_key",
        "auth_public_key_file",
        "otel_traces_exporter",
        "otel_exporter_otlp_endpoint",
        "log_level",
        "log_format",
        "kafka_topic_prefix",
        "kafka_fetch_max_wait_ms",
        "kafka_fetch_idle_wait_ms",
        "kafka_fetch_idle_after_s",
        "kafka_replication_factor",
        "kafka_request_timeout_s",
        "kafka_session_timeout_ms",
        "kafka_security_protocol",
        "kafka_ssl_cafile",
        "kafka_ssl_certfile",
        "kafka_ssl_keyfile",
        "max_body_bytes",
        "rate_limit_writes",
        "rate_limit_uploads",
        "jwks_cache_s",
    }
)


class _SharedEnvSource(EnvSettingsSource):
    """Reads only the deployment-wide fields, without the service prefix."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls, env_prefix="", case_sensitive=False)

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in super().__call__().items() if k in SHARED_FIELDS}


def asyncpg_url(url: str) -> URL:
    """Parse a Postgres URL and make sure it names the asyncpg driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+asyncpg")


def libpq_dsn(url: URL) -> str:
    """A SQLAlchemy URL as a plain `postgresql://` DSN (asyncpg, psql), password included."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ServiceSettings(BaseSettings):
    """Configuration of one service; subclasses set `service_name` and the env prefix."""

    model_config = SettingsConfigDict(extra="ignore", env_prefix="SERVICE_")

    service_name: ClassVar[str] = "service"
    default_port: ClassVar[int] = 8000
    # Postgres extensions the service's migrations need, created in its schema by the provisioning admin.
    db_extensions: ClassVar[tuple[str, ...]] = ()

    # --- deployment-wide (also read without prefix) -----------------------
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/betterwork",
        description="Server and database. Each service logs in as its own role (db_role), "
        "whatever user this URL names; the URL's own user is for provisioning.",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    country: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 code of the country programme this instance serves."
    )
    auth_issuer: str = "betterwork-local"
    auth_audience: str | None = "betterwork"
    auth_jwks_url: str | None = None
    auth_public_key: str | None = Field(default=None, description="PEM public key that signs tokens.")
    auth_public_key_file: Path | None = None
    jwks_cache_s: float = Field(
        default=300,
        gt=0,
        le=86400,
        description="How long keys fetched from AUTH_JWKS_URL are trusted before they are fetched again: a key "
        "the issuer withdrew stops verifying tokens at most this long after.",
    )
    max_body_bytes: int = Field(
        default=1_000_000,
        ge=1024,
        description="Largest request body accepted, before routing and authentication (413 beyond). "
        "A route that takes larger uploads declares its own cap.",
    )
    rate_limit_writes: str | None = Field(
        default="1000/second",
        description="Writes (POST, PUT, PATCH, DELETE) per client in one process, as a `limits` string "
        "(`100/second`, `5000/minute`, `;`-separated for several); empty turns it off. Over it answers 429.",
    )
    rate_limit_uploads: str | None = Field(
        default="30/minute", description="Uploads (routes with their own body cap) per client in one process."
    )
    otel_traces_exporter: Literal["none", "console", "otlp"] = "none"
    otel_exporter_otlp_endpoint: str | None = None
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    kafka_topic_prefix: str = Field(
        default="", pattern=r"^[A-Za-z0-9._-]*$", description="Prepended to every topic and consumer group name."
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=20,
        ge=1,
        le=10000,
        description="How long a fetch waits for data. Tansu does not answer a waiting fetch early (BROKER.md), "
        "so low values are what keep latency low there; Apache Kafka can use 500.",
    )
    kafka_fetch_idle_wait_ms: int = Field(
        default=3000,
        ge=1,
        le=10000,
        description="The fetch wait of a consumer at rest: a third of it once no event came for "
        "`kafka_fetch_idle_after_s`, all of it after ten times as long. An idle platform then polls the broker "
        "every few seconds instead of fifty times a second; the first event after a quiet spell waits at most "
        "this long, the next ones are fetched at `kafka_fetch_max_wait_ms` again.",
    )
    kafka_fetch_idle_after_s: float = Field(
        default=2.0, ge=0, le=3600, description="How long without events before a consumer counts as idle."
    )
    kafka_replication_factor: int = Field(default=1, ge=1, le=5)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL"] = Field(
        default="PLAINTEXT",
        description="PLAINTEXT for the development broker; SSL for a TLS listener (Strimzi), with the CA below and, "
        "for mutual TLS, this service's KafkaUser certificate and key.",
    )
    kafka_ssl_cafile: str | None = Field(
        default=None, description="CA certificate that signed the brokers' certificates."
    )
    kafka_ssl_certfile: str | None = Field(default=None, description="This service's client certificate (PEM).")
    kafka_ssl_keyfile: str | None = Field(default=None, description="The private key of that certificate (PEM).")
    kafka_request_timeout_s: float = Field(default=10.0, gt=0, le=120, description="Upper bound of any broker call.")
    kafka_session_timeout_ms: int = Field(
        default=10000, ge=1000, le=300000, description="How soon the group notices a consumer that died."
    )

    # --- this service only (prefixed) ------------------------------------
    host: str = "127.0.0.1"
    port: int = 0
    db_role: str | None = Field(default=None, description="Login role; defaults to bw_<service>.")
    db_password: SecretStr | None = None
    db_pool_size: int = Field(
        default=10, ge=1, le=100, description="Connections kept open; requests beyond them wait for one."
    )
    readiness_timeout_s: float = Field(default=2.0, gt=0, le=30)
    relay_enabled: bool = Field(default=True, description="Run the outbox relay in this process.")
    relay_batch_size: int = Field(default=500, ge=1, le=10000)
    relay_poll_interval_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Fallback poll when no NOTIFY came (a commit with events NOTIFYs the relay).",
    )
    outbox_retention_s: float = Field(default=600, ge=0, description="How long published outbox rows are kept.")
    consumer_enabled: bool = Field(default=True, description="Run the event consumer in this process.")
    consumer_batch_size: int = Field(default=500, ge=1, le=10000)
    consumer_retry_budget: int = Field(
        default=3, ge=1, le=20, description="Attempts for an event whose handler fails before it is dead-lettered."
    )
    consumer_watchdog_s: float = Field(
        default=60, gt=0, description="Restart the consumer when it has made no progress for this long."
    )
    inbox_retention_days: int = Field(default=30, ge=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SharedEnvSource(settings_cls), dotenv_settings, file_secret_settings)

    @field_validator("country")
    @classmethod
    def _country_is_alpha2(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if len(value) != 2 or not value.isalpha():
            raise ValueError("country must be an ISO 3166-1 alpha-2 code such as KH or VN")
        return value.upper()

    @field_validator("rate_limit_writes", "rate_limit_uploads")
    @classmethod
    def _rate_limit_parses(cls, value: str | None) -> str | None:
        if not value:
            return None
        parse_many(value)  # ValueError names what is wrong
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgres(cls, value: str) -> str:
        asyncpg_url(value)
        return value

    def model_post_init(self, __context: Any) -> None:
        if self.port == 0:
            self.port = self.default_port

    @property
    def role(self) -> str:
        """The Postgres login role, and owner of the service's schema."""
        return self.db_role or f"bw_{self.service_name}"

    @property
    def db_schema(self) -> str:
        """The Postgres schema the service owns: its own name."""
        return self.service_name

    def service_database_url(self) -> URL:
        """URL the service connects with: the shared server, logged in as its own role."""
        password = self.db_password.get_secret_value() if self.db_password else None
        # URL.set() ignores None, so rebuild: the admin password must never carry over.
        return asyncpg_url(self.database_url)._replace(username=self.role, password=password)

    def admin_database_url(self) -> URL:
        """URL as configured, used to provision roles and schemas."""
        return asyncpg_url(self.database_url)
