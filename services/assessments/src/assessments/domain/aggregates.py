"""Non-compliance figures computed from findings (DOMAIN.md section 2). Pure: no I/O.

A rate is non-compliant findings divided by applicable findings (compliant plus non-compliant);
not-applicable questions count for neither. The country figure on publicly reported issues is the
programme's "mean per factory, then averaged": each factory's rate over its publicly reported
questions, then the plain mean of those rates, so a large factory weighs as much as a small one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from assessments.domain.lifecycle import Result
from assessments.domain.tool import Tool


@dataclass(frozen=True)
class Rate:
    non_compliant: int
    applicable: int

    @property
    def rate(self) -> float | None:
        return round(self.non_compliant / self.applicable, 4) if self.applicable else None

    def as_dict(self) -> dict[str, float | int | None]:
        return {"non_compliant": self.non_compliant, "applicable": self.applicable, "rate": self.rate}


def _add(counts: dict[str, list[int]], key: str, result: Result) -> None:
    entry = counts.setdefault(key, [0, 0])
    if result is Result.NOT_APPLICABLE:
        return
    entry[1] += 1
    if result is Result.NON_COMPLIANT:
        entry[0] += 1


@dataclass(frozen=True)
class AssessmentAggregates:
    overall: Rate
    publicly_reported: Rate
    by_cluster: dict[str, Rate]
    by_compliance_point: dict[str, Rate]
    by_question: dict[str, Result]


def assessment_aggregates(tool: Tool, findings: Mapping[str, Result]) -> AssessmentAggregates:
    """Rates per compliance point and cluster (every one of the tool's, answered or not), overall and on
    publicly reported questions, for one assessment's findings {question code: result}."""
    clusters: dict[str, list[int]] = {code: [0, 0] for code in tool.clusters}
    points: dict[str, list[int]] = {code: [0, 0] for code in tool.compliance_points}
    overall: dict[str, list[int]] = {"all": [0, 0], "public": [0, 0]}
    for code, result in findings.items():
        question = tool.question(code)
        _add(clusters, question.cluster, result)
        _add(points, question.compliance_point, result)
        _add(overall, "all", result)
        if question.publicly_reported:
            _add(overall, "public", result)
    return AssessmentAggregates(
        overall=Rate(*overall["all"]),
        publicly_reported=Rate(*overall["public"]),
        by_cluster={k: Rate(*v) for k, v in clusters.items()},
        by_compliance_point={k: Rate(*v) for k, v in points.items()},
        by_question=dict(findings),
    )


def mean_per_factory_then_averaged(per_factory: Iterable[Rate]) -> tuple[float | None, int]:
    """The average of the factories' rates (factories with nothing applicable are left out), and how many."""
    rates = [r.non_compliant / r.applicable for r in per_factory if r.applicable]  # unrounded, then one rounding
    if not rates:
        return None, 0
    return round(sum(rates) / len(rates), 4), len(rates)
