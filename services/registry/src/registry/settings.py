"""Configuration of the registry service: environment variables prefixed `REGISTRY_`."""

from typing import ClassVar

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class MatchBounds(BaseModel):
    link: float = Field(ge=0, le=100, description="Score at or above which a submission links automatically.")
    review: float = Field(ge=0, le=100, description="Score at or above which a person reviews the match.")


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="REGISTRY_")

    service_name: ClassVar[str] = "registry"
    default_port: ClassVar[int] = 8001
    db_extensions: ClassVar[tuple[str, ...]] = ("pg_trgm",)

    match_thresholds: dict[str, MatchBounds] = Field(
        default_factory=dict,
        description='Per-country matching thresholds, JSON: {"KH": {"link": 88, "review": 72}, "*": {...}}. '
        "Countries not listed use the defaults (link 85, review 70).",
    )
    match_candidates: int = Field(default=20, ge=1, le=100, description="Fuzzy candidates fetched per submission.")
    import_batch_size: int = Field(default=250, ge=1, le=5000, description="Rows per transaction in list imports.")
    import_poll_s: float = Field(default=1.0, gt=0, description="How often an idle import worker looks for work.")
    import_max_rows: int = Field(default=100_000, ge=1, description="Largest list accepted in one upload.")
