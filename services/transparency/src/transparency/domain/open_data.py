"""The files of a release, as bytes: CSV tables, their Frictionless data package, and the content hash.

Everything here is deterministic (sorted rows, fixed formatting, "\n" line ends, no clock): the same listing and
snapshot give the same bytes, so a rebuilt release has the same hash as the published one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from transparency.domain.disclosure import (
    Cell,
    Contribution,
    DisclosureThresholds,
    k_anonymous,
    make_cell,
    secondary_suppression,
)
from transparency.domain.facts import AssessmentFacts, Snapshot
from transparency.domain.listing import Listing, factory_document, in_period
from transparency.domain.rules import PublicationRuleSet

LICENSE = {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/", "title": "CC BY 4.0"}

FACTORY_FIELDS = [
    ("factory_id", "string"),
    ("name", "string"),
    ("country", "string"),
    ("province", "string"),
    ("sector", "string"),
    ("latest_assessment_id", "string"),
    ("cycle", "integer"),
    ("assessed_on", "date"),
    ("assessments_counted", "integer"),
    ("non_compliant_issues", "integer"),
    ("low_compliance", "boolean"),
    ("compliance_rate", "number"),
]
FINDING_FIELDS = [
    ("factory_id", "string"),
    ("question_code", "string"),
    ("issue", "string"),
    ("cluster", "string"),
    ("compliance_point", "string"),
    ("result", "string"),
    ("remediation", "string"),
    ("reply", "string"),
    ("reply_status", "string"),
]
AGGREGATE_FIELDS = [
    ("year", "integer"),
    ("cluster", "string"),
    ("question_code", "string"),
    ("province", "string"),
    ("factories_assessed", "integer"),
    ("factories_non_compliant", "integer"),
    ("workers_in_non_compliant_factories", "integer"),
    ("status", "string"),
]
MICRODATA_FIELDS = [
    ("year", "integer"),
    ("province", "string"),
    ("size_band", "string"),
    ("sector", "string"),
    ("clusters_non_compliant", "integer"),
    ("issues_non_compliant", "integer"),
]


@dataclass(frozen=True)
class ReleaseFile:
    name: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _csv(fields: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in fields])
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def factories_csv(listing: Listing) -> bytes:
    return _csv(
        FACTORY_FIELDS,
        [
            (
                f.factory_id,
                f.name,
                f.country,
                f.province,
                f.sector,
                f.assessment_id,
                f.cycle,
                f.assessed_on.isoformat(),
                f.assessments_counted,
                f.non_compliant,
                f.low_compliance,
                "" if f.compliance_rate is None else f"{f.compliance_rate:.4f}",
            )
            for f in listing.factories
        ],
    )


def findings_csv(listing: Listing) -> bytes:
    return _csv(
        FINDING_FIELDS,
        [
            (
                f.factory_id,
                i.question_code,
                i.title,
                i.cluster,
                i.compliance_point,
                i.result,
                i.remediation,
                i.reply,
                i.reply_status,
            )
            for f in listing.factories
            for i in f.issues
        ],
    )


def _yearly(snapshot: Snapshot, rules: PublicationRuleSet, listing: Listing) -> dict[tuple[int, Any], AssessmentFacts]:
    """Each factory's latest assessment per year in the country, up to the cut-off (all factories, named or not)."""
    found: dict[tuple[int, Any], AssessmentFacts] = {}
    for factory_id, assessments in snapshot.assessments_of().items():
        factory = snapshot.factories.get(factory_id)
        if factory is None or factory.country != listing.country or factory.merged_into is not None:
            continue
        for a in assessments:
            if in_period(rules, a.assessed_on, listing.cut_off):
                found[(a.assessed_on.year, factory_id)] = a  # oldest first, so the year's latest wins
    return found


def aggregate_cells(
    snapshot: Snapshot, rules: PublicationRuleSet, listing: Listing, t: DisclosureThresholds
) -> list[Cell]:
    """Non-compliance per year and cluster (with a breakdown by province) and per year and issue."""
    contributions: dict[tuple[tuple[str, ...], str], list[Contribution]] = defaultdict(list)
    selects = rules.issues.selects
    for (year, factory_id), a in _yearly(snapshot, rules, listing).items():
        factory = snapshot.factories[factory_id]
        workers = factory.workers_total or 0
        province = factory.province or "unknown"
        yes, no = Contribution(True, workers), Contribution(False, workers)  # immutable: shared by every cell
        by_cluster: dict[str, bool] = {}
        label = str(year)
        for code, o in a.results.items():
            if o.result == "not_applicable":
                continue
            bad = o.result == "non_compliant"
            by_cluster[o.cluster] = by_cluster.get(o.cluster, False) or bad
            if selects(code, o.publicly_reported):
                contributions[((label, "", code), "")].append(yes if bad else no)
        for cluster, non_compliant in by_cluster.items():
            row = (label, cluster, "")
            contributions[(row, "")].append(yes if non_compliant else no)
            contributions[(row, province)].append(yes if non_compliant else no)
    cells = [make_cell(row, column, found, t) for (row, column), found in contributions.items()]
    return secondary_suppression(cells)


def aggregates_csv(cells: Sequence[Cell]) -> bytes:
    rows = []
    for c in cells:
        year, cluster, code = c.row
        shown = (c.assessed, c.non_compliant, c.workers_non_compliant) if c.published else (None, None, None)
        rows.append((year, cluster, code, c.column, *shown, c.status))
    return _csv(AGGREGATE_FIELDS, rows)


def microdata_rows(
    snapshot: Snapshot, rules: PublicationRuleSet, listing: Listing, t: DisclosureThresholds
) -> list[dict[str, str]]:
    """One row per factory and year, without any identifier, k-anonymous on the quasi-identifiers."""
    rows = []
    for (year, factory_id), a in _yearly(snapshot, rules, listing).items():
        factory = snapshot.factories[factory_id]
        clusters = {o.cluster for o in a.results.values() if o.result == "non_compliant"}
        issues = [
            c
            for c, o in a.results.items()
            if o.result == "non_compliant" and rules.issues.selects(c, o.publicly_reported)
        ]
        rows.append(
            {
                "year": str(year),
                "province": factory.province or "unknown",
                "size_band": t.size_band(factory.workers_total),
                "sector": factory.sector or "unknown",
                "clusters_non_compliant": str(len(clusters)),
                "issues_non_compliant": str(len(issues)),
            }
        )
    safe = k_anonymous(rows, t)
    return sorted(safe, key=lambda r: tuple(r[name] for name, _ in MICRODATA_FIELDS))


def microdata_csv(rows: Sequence[dict[str, str]]) -> bytes:
    return _csv(MICRODATA_FIELDS, [tuple(r[name] for name, _ in MICRODATA_FIELDS) for r in rows])


def _resource(
    name: str, title: str, fields: Sequence[tuple[str, str]], content: bytes, **schema: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "path": f"{name}.csv",
        "title": title,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": len(content),
        "hash": f"sha256:{hashlib.sha256(content).hexdigest()}",
        "schema": {"fields": [{"name": n, "type": t} for n, t in fields], **schema},
    }


def datapackage(listing: Listing, rules: PublicationRuleSet, tables: dict[str, bytes]) -> bytes:
    """The Frictionless Data Package (tabular profile) describing the CSV files; keys sorted, no clock."""
    name = f"betterwork-{listing.country.lower()}-{listing.cut_off.isoformat()}"
    package = {
        "profile": "tabular-data-package",
        "name": name,
        "title": f"Better Work public reporting, {listing.country}, data up to {listing.cut_off.isoformat()}",
        "description": f"Published under the rule set {rules.title} ({rules.key}).",
        "version": listing.cut_off.isoformat(),
        "licenses": [LICENSE],
        "keywords": ["labour compliance", "factories", listing.country],
        "resources": [
            _resource(
                "factories",
                "Factories named under the rule set",
                FACTORY_FIELDS,
                tables["factories"],
                primaryKey=["factory_id"],
            ),
            _resource(
                "findings",
                "Findings on the published issues, with the factory's public reply",
                FINDING_FIELDS,
                tables["findings"],
                primaryKey=["factory_id", "question_code"],
                foreignKeys=[
                    {"fields": ["factory_id"], "reference": {"resource": "factories", "fields": ["factory_id"]}}
                ],
            ),
            _resource(
                "aggregates",
                "Non-compliance per year, cluster, province and issue, under disclosure control",
                AGGREGATE_FIELDS,
                tables["aggregates"],
                primaryKey=["year", "cluster", "question_code", "province"],
            ),
            _resource(
                "microdata",
                "Anonymised factory-year records for research (k-anonymous)",
                MICRODATA_FIELDS,
                tables["microdata"],
            ),
        ],
    }
    return (json.dumps(package, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def factories_json(listing: Listing) -> bytes:
    """The listed factories as the API serves them, one document each, in factory id order."""
    documents = [factory_document(f) for f in listing.factories]
    # one document per line, compact: the C encoder (an indent would fall back to the pure-Python one)
    lines = [json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":")) for d in documents]
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8")


def release_files(
    snapshot: Snapshot, rules: PublicationRuleSet, listing: Listing, t: DisclosureThresholds
) -> list[ReleaseFile]:
    tables = {
        "factories": factories_csv(listing),
        "findings": findings_csv(listing),
        "aggregates": aggregates_csv(aggregate_cells(snapshot, rules, listing, t)),
        "microdata": microdata_csv(microdata_rows(snapshot, rules, listing, t)),
    }
    files = [ReleaseFile(f"{name}.csv", "text/csv; charset=utf-8", content) for name, content in tables.items()]
    files.append(ReleaseFile("datapackage.json", "application/json", datapackage(listing, rules, tables)))
    files.append(ReleaseFile("factories.json", "application/json", factories_json(listing)))
    return sorted(files, key=lambda f: f.name)


def content_hash(files: Sequence[ReleaseFile]) -> str:
    """sha256 over each file's name and sha256, in name order: one value that changes if any byte does."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f"{f.name}\0{f.sha256}\n".encode())
    return digest.hexdigest()
