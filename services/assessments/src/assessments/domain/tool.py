"""The Compliance Assessment Tool as data (DOMAIN.md section 2): clusters and compliance points are global,
questions belong to a country and sector tool version. Pure: parse, check, export; no I/O.

A tool version document is the global template joined with one country tool (`data/cat_global.yaml`,
`data/tool_kh_garment.yaml` hold the shipped ones). Once published it never changes: an assessment is
pinned to the version it started with, and a new law means a new version.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

ZERO_TOLERANCE_CATEGORIES = frozenset(
    {
        "child_labour",
        "forced_labour",
        "corporal_punishment_violence",
        "imminent_danger",
        "freedom_of_association",
        "bribery",
        "retaliation",
    }
)


# How a country pack names a tool or protocol (`assessments.tool`, `tool_version`, ...): the same patterns as
# servicekit.country_pack, so a document can say which of them it is.
PACK_CODE = re.compile(r"^[a-z0-9_]+$")
PACK_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")


def pack_identity(document: Mapping[str, Any], error: type[ValueError]) -> tuple[str | None, str | None]:
    """The optional `code` and `version` a tool or protocol document carries, as a country pack names them
    (e.g. `jo_garment` and "1.0"); `error` for a malformed one."""
    code, version = document.get("code"), document.get("version")
    if code is not None and not PACK_CODE.match(str(code)):
        raise error(f"code {code!r} is not a pack code (lower-case letters, digits and _)")
    if version is not None and not PACK_VERSION.match(str(version)):
        raise error(f'version {version!r} is not a pack version (e.g. "1.0")')
    return (str(code) if code is not None else None), (str(version) if version is not None else None)


class Tag(StrEnum):
    PUBLICLY_REPORTED = "publicly_reported"
    GENDER_SENSITIVE = "gender_sensitive"
    ZERO_TOLERANCE = "zero_tolerance"


class ToolError(ValueError):
    """The tool document breaks a rule; the message says where."""


@dataclass(frozen=True)
class CompliancePoint:
    code: str
    name: dict[str, str]
    cluster: str


@dataclass(frozen=True)
class Cluster:
    code: str
    name: dict[str, str]
    category: str
    compliance_points: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    code: str
    compliance_point: str
    cluster: str
    text: dict[str, str]
    legal_reference: str | None
    tags: frozenset[Tag]
    zero_tolerance_category: str | None = None
    slcp: tuple[str, ...] = ()
    slcp_confirmed: bool = False  # the SLCP ids were checked against SLCP's own list (not assumed)
    yes_means_compliant: bool = True  # the question's polarity: False when "Yes" is the violation

    def answer(self, result: str) -> str:
        """The Yes/No answer to this question that a finding means ("N/A" when not applicable)."""
        if result == "not_applicable":
            return "N/A"
        compliant = result == "compliant"
        return "Yes" if compliant is self.yes_means_compliant else "No"

    @property
    def publicly_reported(self) -> bool:
        return Tag.PUBLICLY_REPORTED in self.tags

    @property
    def zero_tolerance(self) -> bool:
        return Tag.ZERO_TOLERANCE in self.tags


@dataclass(frozen=True)
class Tool:
    country: str
    sector: str
    label: str
    effective_from: date | None
    legal_basis: str | None
    languages: tuple[str, ...]
    clusters: dict[str, Cluster]
    compliance_points: dict[str, CompliancePoint]
    questions: dict[str, Question] = field(default_factory=dict)
    code: str | None = None  # what a country pack names it by (`assessments.tool`), when the document says
    version: str | None = None  # ... and its version (`assessments.tool_version`)

    def question(self, code: str) -> Question:
        try:
            return self.questions[code]
        except KeyError:
            raise ToolError(f"question {code} is not in tool {self.label}") from None

    def slcp_index(self) -> dict[str, list[Question]]:
        """SLCP question id -> the tool's questions mapped to it."""
        index: dict[str, list[Question]] = {}
        for question in self.questions.values():
            for slcp_id in question.slcp:
                index.setdefault(slcp_id, []).append(question)
        return index


def zero_tolerance_categories(tool: Tool) -> set[str]:
    """The zero-tolerance categories the tool's questions can trigger (the country protocol must cover each)."""
    return {q.zero_tolerance_category for q in tool.questions.values() if q.zero_tolerance_category}


def _text(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not isinstance(value.get("en"), str) or not value["en"].strip():
        raise ToolError(f"{where}: needs an English text (`en`)")
    return {str(k): str(v) for k, v in value.items()}


def _require(document: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in document or document[key] in (None, ""):
        raise ToolError(f"{where}: `{key}` is missing")
    return document[key]


def parse_tool(global_template: Mapping[str, Any], country_tool: Mapping[str, Any]) -> Tool:
    """Join and check a global template and a country tool (the two YAML documents, as loaded)."""
    if global_template.get("kind") != "cat-global":
        raise ToolError("the global template must have `kind: cat-global`")
    if country_tool.get("kind") != "cat-country-tool":
        raise ToolError("the country tool must have `kind: cat-country-tool`")
    clusters: dict[str, Cluster] = {}
    points: dict[str, CompliancePoint] = {}
    for i, raw in enumerate(_require(global_template, "clusters", "global template")):
        where = f"clusters[{i}]"
        code = str(_require(raw, "code", where))
        if code in clusters:
            raise ToolError(f"{where}: cluster {code} appears twice")
        category = str(_require(raw, "category", where))
        if category not in ("core_labour_standards", "national_law"):
            raise ToolError(f"{where}: category must be core_labour_standards or national_law")
        cp_codes = []
        for j, cp in enumerate(_require(raw, "compliance_points", where)):
            cp_code = str(_require(cp, "code", f"{where}.compliance_points[{j}]"))
            if cp_code in points:
                raise ToolError(f"compliance point {cp_code} appears twice")
            points[cp_code] = CompliancePoint(cp_code, _text(cp.get("name"), f"compliance point {cp_code}"), code)
            cp_codes.append(cp_code)
        clusters[code] = Cluster(code, _text(raw.get("name"), f"cluster {code}"), category, tuple(cp_codes))

    country = str(_require(country_tool, "country", "country tool")).upper()
    questions: dict[str, Question] = {}
    for i, raw in enumerate(_require(country_tool, "questions", "country tool")):
        where = f"questions[{i}]"
        code = str(_require(raw, "code", where))
        if code in questions:
            raise ToolError(f"{where}: question {code} appears twice")
        cp_code = str(_require(raw, "compliance_point", f"question {code}"))
        if cp_code not in points:
            raise ToolError(f"question {code}: compliance point {cp_code} is not in the global template")
        try:
            tags = frozenset(Tag(t) for t in raw.get("tags") or ())
        except ValueError as exc:
            raise ToolError(f"question {code}: unknown tag ({exc})") from None
        category = raw.get("zero_tolerance_category")
        if Tag.ZERO_TOLERANCE in tags and category not in ZERO_TOLERANCE_CATEGORIES:
            raise ToolError(f"question {code}: a zero-tolerance question needs a known zero_tolerance_category")
        if Tag.ZERO_TOLERANCE not in tags and category is not None:
            raise ToolError(f"question {code}: zero_tolerance_category without the zero_tolerance tag")
        yes_means = raw.get("yes_means", "compliant")
        if yes_means not in ("compliant", "non_compliant"):
            raise ToolError(f"question {code}: yes_means is compliant or non_compliant")
        confirmed = raw.get("slcp_confirmed", False)
        if not isinstance(confirmed, bool):
            raise ToolError(f"question {code}: slcp_confirmed is true or false")
        questions[code] = Question(
            code=code,
            compliance_point=cp_code,
            cluster=points[cp_code].cluster,
            text=_text(raw.get("text"), f"question {code}"),
            legal_reference=raw.get("legal_reference"),
            tags=tags,
            zero_tolerance_category=category,
            slcp=tuple(str(s) for s in raw.get("slcp") or ()),
            slcp_confirmed=confirmed,
            yes_means_compliant=yes_means == "compliant",
        )
    if not questions:
        raise ToolError("the country tool has no questions")
    effective = country_tool.get("effective_from")
    pack_code, pack_version = pack_identity(country_tool, ToolError)
    return Tool(
        country=country,
        sector=str(_require(country_tool, "sector", "country tool")),
        label=str(_require(country_tool, "label", "country tool")),
        effective_from=date.fromisoformat(str(effective)) if effective else None,
        legal_basis=country_tool.get("legal_basis"),
        languages=tuple(country_tool.get("languages") or ("en",)),
        clusters=clusters,
        compliance_points=points,
        questions=questions,
        code=pack_code,
        version=pack_version,
    )


def to_documents(tool: Tool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The global template and country tool documents of a tool (what `parse_tool` reads back unchanged)."""
    global_template = {
        "kind": "cat-global",
        "version": 1,
        "clusters": [
            {
                "code": c.code,
                "name": c.name,
                "category": c.category,
                "compliance_points": [
                    {"code": cp, "name": tool.compliance_points[cp].name} for cp in c.compliance_points
                ],
            }
            for c in tool.clusters.values()
        ],
    }
    questions = []
    for q in tool.questions.values():
        entry: dict[str, Any] = {"code": q.code, "compliance_point": q.compliance_point, "text": q.text}
        if q.legal_reference:
            entry["legal_reference"] = q.legal_reference
        if q.tags:
            entry["tags"] = sorted(t.value for t in q.tags)
        if q.zero_tolerance_category:
            entry["zero_tolerance_category"] = q.zero_tolerance_category
        if q.slcp:
            entry["slcp"] = list(q.slcp)
            entry["slcp_confirmed"] = q.slcp_confirmed
        if not q.yes_means_compliant:
            entry["yes_means"] = "non_compliant"
        questions.append(entry)
    country_tool: dict[str, Any] = {
        "kind": "cat-country-tool",
        **({"code": tool.code} if tool.code else {}),
        **({"version": tool.version} if tool.version else {}),
        "country": tool.country,
        "sector": tool.sector,
        "label": tool.label,
        "effective_from": tool.effective_from.isoformat() if tool.effective_from else None,
        "legal_basis": tool.legal_basis,
        "languages": list(tool.languages),
        "questions": questions,
    }
    return global_template, country_tool


class ToolStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


@dataclass(frozen=True)
class ToolVersion:
    """A stored tool version without its documents (what most reads need); `Tool` is its content."""

    id: uuid.UUID
    country: str
    sector: str
    label: str
    status: ToolStatus
    effective_from: date | None
    question_count: int
    created_at: datetime
    created_by: str
    published_at: datetime | None
    published_by: str | None


def draft_version(tool: Tool, *, by: str, now: datetime) -> ToolVersion:
    return ToolVersion(
        id=uuid.uuid4(),
        country=tool.country,
        sector=tool.sector,
        label=tool.label,
        status=ToolStatus.DRAFT,
        effective_from=tool.effective_from,
        question_count=len(tool.questions),
        created_at=now,
        created_by=by,
        published_at=None,
        published_by=None,
    )
