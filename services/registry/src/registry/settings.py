"""Configuration of the registry service: environment variables prefixed `REGISTRY_`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="REGISTRY_")

    service_name: ClassVar[str] = "registry"
    default_port: ClassVar[int] = 8001
