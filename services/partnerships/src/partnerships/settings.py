"""Configuration of the partnerships service: environment variables prefixed `PARTNERSHIPS_`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class PartnershipsSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="PARTNERSHIPS_")

    service_name: ClassVar[str] = "partnerships"
    default_port: ClassVar[int] = 8004
