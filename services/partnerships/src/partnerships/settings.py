"""Configuration of the partnerships service: environment variables prefixed `PARTNERSHIPS_`."""

from typing import ClassVar

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class PartnershipsSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="PARTNERSHIPS_")

    service_name: ClassVar[str] = "partnerships"
    default_port: ClassVar[int] = 8004

    # --- signed webhooks -------------------------------------------------------------------------------------
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Accept http:// and private, loopback or local targets (local runs and tests only: "
        "in production a webhook URL could otherwise reach internal systems).",
    )
    webhook_allowed_ports: list[int] | None = Field(
        default=None,
        description="Ports a webhook URL may name (JSON list, e.g. [443, 8443]); unset: 443 only, or any port "
        "when private targets are allowed (local receivers listen on high ports).",
    )
    webhook_endpoints_per_owner: int = Field(
        default=25, ge=1, le=10000, description="Most webhook endpoints one buyer or one client may register."
    )
    redelivery_rate_limit: str | None = Field(
        default="30/minute",
        description="Redeliveries one caller may ask for, as a `limits` string (`30/minute`); empty: unlimited.",
    )
    webhook_worker_enabled: bool = Field(default=True, description="Run the webhook delivery worker in this process.")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60, description="Time a receiver has to answer.")
    webhook_disable_after: int = Field(
        default=20, ge=1, le=1000, description="Consecutive failed attempts after which an endpoint is disabled."
    )
    webhook_batch_size: int = Field(
        default=200, ge=1, le=5000, description="Most messages claimed at once (a worker holds at most twice this)."
    )
    webhook_concurrency: int = Field(default=100, ge=1, le=1000, description="HTTP requests in flight at once.")
    webhook_connections_per_host: int = Field(
        default=10, ge=1, le=100, description="Connections (and requests in flight) per receiving origin."
    )
    webhook_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="How often an idle worker looks for due retries (NOTIFY wakes it early)."
    )
    webhook_secret_overlap_h: float = Field(
        default=24, ge=0, le=24 * 30, description="How long a rotated-out secret keeps signing beside the new one."
    )
    webhook_secret_key: SecretStr | None = Field(
        default=None,
        description='Fernet key(s) that seal signing secrets in the database (make one with `python -c "from '
        'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`); unset: stored as they are. '
        "Comma-separated to rotate, newest first: the first seals, every one opens; "
        "`POST /v1/webhook-secrets/reseal` then re-seals what is stored under the first.",
    )
    webhook_backoff_scale: float = Field(
        default=1.0, gt=0, le=10, description="Multiplies the retry schedule (5 s ... 8 h); tests shrink it."
    )

    # --- consent -------------------------------------------------------------------------------------------------
    consent_sweep_s: float = Field(
        default=60.0, gt=0, le=3600, description="How often consents whose time ran out are revoked as expired."
    )

    @field_validator("webhook_secret_key")
    @classmethod
    def _keys_are_fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        """Every key of the list is a Fernet key, so a typo stops the start instead of the first delivery."""
        if value is None or not value.get_secret_value().strip():
            return None
        for position, key in enumerate(sealing_keys(value), start=1):
            try:
                Fernet(key.encode())
            except ValueError:
                raise ValueError(
                    f"key {position} of the webhook secret key list is not a Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                ) from None
        return value

    @property
    def webhook_sealing_keys(self) -> tuple[str, ...]:
        """The sealing keys, newest first (empty: secrets are stored as they are)."""
        return sealing_keys(self.webhook_secret_key)


def sealing_keys(value: SecretStr | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(key.strip() for key in value.get_secret_value().split(",") if key.strip())
