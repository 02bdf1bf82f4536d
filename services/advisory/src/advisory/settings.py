"""Configuration of the advisory service: environment variables prefixed `ADVISORY_`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class AdvisorySettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="ADVISORY_")

    service_name: ClassVar[str] = "advisory"
    default_port: ClassVar[int] = 8003
