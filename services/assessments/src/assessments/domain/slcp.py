"""SLCP exchange: our JSON format for a verified SLCP assessment, and its mapping onto the tool. Pure: no I/O.

The document (`format: betterwork-slcp/1`):

    {"format": "betterwork-slcp/1", "assessment_id": "SLCP-2026-000123", "facility_id": "SLCP-F-000042",
     "status": "VRF", "status_date": "2026-10-01", "verifier": "...",
     "answers": [{"question_id": "FP-BAS-26", "answer": "No", "finding": "non_compliant"}, ...]}

`status` is SLCP's: ASI (assessment initiated), ASC (assessment completed), VRP (verification pending),
VRQ (verification queued), VRE (verification in progress), VRC (verification completed), VRD
(verification disputed), VRF (verification finalised). Only VRF data counts as verified; anything
earlier is stored as unverified. A VRF document is immutable: importing the same SLCP assessment again
with different answers is refused. `finding` is the verified conclusion on the question
(`compliant`, `non_compliant`, `not_applicable`); `answer` is kept as given. Each answer lands on
every tool question mapped to its SLCP id; answers with no mapping are listed in the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from assessments.domain.lifecycle import Result
from assessments.domain.tool import Tool

FORMAT = "betterwork-slcp/1"


class SlcpStatus(StrEnum):
    ASI = "ASI"
    ASC = "ASC"
    VRP = "VRP"
    VRQ = "VRQ"
    VRE = "VRE"
    VRC = "VRC"
    VRD = "VRD"
    VRF = "VRF"

    @property
    def verified(self) -> bool:
        return self is SlcpStatus.VRF


@dataclass(frozen=True)
class Mapped:
    """What an SLCP document says about the tool's questions."""

    findings: dict[str, Result]  # tool question code -> result
    sources: dict[str, str]  # tool question code -> SLCP question id
    unmapped: list[str]  # SLCP question ids with no tool question
    conflicts: list[str]  # tool questions two SLCP answers disagree on (left out)


def map_answers(tool: Tool, answers: Sequence[Mapping[str, Any]]) -> Mapped:
    index = tool.slcp_index()
    findings: dict[str, Result] = {}
    sources: dict[str, str] = {}
    unmapped: list[str] = []
    conflicts: set[str] = set()
    for answer in answers:
        slcp_id = str(answer["question_id"])
        questions = index.get(slcp_id)
        if not questions:
            unmapped.append(slcp_id)
            continue
        result = Result(answer["finding"])
        for question in questions:
            if question.code in findings and findings[question.code] is not result:
                conflicts.add(question.code)
            findings[question.code] = result
            sources[question.code] = slcp_id
    for code in conflicts:
        findings.pop(code, None)
        sources.pop(code, None)
    return Mapped(findings, sources, sorted(set(unmapped)), sorted(conflicts))


def export_answers(tool: Tool, findings: Mapping[str, Result]) -> list[dict[str, str]]:
    """A released assessment's findings as SLCP answers, one per mapped SLCP question.

    Where several tool questions map to one SLCP question, any non-compliance makes it non-compliant.
    """
    by_slcp: dict[str, list[Result]] = {}
    for code, result in findings.items():
        for slcp_id in tool.question(code).slcp:
            by_slcp.setdefault(slcp_id, []).append(result)
    answers = []
    for slcp_id, results in sorted(by_slcp.items()):
        if Result.NON_COMPLIANT in results:
            finding = Result.NON_COMPLIANT
        elif Result.COMPLIANT in results:
            finding = Result.COMPLIANT
        else:
            finding = Result.NOT_APPLICABLE
        answers.append({"question_id": slcp_id, "finding": finding.value, "answer": _ANSWER[finding]})
    return answers


_ANSWER = {Result.COMPLIANT: "Yes", Result.NON_COMPLIANT: "No", Result.NOT_APPLICABLE: "N/A"}
