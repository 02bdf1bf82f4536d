"""Progress reports PR1 and PR2 (DOMAIN.md section 3). Pure: no I/O.

PR1 is due 30 days after the assessment report's release, PR2 later in the cycle (here 180 days after the
release). A report is a snapshot of the plan, the advisory visits, committee meetings and trainings of its
period; once issued it never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

PR1_DAYS = 30
PR2_DAYS = 180


class ReportKind(StrEnum):
    PR1 = "pr1"
    PR2 = "pr2"


def pr1_due(released_on: date) -> date:
    return released_on + timedelta(days=PR1_DAYS)


def due_date(kind: ReportKind, released_on: date) -> date:
    return released_on + timedelta(days=PR1_DAYS if kind is ReportKind.PR1 else PR2_DAYS)


@dataclass(frozen=True)
class Period:
    """What a report covers: from the release (PR1) or from PR1's issue (PR2) up to the day it is issued."""

    start: date
    end: date


def period(kind: ReportKind, released_on: date, pr1_issued_on: date | None, issued_on: date) -> Period:
    if kind is ReportKind.PR2 and pr1_issued_on is not None:
        return Period(pr1_issued_on, issued_on)
    return Period(released_on, issued_on)
