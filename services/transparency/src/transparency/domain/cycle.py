"""The publication cycle as a pure state machine: a candidate is computed, staff review its differences against
the last release, a second person approves (four eyes) and the approval publishes it; or it is rejected.

    candidate --review--> reviewed --approve--> released
        \\                    \\
         `--reject-------------`--reject--> rejected

Refused: reviewing anything but a candidate; approving before a review, by the person who computed or reviewed
it, or when another release of the country came out after the candidate was computed (its differences were
reviewed against a release that is no longer the latest); any move out of released or rejected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

Status = Literal["candidate", "reviewed", "released", "rejected"]


class PublicationRuleError(Exception):
    """A move the publication cycle does not allow (the API answers 409)."""


class FourEyesError(PublicationRuleError):
    """The same person may not compute or review and also approve."""


@dataclass(frozen=True)
class Publication:
    id: uuid.UUID
    country: str
    rule_set: str
    cut_off: date
    log_position: int
    status: Status
    prepared_by: str
    prepared_at: datetime
    base_release: int | None  # the release number the differences are computed against
    content_hash: str
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    approved_by: str | None = None
    released_at: datetime | None = None
    release_number: int | None = None
    rejected_by: str | None = None
    reason: str | None = None


def review(publication: Publication, *, by: str, at: datetime) -> Publication:
    if publication.status != "candidate":
        raise PublicationRuleError(f"only a candidate can be reviewed; this one is {publication.status}")
    return replace(publication, status="reviewed", reviewed_by=by, reviewed_at=at)


def approve(publication: Publication, *, by: str, at: datetime, latest_release: int | None) -> Publication:
    """Approve and release: the release gets the number after the latest one of the country."""
    if publication.status != "reviewed":
        raise PublicationRuleError(f"only a reviewed candidate can be approved; this one is {publication.status}")
    if by in (publication.prepared_by, publication.reviewed_by):
        raise FourEyesError("a second person must approve: the approver neither computed nor reviewed it")
    if latest_release != publication.base_release:
        raise PublicationRuleError(
            f"release {latest_release} came out after this candidate was computed against release "
            f"{publication.base_release}: compute a new candidate and review its differences"
        )
    return replace(
        publication, status="released", approved_by=by, released_at=at, release_number=(latest_release or 0) + 1
    )


def reject(publication: Publication, *, by: str, reason: str) -> Publication:
    if publication.status not in ("candidate", "reviewed"):
        raise PublicationRuleError(f"a {publication.status} publication cannot be rejected")
    return replace(publication, status="rejected", rejected_by=by, reason=reason)
