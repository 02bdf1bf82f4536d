"""Rules added for domain correctness, without I/O: cancel and reschedule before fieldwork ends, four eyes,
the comment period's clock, severity, revisions proposed by one and approved by another."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from assessments.domain import assessment as rules
from assessments.domain.assessment import Assessment, Correction, Finding, FourEyesError, Plan, ProposalStatus
from assessments.domain.lifecycle import COMMENT_DAYS, AssessmentType, LifecycleError, Mode, Result, Severity, Status

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def planned(status: Status = Status.SCHEDULED, *, start: date, end: date, team: tuple[str, ...] = ()) -> Assessment:
    plan = Plan(uuid.uuid4(), AssessmentType.INITIAL, Mode.UNANNOUNCED, False, (), team, start, end)
    return replace(
        rules.schedule(plan, country="KH", cycle=1, tool_version_id=uuid.uuid4(), by="ea", now=NOW), status=status
    )


TODAY = NOW.date()


@pytest.mark.parametrize("status", list(Status))
def test_cancelling_is_allowed_only_before_fieldwork_ends(status: Status) -> None:
    upcoming = planned(status, start=TODAY + timedelta(days=1), end=TODAY + timedelta(days=2))
    if status in (Status.SCHEDULED, Status.IN_PROGRESS):
        cancelled, record = rules.cancel(upcoming, reason="strike", by="ea", now=NOW)
        assert (cancelled.status, cancelled.version, record.comment) == (Status.CANCELLED, 2, "strike")
    else:
        with pytest.raises(LifecycleError):
            rules.cancel(upcoming, reason="strike", by="ea", now=NOW)
    with pytest.raises(LifecycleError, match="reason"):
        rules.cancel(upcoming, reason=" ", by="ea", now=NOW)


def test_an_assessment_in_progress_past_its_last_visit_day_is_neither_cancelled_nor_moved() -> None:
    finished = planned(Status.IN_PROGRESS, start=TODAY - timedelta(days=3), end=TODAY - timedelta(days=1))
    with pytest.raises(LifecycleError, match="fieldwork has ended"):
        rules.cancel(finished, reason="x", by="ea", now=NOW)
    with pytest.raises(LifecycleError, match="fieldwork has ended"):
        rules.reschedule(finished, start=finished.start_date, end=TODAY + timedelta(days=1), reason="x", now=NOW)
    overdue_but_unstarted = planned(start=TODAY - timedelta(days=3), end=TODAY - timedelta(days=1))
    moved = rules.reschedule(overdue_but_unstarted, start=TODAY, end=TODAY, reason="missed", now=NOW)
    assert moved.report_due == TODAY + timedelta(days=28)


def test_rescheduling_recomputes_the_due_date_and_keeps_a_started_visits_first_day() -> None:
    ongoing = planned(Status.IN_PROGRESS, start=TODAY - timedelta(days=1), end=TODAY)
    longer = rules.reschedule(ongoing, start=ongoing.start_date, end=TODAY + timedelta(days=2), reason="x", now=NOW)
    assert (longer.end_date, longer.report_due, longer.version) == (
        TODAY + timedelta(days=2),
        TODAY + timedelta(days=30),
        2,
    )
    with pytest.raises(LifecycleError, match="started"):
        rules.reschedule(ongoing, start=TODAY, end=TODAY + timedelta(days=2), reason="x", now=NOW)
    with pytest.raises(LifecycleError, match="current ones"):
        rules.reschedule(ongoing, start=ongoing.start_date, end=ongoing.end_date, reason="x", now=NOW)


def test_quality_check_release_and_return_are_a_team_leaders_who_was_not_on_the_team() -> None:
    draft = planned(Status.DRAFT_SUBMITTED, start=TODAY, end=TODAY, team=("ea-1", "tl-2"))
    for to in (Status.QUALITY_CHECKED, Status.IN_PROGRESS):
        with pytest.raises(FourEyesError, match="team leader"):
            rules.check_four_eyes(draft, to, by="ea-3", is_team_leader=False, team=frozenset(draft.team))
        with pytest.raises(FourEyesError, match="on the assessment team"):
            rules.check_four_eyes(draft, to, by="tl-2", is_team_leader=True, team=frozenset(draft.team))
        rules.check_four_eyes(draft, to, by="tl-9", is_team_leader=True, team=frozenset(draft.team))
    started = planned(Status.SCHEDULED, start=TODAY, end=TODAY)
    rules.check_four_eyes(started, Status.IN_PROGRESS, by="ea-1", is_team_leader=False, team=frozenset())


def test_finalisation_waits_for_the_end_of_the_comment_period_or_the_factorys_waiver() -> None:
    released = planned(Status.RELEASED, start=TODAY, end=TODAY)
    opened, _ = rules.move(released, Status.COMMENT_PERIOD, comment=None, missing_findings=0, by="ea", now=NOW)
    assert opened.comment_period_ends == NOW + timedelta(days=COMMENT_DAYS)
    with pytest.raises(LifecycleError, match="comment period"):
        rules.move(opened, Status.FINALISED, comment=None, missing_findings=0, by="ea", now=NOW + timedelta(days=1))
    later = NOW + timedelta(days=COMMENT_DAYS, seconds=1)
    assert rules.move(opened, Status.FINALISED, comment=None, missing_findings=0, by="x", now=later)[0].status is (
        Status.FINALISED
    )
    waived = replace(opened, comment_period_waived=True)
    assert (
        rules.move(waived, Status.FINALISED, comment=None, missing_findings=0, by="f", now=NOW)[0].finalised_at == NOW
    )


def test_a_revision_is_proposed_by_one_staff_member_and_approved_by_another() -> None:
    final = planned(Status.FINALISED, start=TODAY, end=TODAY)
    finding = Finding(
        final.id, "Q-1", Result.NON_COMPLIANT, "Worker X", 3, 1, NOW, "ea-1", "Records lack", Severity.HIGH
    )
    with pytest.raises(LifecycleError, match="severity"):
        rules.propose(
            final, "Q-1", Correction(Result.COMPLIANT, None, None, "x", severity=Severity.LOW), by="a", now=NOW
        )
    proposal = rules.propose(
        final, "Q-1", Correction(Result.COMPLIANT, None, None, "payroll found"), by="ea-1", now=NOW
    )
    with pytest.raises(FourEyesError):
        rules.correct(final, finding, proposal, by="ea-1", now=NOW)
    revised, revision, decided = rules.correct(final, finding, proposal, by="ea-2", now=NOW)
    assert (revised.result, revised.revision, revised.severity) == (Result.COMPLIANT, 2, None)
    assert (revision.author, revision.approved_by, decided.status, decided.revision) == (
        "ea-1",
        "ea-2",
        ProposalStatus.APPROVED,
        2,
    )
    with pytest.raises(LifecycleError, match="approved already"):
        rules.reject(decided, by="ea-3", note="no", now=NOW)
    with pytest.raises(LifecycleError, match="why"):
        rules.reject(proposal, by="ea-3", note="", now=NOW)
