"""Configuration of the transparency service: environment variables prefixed `TRANSPARENCY_`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class TransparencySettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="TRANSPARENCY_")

    service_name: ClassVar[str] = "transparency"
    default_port: ClassVar[int] = 8006
