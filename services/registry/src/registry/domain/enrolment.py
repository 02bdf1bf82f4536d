"""A factory's enrolment in the programme: a state machine, pure rules (DOMAIN.md section 1).

registered -> enrolled (service package, start date) -> active -> suspended (reason) -> active again
(reactivated) or exited; exit is possible from every state but exited, and is final. Each change is
recorded with who made it, when and why, and names the event other services hear
(`factory.status_changed`: enrolled, activated, suspended, reactivated, exited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Status(StrEnum):
    REGISTERED = "registered"
    ENROLLED = "enrolled"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXITED = "exited"


class Change(StrEnum):
    """What happened, as `factory.status_changed` tells it."""

    ENROLLED = "enrolled"
    ACTIVATED = "activated"
    SUSPENDED = "suspended"
    REACTIVATED = "reactivated"
    EXITED = "exited"


class SuspensionReason(StrEnum):
    UNPAID_FEES = "unpaid_fees"
    PROGRAMME_DECISION = "programme_decision"
    OTHER = "other"


class JoinedVia(StrEnum):
    """How the factory came to the programme."""

    SELF = "self"
    BUYER = "buyer"
    MANDATORY_SCHEME = "mandatory_scheme"  # e.g. Jordan's rules-of-origin customs list


class IllegalTransition(ValueError):
    """The change is not allowed from the current status (the API answers 409)."""


@dataclass(frozen=True)
class StatusChange:
    change: Change
    from_status: Status
    to_status: Status
    at: datetime
    by: str
    reason: str | None = None
    suspension_reason: SuspensionReason | None = None
    service_package: str | None = None
    start_date: date | None = None


@dataclass(frozen=True)
class Enrolment:
    status: Status
    history: tuple[StatusChange, ...] = ()
    service_package: str | None = None
    start_date: date | None = None
    joined_via: JoinedVia = JoinedVia.SELF

    @classmethod
    def registered(cls, joined_via: JoinedVia = JoinedVia.SELF) -> Enrolment:
        return cls(status=Status.REGISTERED, joined_via=joined_via)

    def enrol(self, *, service_package: str, start_date: date, at: datetime, by: str) -> tuple[Enrolment, StatusChange]:
        if not service_package.strip():
            raise IllegalTransition("enrolment needs a service package")
        return self._move(
            Change.ENROLLED,
            Status.ENROLLED,
            at=at,
            by=by,
            service_package=service_package.strip(),
            start_date=start_date,
        )

    def activate(self, *, at: datetime, by: str) -> tuple[Enrolment, StatusChange]:
        return self._move(Change.ACTIVATED, Status.ACTIVE, at=at, by=by)

    def suspend(
        self, *, reason: SuspensionReason, note: str | None, at: datetime, by: str
    ) -> tuple[Enrolment, StatusChange]:
        if reason is SuspensionReason.OTHER and not (note and note.strip()):
            raise IllegalTransition("a suspension for another reason needs a note saying which")
        return self._move(Change.SUSPENDED, Status.SUSPENDED, at=at, by=by, reason=note, suspension_reason=reason)

    def reactivate(self, *, at: datetime, by: str, note: str | None = None) -> tuple[Enrolment, StatusChange]:
        return self._move(Change.REACTIVATED, Status.ACTIVE, at=at, by=by, reason=note)

    def exit(self, *, reason: str, at: datetime, by: str) -> tuple[Enrolment, StatusChange]:
        if not reason.strip():
            raise IllegalTransition("an exit needs a reason")
        return self._move(Change.EXITED, Status.EXITED, at=at, by=by, reason=reason.strip())

    def _move(self, change: Change, to: Status, **details: object) -> tuple[Enrolment, StatusChange]:
        if self.status not in ALLOWED[change]:
            allowed = ", ".join(sorted(ALLOWED[change]))
            raise IllegalTransition(
                f"cannot {_VERB[change]} a factory that is {self.status.value} (only from: {allowed})"
            )
        record = StatusChange(change=change, from_status=self.status, to_status=to, **details)  # type: ignore[arg-type]
        package = record.service_package or self.service_package
        start = record.start_date or self.start_date
        moved = Enrolment(
            status=to,
            history=(*self.history, record),
            service_package=package,
            start_date=start,
            joined_via=self.joined_via,
        )
        return moved, record


_VERB = {
    Change.ENROLLED: "enrol",
    Change.ACTIVATED: "activate",
    Change.SUSPENDED: "suspend",
    Change.REACTIVATED: "reactivate",
    Change.EXITED: "exit",
}

ALLOWED: dict[Change, frozenset[Status]] = {
    Change.ENROLLED: frozenset({Status.REGISTERED}),
    Change.ACTIVATED: frozenset({Status.ENROLLED}),
    Change.SUSPENDED: frozenset({Status.ENROLLED, Status.ACTIVE}),
    Change.REACTIVATED: frozenset({Status.SUSPENDED}),
    Change.EXITED: frozenset({Status.REGISTERED, Status.ENROLLED, Status.ACTIVE, Status.SUSPENDED}),
}
