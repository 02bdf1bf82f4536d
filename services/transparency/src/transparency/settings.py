"""Configuration of the transparency service: environment variables prefixed `TRANSPARENCY_`."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class TransparencySettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="TRANSPARENCY_")

    service_name: ClassVar[str] = "transparency"
    default_port: ClassVar[int] = 8006

    public_cache_s: float = Field(
        default=5.0,
        ge=0,
        description="How long a public page or API answer is served from this process's memory before it is read "
        "again; a release published through another process shows within this time (this one clears at once).",
    )
    public_cache_entries: int = Field(default=20_000, ge=0, description="Most public answers kept in memory.")
