"""Events the transparency service publishes: a publication released to the public."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from betterwork_contracts.base import IntegrationEvent, Topic

PUBLICATION_TOPIC = Topic(
    name="transparency.publication",
    key="country",
    publisher="transparency",
    summary="Releases of the public portal and open data, one per country and publication cycle: immutable.",
)


class PublicationReleased(IntegrationEvent):
    """A country's publication was approved by a second person and is now public (portal, API and open data)."""

    type: ClassVar[str] = "org.betterwork.transparency.publication.released.v1"
    topic: ClassVar[Topic] = PUBLICATION_TOPIC
    aggregate_id_field: ClassVar[str] = "country"

    publication_id: UUID
    country: str = Field(pattern=r"^[A-Z]{2}$")
    release_number: int = Field(ge=1, description="1 for the country's first release, then one more each time.")
    rule_set: str = Field(description="Rule set code and version, e.g. bfc-public-reporting@1.")
    data_cut_off: date
    approved_by: str = Field(description="Subject of the staff member who approved (the second pair of eyes).")
    content_hash: str = Field(description="sha256 over the release's files: a rebuild gives the same value.")
    factories_listed: int = Field(ge=0)
    previous_release_number: int | None = None
    released_at: datetime
