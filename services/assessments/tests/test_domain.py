"""Rules of the assessments domain, without I/O: the lifecycle, figures, cases, the tool and SLCP mapping."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files

import pytest
import yaml

from assessments.domain import aggregates as agg
from assessments.domain.lifecycle import (
    ALLOWED,
    LifecycleError,
    Result,
    Status,
    check_finding_edit,
    check_revision,
    check_transition,
    is_overdue,
    report_due,
)
from assessments.domain.slcp import export_answers, map_answers
from assessments.domain.tool import ToolError, parse_tool, to_documents
from assessments.domain.zero_tolerance import CaseError, CaseStatus, check_move, overdue_steps, parse_protocol
from devstack.testkit.assessments import kh_tool

DATA = files("assessments").joinpath("data")
GLOBAL = yaml.safe_load((DATA / "cat_global.yaml").read_text(encoding="utf-8"))
TOOL = parse_tool(GLOBAL, kh_tool())
ALLOWED_PAIRS = {(source, to) for to, sources in ALLOWED.items() for source in sources}


@pytest.mark.parametrize(("current", "to"), list(itertools.product(Status, Status)))
def test_every_transition_is_allowed_or_refused(current: Status, to: Status) -> None:
    comment = "fix the wages section" if (current, to) == (Status.DRAFT_SUBMITTED, Status.IN_PROGRESS) else None
    if (current, to) in ALLOWED_PAIRS:
        check_transition(current, to, comment=comment, missing_findings=0)
    else:
        with pytest.raises(LifecycleError, match="cannot move"):
            check_transition(current, to, comment=comment, missing_findings=0)


def test_the_allowed_moves_are_the_documented_ones() -> None:
    assert {
        (Status.SCHEDULED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.DRAFT_SUBMITTED),
        (Status.DRAFT_SUBMITTED, Status.IN_PROGRESS),
        (Status.DRAFT_SUBMITTED, Status.QUALITY_CHECKED),
        (Status.QUALITY_CHECKED, Status.RELEASED),
        (Status.RELEASED, Status.COMMENT_PERIOD),
        (Status.COMMENT_PERIOD, Status.FINALISED),
    } == ALLOWED_PAIRS


def test_returning_a_draft_needs_comments_and_submitting_needs_every_finding() -> None:
    with pytest.raises(LifecycleError, match="comments"):
        check_transition(Status.DRAFT_SUBMITTED, Status.IN_PROGRESS, comment=" ", missing_findings=0)
    with pytest.raises(LifecycleError, match="3 question"):
        check_transition(Status.IN_PROGRESS, Status.DRAFT_SUBMITTED, comment=None, missing_findings=3)


def test_findings_change_only_in_progress_and_finalised_ones_only_by_revision() -> None:
    check_finding_edit(Status.IN_PROGRESS)
    for status in set(Status) - {Status.IN_PROGRESS}:
        with pytest.raises(LifecycleError):
            check_finding_edit(status)
    check_revision(Status.FINALISED, "typo in the payroll check")
    with pytest.raises(LifecycleError, match="reason"):
        check_revision(Status.FINALISED, "")
    with pytest.raises(LifecycleError, match="finalised"):
        check_revision(Status.RELEASED, "why")


def test_the_report_is_due_28_days_after_the_last_visit_day_and_overdue_until_released() -> None:
    due = report_due(date(2026, 11, 3))
    assert due == date(2026, 12, 1)
    assert is_overdue(Status.QUALITY_CHECKED, due, date(2026, 12, 2))
    assert not is_overdue(Status.QUALITY_CHECKED, due, date(2026, 12, 1))
    assert not is_overdue(Status.RELEASED, due, date(2027, 1, 1))


def test_figures_on_a_known_assessment() -> None:
    """Hand-checked: CL has 6 questions; 2 non-compliant and 1 not applicable give 2 of 5."""
    cl = [code for code, q in TOOL.questions.items() if q.cluster == "CL"]
    assert len(cl) == 6
    findings = dict.fromkeys(TOOL.questions, Result.COMPLIANT)
    findings[cl[0]] = findings[cl[1]] = Result.NON_COMPLIANT
    findings[cl[2]] = Result.NOT_APPLICABLE
    figures = agg.assessment_aggregates(TOOL, findings)
    assert figures.by_cluster["CL"].as_dict() == {"non_compliant": 2, "applicable": 5, "rate": 0.4}
    assert figures.overall.as_dict() == {"non_compliant": 2, "applicable": 86, "rate": 0.0233}
    public = [code for code, q in TOOL.questions.items() if q.publicly_reported]
    assert len(public) == 23
    expected_public = sum(1 for code in cl[:2] if code in public)
    assert figures.publicly_reported.non_compliant == expected_public
    assert figures.publicly_reported.applicable == 23 - (1 if cl[2] in public else 0)
    assert figures.by_cluster["WT"].rate == 0.0


def test_mean_per_factory_then_averaged() -> None:
    """(1/23 + 3/23) / 2 = 0.087 (not 4/46 weighted by size, which here happens to agree; see the next)."""
    mean, count = agg.mean_per_factory_then_averaged([agg.Rate(1, 23), agg.Rate(3, 23), agg.Rate(0, 0)])
    assert (mean, count) == (0.087, 2)
    mean, _ = agg.mean_per_factory_then_averaged([agg.Rate(1, 2), agg.Rate(0, 20)])
    assert mean == 0.25  # mean of 0.5 and 0.0; pooled it would be 1/22


def test_a_tool_exports_and_reads_back_unchanged() -> None:
    global_template, country_tool = to_documents(TOOL)
    assert parse_tool(global_template, country_tool) == TOOL


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t["questions"][0].update(compliance_point="XX-NOPE"), "not in the global template"),
        (lambda t: t["questions"].append(dict(t["questions"][0])), "appears twice"),
        (lambda t: t["questions"][0].update(tags=["zero_tolerance"], zero_tolerance_category=None), "category"),
        (lambda t: t["questions"][0].update(tags=["famous"]), "unknown tag"),
        (lambda t: t["questions"][0].update(text={"km": "x"}), "English"),
    ],
)
def test_a_broken_tool_is_refused_with_the_reason(change: object, problem: str) -> None:
    document = kh_tool()
    change(document)  # type: ignore[operator]
    with pytest.raises(ToolError, match=problem):
        parse_tool(GLOBAL, document)


def test_case_steps_go_forward_one_at_a_time_and_deadlines_turn_overdue() -> None:
    check_move(CaseStatus.OPENED, CaseStatus.REFERRED, None)
    with pytest.raises(CaseError, match="referred next"):
        check_move(CaseStatus.OPENED, CaseStatus.ACKNOWLEDGED, None)
    with pytest.raises(CaseError, match="note"):
        check_move(CaseStatus.REMEDIATION, CaseStatus.CLOSED, None)
    with pytest.raises(CaseError, match="closed"):
        check_move(CaseStatus.CLOSED, CaseStatus.CLOSED, "again")
    protocol = parse_protocol(yaml.safe_load((DATA / "zt_protocol_kh.yaml").read_text(encoding="utf-8")))
    rule = protocol.rule("child_labour")
    assert "linked_buyers" in rule.notify
    opened = datetime(2026, 11, 1, tzinfo=UTC)
    from assessments.domain.zero_tolerance import deadlines_for

    deadlines = deadlines_for(rule, opened)
    late = opened + timedelta(days=rule.deadline_days[CaseStatus.ACKNOWLEDGED] + 1)
    assert overdue_steps(CaseStatus.OPENED, deadlines, late)[:2] == ["referred", "acknowledged"]
    assert overdue_steps(CaseStatus.ACKNOWLEDGED, deadlines, late) == []


def test_slcp_answers_map_through_the_tool_and_unmapped_ones_are_listed() -> None:
    mapped_ids = sorted(TOOL.slcp_index())
    answers = [
        {"question_id": mapped_ids[0], "answer": "No", "finding": "non_compliant"},
        {"question_id": mapped_ids[1], "answer": "Yes", "finding": "compliant"},
        {"question_id": "ZZ-NOT-01", "answer": "Yes", "finding": "compliant"},
    ]
    mapped = map_answers(TOOL, answers)
    assert mapped.unmapped == ["ZZ-NOT-01"]
    assert {TOOL.slcp_index()[mapped_ids[0]][0].code: Result.NON_COMPLIANT}.items() <= mapped.findings.items()
    exported = export_answers(TOOL, mapped.findings)
    assert {a["question_id"]: a["finding"] for a in exported}[mapped_ids[0]] == "non_compliant"
