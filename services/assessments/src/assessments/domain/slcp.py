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

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
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


@dataclass(frozen=True)
class SlcpImport:
    """An SLCP assessment as imported: the document as given and what it says about the tool's questions."""

    id: uuid.UUID
    slcp_assessment_id: str
    facility_id: str
    factory_id: uuid.UUID
    status: SlcpStatus
    verified: bool
    tool_version_id: uuid.UUID
    document: dict[str, Any]
    findings: dict[str, Result]
    unmapped: list[str]
    imported_at: datetime
    imported_by: str


def check_reimport(earlier: SlcpImport, document: Mapping[str, Any]) -> None:
    """`document` may only repeat the verified import `earlier`; a change is an SlcpError."""
    if earlier.document["answers"] != document["answers"] or SlcpStatus(document["status"]) is not SlcpStatus.VRF:
        raise SlcpError(
            f"SLCP assessment {document['assessment_id']} was imported as verified (VRF) and cannot change."
        )


class SlcpError(ValueError):
    """A verified (VRF) import cannot change (409)."""


@dataclass(frozen=True)
class SlcpExport:
    """A released assessment in the exchange format (VRC once released, VRF once finalised)."""

    assessment_id: str
    facility_id: str
    status: str
    status_date: date
    verifier: str
    sector: str
    answers: list[dict[str, str]]
    format: str = FORMAT
