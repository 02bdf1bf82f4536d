"""Configuration of the invoicing service: environment variables prefixed `INVOICING_`."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class InvoicingSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="INVOICING_")

    service_name: ClassVar[str] = "invoicing"
    default_port: ClassVar[int] = 8005
