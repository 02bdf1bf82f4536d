"""Every enrolment transition, allowed and refused (pure rules, no I/O)."""

from datetime import UTC, date, datetime

import pytest

from registry.domain.enrolment import (
    ALLOWED,
    Change,
    Enrolment,
    IllegalTransition,
    JoinedVia,
    Status,
    SuspensionReason,
)

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
START = date(2027, 1, 1)


def in_status(status: Status) -> Enrolment:
    """An enrolment that reached `status` the normal way."""
    e = Enrolment.registered()
    path = {
        Status.REGISTERED: [],
        Status.ENROLLED: ["enrol"],
        Status.ACTIVE: ["enrol", "activate"],
        Status.SUSPENDED: ["enrol", "activate", "suspend"],
        Status.EXITED: ["exit"],
    }[status]
    for step in path:
        e, _ = apply(e, step)
    return e


def apply(e: Enrolment, step: str) -> tuple[Enrolment, object]:
    if step == "enrol":
        return e.enrol(service_package="core", start_date=START, at=AT, by="staff-1")
    if step == "activate":
        return e.activate(at=AT, by="staff-1")
    if step == "suspend":
        return e.suspend(reason=SuspensionReason.UNPAID_FEES, note=None, at=AT, by="staff-1")
    if step == "reactivate":
        return e.reactivate(at=AT, by="staff-1")
    return e.exit(reason="closed", at=AT, by="staff-1")


STEP_OF = {
    Change.ENROLLED: "enrol",
    Change.ACTIVATED: "activate",
    Change.SUSPENDED: "suspend",
    Change.REACTIVATED: "reactivate",
    Change.EXITED: "exit",
}
TARGET = {
    Change.ENROLLED: Status.ENROLLED,
    Change.ACTIVATED: Status.ACTIVE,
    Change.SUSPENDED: Status.SUSPENDED,
    Change.REACTIVATED: Status.ACTIVE,
    Change.EXITED: Status.EXITED,
}
CASES = [(status, change) for status in Status for change in Change]


@pytest.mark.parametrize(("status", "change"), CASES, ids=[f"{s.value}-{c.value}" for s, c in CASES])
def test_every_transition(status: Status, change: Change) -> None:
    start = in_status(status)
    if status in ALLOWED[change]:
        moved, record = apply(start, STEP_OF[change])
        assert moved.status is TARGET[change]
        assert moved.history[-1] == record
        assert len(moved.history) == len(start.history) + 1
        assert (record.from_status, record.to_status, record.by) == (status, TARGET[change], "staff-1")
    else:
        with pytest.raises(IllegalTransition, match=status.value):
            apply(start, STEP_OF[change])


def test_exited_is_final() -> None:
    exited = in_status(Status.EXITED)
    for step in STEP_OF.values():
        with pytest.raises(IllegalTransition):
            apply(exited, step)


def test_history_keeps_who_why_and_the_package() -> None:
    e, _ = apply(Enrolment.registered(JoinedVia.BUYER), "enrol")
    e, _ = apply(e, "activate")
    e, record = e.suspend(reason=SuspensionReason.OTHER, note="fire safety audit pending", at=AT, by="tl-2")
    assert [c.change for c in e.history] == [Change.ENROLLED, Change.ACTIVATED, Change.SUSPENDED]
    assert (record.suspension_reason, record.reason, record.by) == (
        SuspensionReason.OTHER,
        "fire safety audit pending",
        "tl-2",
    )
    assert (e.service_package, e.start_date, e.joined_via) == ("core", START, JoinedVia.BUYER)


def test_changes_need_their_particulars() -> None:
    with pytest.raises(IllegalTransition, match="service package"):
        Enrolment.registered().enrol(service_package=" ", start_date=START, at=AT, by="s")
    active = in_status(Status.ACTIVE)
    with pytest.raises(IllegalTransition, match="note"):
        active.suspend(reason=SuspensionReason.OTHER, note=None, at=AT, by="s")
    with pytest.raises(IllegalTransition, match="reason"):
        active.exit(reason="", at=AT, by="s")
