"""Configuration of the advisory service: environment variables prefixed `ADVISORY_`."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class AdvisorySettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="ADVISORY_")

    service_name: ClassVar[str] = "advisory"
    default_port: ClassVar[int] = 8003

    training_days_per_year: int | None = Field(
        default=None,
        ge=0,
        le=60,
        description="Training days each factory of this instance's COUNTRY is entitled to per year; default: the "
        "country pack's figure (without a pack, the packaged figures per country).",
    )
