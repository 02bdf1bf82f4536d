"""A factory's enrolment in the programme: a state machine, pure rules (DOMAIN.md section 1).

registered -> enrolled (service package, start date) -> active -> suspended (reason) -> active again
(reactivated) or exited; exit is possible from every state but exited. A factory that left and comes back is
re-enrolled (exited -> enrolled, a new service package and start date): that opens a new enrolment period, and
the periods before it stay on the record with when they started, when they ended and why. Each change is
recorded with who made it, when and why, and names the event other services hear
(`factory.status_changed`: enrolled, activated, suspended, reactivated, exited; a re-enrolment is told as
`enrolled` from `exited` with `re_enrolment: true`, so consumers built before it read it as the enrolment it is).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    RE_ENROLLED = "re_enrolled"  # the event says `enrolled` (with `re_enrolment: true`): see `event_change`

    @property
    def event_change(self) -> str:
        """The `change` of `factory.status_changed` (a closed list in the contract: a new value would break
        consumers built before it, so a re-enrolment is an enrolment there)."""
        return Change.ENROLLED.value if self is Change.RE_ENROLLED else self.value


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
class EnrolmentPeriod:
    """One stay in the programme: from an enrolment (or re-enrolment) to the exit that ended it, if any."""

    number: int  # 1 for the first enrolment, 2 after the first re-enrolment, ...
    service_package: str
    start_date: date  # the service start the staff gave
    enrolled_at: datetime  # when the enrolment was recorded
    enrolled_by: str
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None  # the exit's reason

    @property
    def open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class Enrolment:
    status: Status
    history: tuple[StatusChange, ...] = ()
    service_package: str | None = None
    start_date: date | None = None
    joined_via: JoinedVia = JoinedVia.SELF
    periods: tuple[EnrolmentPeriod, ...] = ()

    @property
    def current_period(self) -> EnrolmentPeriod | None:
        """The period the factory is in (None before its first enrolment and after an exit)."""
        return self.periods[-1] if self.periods and self.periods[-1].open else None

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

    def re_enrol(
        self, *, service_package: str, start_date: date, at: datetime, by: str, note: str | None = None
    ) -> tuple[Enrolment, StatusChange]:
        """An exited factory comes back: a new enrolment period; the earlier ones and the history stay."""
        if not service_package.strip():
            raise IllegalTransition("a re-enrolment needs a service package")
        return self._move(
            Change.RE_ENROLLED,
            Status.ENROLLED,
            at=at,
            by=by,
            reason=note.strip() if note and note.strip() else None,
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
            hint = " (a factory that exited comes back by re-enrolment)" if change is Change.ENROLLED else ""
            raise IllegalTransition(
                f"cannot {_VERB[change]} a factory that is {self.status.value} (only from: {allowed}){hint}"
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
            periods=next_periods(self.periods, record),
        )
        return moved, record


def next_periods(periods: tuple[EnrolmentPeriod, ...], record: StatusChange) -> tuple[EnrolmentPeriod, ...]:
    """The enrolment periods after `record`: an enrolment opens one, an exit closes the open one."""
    if record.change in (Change.ENROLLED, Change.RE_ENROLLED):
        assert record.service_package is not None and record.start_date is not None
        opened = EnrolmentPeriod(
            number=len(periods) + 1,
            service_package=record.service_package,
            start_date=record.start_date,
            enrolled_at=record.at,
            enrolled_by=record.by,
        )
        return (*periods, opened)
    if record.change is Change.EXITED and periods and periods[-1].open:
        closed = replace(periods[-1], ended_at=record.at, ended_by=record.by, end_reason=record.reason)
        return (*periods[:-1], closed)
    return periods


def periods_of(history: tuple[StatusChange, ...]) -> tuple[EnrolmentPeriod, ...]:
    """The enrolment periods a status history adds up to (oldest first)."""
    periods: tuple[EnrolmentPeriod, ...] = ()
    for record in history:
        periods = next_periods(periods, record)
    return periods


_VERB = {
    Change.ENROLLED: "enrol",
    Change.ACTIVATED: "activate",
    Change.SUSPENDED: "suspend",
    Change.REACTIVATED: "reactivate",
    Change.EXITED: "exit",
    Change.RE_ENROLLED: "re-enrol",
}

ALLOWED: dict[Change, frozenset[Status]] = {
    Change.ENROLLED: frozenset({Status.REGISTERED}),
    Change.ACTIVATED: frozenset({Status.ENROLLED}),
    Change.SUSPENDED: frozenset({Status.ENROLLED, Status.ACTIVE}),
    Change.REACTIVATED: frozenset({Status.SUSPENDED}),
    Change.EXITED: frozenset({Status.REGISTERED, Status.ENROLLED, Status.ACTIVE, Status.SUSPENDED}),
    Change.RE_ENROLLED: frozenset({Status.EXITED}),
}
