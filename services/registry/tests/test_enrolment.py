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
    periods_of,
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
    if step == "re_enrol":
        return e.re_enrol(service_package="core", start_date=START, at=AT, by="staff-1")
    return e.exit(reason="closed", at=AT, by="staff-1")


STEP_OF = {
    Change.ENROLLED: "enrol",
    Change.ACTIVATED: "activate",
    Change.SUSPENDED: "suspend",
    Change.REACTIVATED: "reactivate",
    Change.EXITED: "exit",
    Change.RE_ENROLLED: "re_enrol",
}
TARGET = {
    Change.ENROLLED: Status.ENROLLED,
    Change.ACTIVATED: Status.ACTIVE,
    Change.SUSPENDED: Status.SUSPENDED,
    Change.REACTIVATED: Status.ACTIVE,
    Change.EXITED: Status.EXITED,
    Change.RE_ENROLLED: Status.ENROLLED,
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


def test_an_exited_factory_comes_back_only_by_re_enrolment() -> None:
    exited = in_status(Status.EXITED)
    for change, step in STEP_OF.items():
        if change is Change.RE_ENROLLED:
            continue
        with pytest.raises(IllegalTransition):
            apply(exited, step)
    with pytest.raises(IllegalTransition, match="re-enrolment"):
        apply(exited, "enrol")
    back, record = exited.re_enrol(service_package="core", start_date=START, at=AT, by="staff-1")
    assert (back.status, record.change, record.from_status) == (Status.ENROLLED, Change.RE_ENROLLED, Status.EXITED)


def test_re_enrolment_opens_a_new_period_and_keeps_the_old_one() -> None:
    e = in_status(Status.SUSPENDED)
    assert [p.number for p in e.periods] == [1] and e.current_period is not None
    later = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    e, _ = e.exit(reason="moved production abroad", at=later, by="tl-2")
    assert e.current_period is None
    first = e.periods[0]
    assert (first.start_date, first.ended_at, first.end_reason, first.ended_by) == (
        START,
        later,
        "moved production abroad",
        "tl-2",
    )
    back_on = date(2028, 2, 1)
    e, record = e.re_enrol(service_package="premium", start_date=back_on, at=later, by="tl-2", note="new owner")
    assert record.reason == "new owner"
    assert [(p.number, p.service_package, p.start_date, p.open) for p in e.periods] == [
        (1, "core", START, False),
        (2, "premium", back_on, True),
    ]
    assert (e.service_package, e.start_date) == ("premium", back_on)
    assert [c.change for c in e.history][-2:] == [Change.EXITED, Change.RE_ENROLLED]
    assert periods_of(e.history) == e.periods  # the periods are what the history adds up to
    e, _ = e.exit(reason="closed", at=later, by="tl-2")
    assert [p.open for p in e.periods] == [False, False]


def test_a_factory_that_never_enrolled_has_no_period_until_it_does() -> None:
    e, _ = Enrolment.registered().exit(reason="not eligible", at=AT, by="s")
    assert e.periods == ()
    e, _ = e.re_enrol(service_package="core", start_date=START, at=AT, by="s")
    assert [p.number for p in e.periods] == [1]


def test_the_event_tells_a_re_enrolment_as_an_enrolment() -> None:
    assert Change.RE_ENROLLED.event_change == "enrolled"
    assert {c.event_change for c in Change if c is not Change.RE_ENROLLED} == {
        c.value for c in Change if c is not Change.RE_ENROLLED
    }


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
    with pytest.raises(IllegalTransition, match="service package"):
        in_status(Status.EXITED).re_enrol(service_package="", start_date=START, at=AT, by="s")
