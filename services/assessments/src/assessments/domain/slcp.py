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

The export of a released Better Work assessment is a different document (`format:
betterwork-assessment-for-slcp/1`): Better Work data is not SLCP-verified, so it carries no SLCP status or
verifier, says so, and cannot be imported back as an SLCP assessment.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from assessments.domain.lifecycle import Result
from assessments.domain.tool import Question, Tool

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


def export_answers(tool: Tool, findings: Mapping[str, Result]) -> list[dict[str, Any]]:
    """A released assessment's findings as answers to SLCP questions, one per mapped SLCP question.

    Where several tool questions map to one SLCP question, any non-compliance makes it non-compliant. The
    Yes/No answer follows the question's polarity (a compliant factory answers "No" to "does the employer
    employ workers under 15?"); `id_confirmed` says whether the SLCP id was verified or only assumed.
    """
    by_slcp: dict[str, list[tuple[Question, Result]]] = {}
    for code, result in findings.items():
        question = tool.question(code)
        for slcp_id in question.slcp:
            by_slcp.setdefault(slcp_id, []).append((question, result))
    answers = []
    for slcp_id, pairs in sorted(by_slcp.items()):
        results = [r for _, r in pairs]
        if Result.NON_COMPLIANT in results:
            finding = Result.NON_COMPLIANT
        elif Result.COMPLIANT in results:
            finding = Result.COMPLIANT
        else:
            finding = Result.NOT_APPLICABLE
        question = min((q for q, _ in pairs), key=lambda q: list(tool.questions).index(q.code))
        answers.append(
            {
                "question_id": slcp_id,
                "finding": finding.value,
                "answer": question.answer(finding.value),
                "id_confirmed": all(q.slcp_confirmed for q, _ in pairs),
            }
        )
    return answers


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


EXPORT_FORMAT = "betterwork-assessment-for-slcp/1"
EXPORT_STATEMENT = (
    "Better Work assessment data, released by the country programme, mapped onto SLCP question ids. It is not an "
    "SLCP-verified assessment: no SLCP verifier took part and it carries no SLCP verification status."
)


@dataclass(frozen=True)
class SlcpExport:
    """A released Better Work assessment offered to SLCP: says what it is (not SLCP-verified data), which of its
    SLCP ids are unconfirmed, and answers that follow each question's polarity."""

    assessment_id: str
    facility_id: str
    assessment_status: str  # released or finalised (Better Work's lifecycle, not SLCP's)
    status_date: date
    sector: str
    answers: list[dict[str, Any]]
    unconfirmed_question_ids: list[str]
    format: str = EXPORT_FORMAT
    source: str = "Better Work"
    slcp_verified: bool = False
    statement: str = EXPORT_STATEMENT
