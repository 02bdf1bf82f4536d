"""The improvement item's rules without a database: lifecycle moves allowed and refused per actor, verification,
recurrence, due dates and the weighted progress figures on a hand-checked example."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from advisory.domain import plan as rules
from advisory.domain.plan import Actor, Item, ItemStatus, PlanRuleError, Severity, Source

NOW = datetime(2026, 12, 10, tzinfo=UTC)
RELEASED = date(2026, 12, 1)


def item(**fields: object) -> Item:
    severity = fields.pop("severity", Severity.STANDARD)
    assert isinstance(severity, Severity)
    base = Item(
        id=uuid.uuid4(),
        plan_id=uuid.uuid4(),
        factory_id=uuid.uuid4(),
        country="KH",
        source=Source.ASSESSMENT,
        title="KH-OSH-01",
        severity=severity,
        due_date=rules.due_date(severity, RELEASED),
        raised_on=RELEASED,
        assessment_id=uuid.uuid4(),
        question_code="KH-OSH-01",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


ALLOWED = [
    (ItemStatus.OPEN, ItemStatus.IN_PROGRESS, Actor.FACTORY),
    (ItemStatus.OPEN, ItemStatus.REPORTED_DONE, Actor.FACTORY),
    (ItemStatus.IN_PROGRESS, ItemStatus.REPORTED_DONE, Actor.FACTORY),
    (ItemStatus.REPORTED_DONE, ItemStatus.VERIFIED, Actor.ADVISOR),
    (ItemStatus.REPORTED_DONE, ItemStatus.IN_PROGRESS, Actor.ADVISOR),
    (ItemStatus.OPEN, ItemStatus.DISPUTED, Actor.FACTORY),
    (ItemStatus.DISPUTED, ItemStatus.WAIVED, Actor.ADVISOR),
    (ItemStatus.DISPUTED, ItemStatus.IN_PROGRESS, Actor.ADVISOR),
    (ItemStatus.OPEN, ItemStatus.WAIVED, Actor.ADVISOR),
    (ItemStatus.VERIFIED, ItemStatus.REOPENED, Actor.ADVISOR),
    (ItemStatus.WAIVED, ItemStatus.REOPENED, Actor.ADVISOR),
    (ItemStatus.REOPENED, ItemStatus.IN_PROGRESS, Actor.FACTORY),
]
REFUSED = [
    (ItemStatus.REPORTED_DONE, ItemStatus.VERIFIED, Actor.FACTORY),  # a factory never verifies itself
    (ItemStatus.OPEN, ItemStatus.VERIFIED, Actor.ADVISOR),  # nothing is verified before it is reported done
    (ItemStatus.OPEN, ItemStatus.WAIVED, Actor.FACTORY),
    (ItemStatus.VERIFIED, ItemStatus.IN_PROGRESS, Actor.ADVISOR),  # a verified item only reopens
    (ItemStatus.VERIFIED, ItemStatus.REOPENED, Actor.FACTORY),
    (ItemStatus.WAIVED, ItemStatus.IN_PROGRESS, Actor.FACTORY),
    (ItemStatus.DISPUTED, ItemStatus.DISPUTED, Actor.FACTORY),
    (ItemStatus.REPORTED_DONE, ItemStatus.DISPUTED, Actor.FACTORY),
]


@pytest.mark.parametrize(("start", "to", "actor"), ALLOWED)
def test_allowed_moves(start: ItemStatus, to: ItemStatus, actor: Actor) -> None:
    moved, record = rules.move(item(status=start), to, actor=actor, by="someone", reason="because", now=NOW)
    assert moved.status is to and moved.version == 2
    assert (record.from_status, record.to_status, record.by) == (start, to, "someone")


@pytest.mark.parametrize(("start", "to", "actor"), REFUSED)
def test_refused_moves(start: ItemStatus, to: ItemStatus, actor: Actor) -> None:
    with pytest.raises(PlanRuleError):
        rules.move(item(status=start), to, actor=actor, by="someone", reason="because", now=NOW)


def test_waiving_disputing_and_reopening_need_a_reason_and_a_waiver_records_who() -> None:
    for to, start, actor in (
        (ItemStatus.WAIVED, ItemStatus.OPEN, Actor.ADVISOR),
        (ItemStatus.DISPUTED, ItemStatus.OPEN, Actor.FACTORY),
        (ItemStatus.REOPENED, ItemStatus.VERIFIED, Actor.ADVISOR),
    ):
        with pytest.raises(PlanRuleError, match="needs a reason"):
            rules.move(item(status=start), to, actor=actor, by="ea-dara", reason="  ", now=NOW)
    waived, _ = rules.move(
        item(), ItemStatus.WAIVED, actor=Actor.ADVISOR, by="ea-dara", reason="no night shift", now=NOW
    )
    assert (waived.waived_by, waived.waived_reason) == ("ea-dara", "no night shift")


def test_publicly_reported_and_zero_tolerance_items_count_as_fixed_only_once_verified() -> None:
    plain, public, zt = item(), item(publicly_reported=True), item(zero_tolerance=True)
    for it in (plain, public, zt):
        done, _ = rules.move(it, ItemStatus.REPORTED_DONE, actor=Actor.FACTORY, by="f", reason=None, now=NOW)
        assert done.reported_fixed
        assert done.counts_as_fixed is (it is plain)
        verified, _ = rules.move(done, ItemStatus.VERIFIED, actor=Actor.ADVISOR, by="ea", reason=None, now=NOW)
        assert verified.counts_as_fixed and verified.verified_by == "ea"


def test_a_later_assessment_reopens_a_fixed_item_and_marks_it_recurring() -> None:
    verified = item(status=ItemStatus.VERIFIED, verified_by="ea", verified_at=NOW)
    later = uuid.uuid4()
    recurred = rules.recur(verified, assessment_id=later, now=NOW)
    assert recurred is not None
    reopened, move = recurred
    assert (reopened.status, reopened.recurring, reopened.recurrences, reopened.verified_by) == (
        ItemStatus.REOPENED,
        True,
        1,
        None,
    )
    assert move.to_status is ItemStatus.REOPENED and str(later) in (move.reason or "")
    # still being worked on: marked recurring, status kept; the same assessment again is no recurrence
    working = item(status=ItemStatus.IN_PROGRESS)
    again = rules.recur(working, assessment_id=later, now=NOW)
    assert again is not None and again[0].status is ItemStatus.IN_PROGRESS and again[0].recurring
    assert rules.recur(verified, assessment_id=verified.assessment_id or later, now=NOW) is None


def test_due_dates_put_the_gravest_first_and_overdue_and_behind_schedule_show() -> None:
    assert rules.due_date(Severity.ZERO_TOLERANCE, RELEASED) == date(2026, 12, 8)
    assert rules.due_date(Severity.PUBLICLY_REPORTED, RELEASED) == date(2026, 12, 31)
    assert rules.due_date(Severity.STANDARD, RELEASED) == date(2027, 3, 1)
    zt = item(severity=Severity.ZERO_TOLERANCE)
    assert zt.overdue(date(2026, 12, 9)) and not zt.overdue(date(2026, 12, 8))
    standard = item()
    assert not standard.behind_schedule(date(2027, 1, 10))  # 40 of 90 days gone
    assert standard.behind_schedule(date(2027, 1, 20))  # 50 of 90 days gone, not started
    started = replace(standard, status=ItemStatus.IN_PROGRESS)
    assert not started.behind_schedule(date(2027, 1, 20))
    done = replace(zt, status=ItemStatus.REPORTED_DONE)
    assert not done.overdue(date(2027, 1, 1))


def test_progress_figures_on_a_hand_checked_example() -> None:
    """Weights: zero tolerance 3, publicly reported 2, other 1, times workers affected (one at least).

    A  zero tolerance, 10 workers, verified        weight 30
    B  publicly reported, 5 workers, reported done weight 10 (needs verification: not counted as fixed)
    C  other, no count, reported done              weight  1 (counted as fixed without verification)
    D  other, 9 workers, open                      weight  9
    E  other, 100 workers, waived                  left out
    total 50: reported fixed (A+B+C) 41/50 = 0.82; verified (A) 30/50 = 0.6; fixed (A+C) 31/50 = 0.62
    """
    items = [
        item(severity=Severity.ZERO_TOLERANCE, zero_tolerance=True, workers_affected=10, status=ItemStatus.VERIFIED),
        item(
            severity=Severity.PUBLICLY_REPORTED,
            publicly_reported=True,
            workers_affected=5,
            status=ItemStatus.REPORTED_DONE,
        ),
        item(status=ItemStatus.REPORTED_DONE),
        item(workers_affected=9),
        item(workers_affected=100, status=ItemStatus.WAIVED),
    ]
    figures = rules.progress(items, date(2026, 12, 10))
    assert (figures.items, figures.weight) == (4, 50)
    assert (figures.reported_fixed, figures.verified_fixed, figures.fixed) == (0.82, 0.6, 0.62)
    assert rules.progress([], date(2026, 12, 10)).fixed == 0.0


def test_progress_over_time_follows_the_recorded_moves() -> None:
    public = item(severity=Severity.PUBLICLY_REPORTED, publicly_reported=True)
    later = item(raised_on=date(2026, 12, 20), due_date=date(2027, 3, 20))
    done, first = rules.move(public, ItemStatus.REPORTED_DONE, actor=Actor.FACTORY, by="f", reason=None, now=NOW)
    verified_at = datetime(2026, 12, 15, tzinfo=UTC)
    current, second = rules.move(done, ItemStatus.VERIFIED, actor=Actor.ADVISOR, by="ea", reason=None, now=verified_at)
    days = [date(2026, 12, 5), date(2026, 12, 10), date(2026, 12, 15), date(2026, 12, 20)]
    series = rules.progress_series([current, later], {current.id: [first, second]}, days)
    assert [(p.items, p.reported_fixed, p.verified_fixed) for p in series] == [
        (1, 0.0, 0.0),  # raised, still open
        (1, 1.0, 0.0),  # reported done on the 10th
        (1, 1.0, 1.0),  # verified on the 15th
        (2, 0.6667, 0.6667),  # a new item (weight 1) beside the verified one (weight 2)
    ]
