"""Configuration of the assessments service: environment variables prefixed `ASSESSMENTS_`."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class AssessmentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="ASSESSMENTS_")

    service_name: ClassVar[str] = "assessments"
    default_port: ClassVar[int] = 8002

    load_shipped_data: bool = Field(
        default=True,
        description="On start, publish the shipped country tool and zero-tolerance protocol where none exists yet.",
    )
    comment_sweep_s: float = Field(
        default=300.0, gt=0, description="How often to finalise assessments whose factory comment period has ended."
    )
